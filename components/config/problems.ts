// Config problems: each names the key, the value and the fix, and all are reported at once.
import { Problem } from "../core/problems";

export { ConfigError, didYouMean, editDistance, show } from "../core/problems";

/** One problem in the stage config. */
export type ConfigProblem = Problem;
