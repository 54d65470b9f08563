// Config problems: each names the key, the value and the fix, and all are reported at once.
import { Problem, ValidationError } from "../core/problems";

export { didYouMean, editDistance, show } from "../core/problems";

/** One problem in the stage config. */
export type ConfigProblem = Problem;

/**
 * Thrown before any resource is registered when the stage config has problems. A
 * `pulumi.RunError` (through {@link ValidationError}): `pulumi up` prints the problems, no stack trace.
 */
export class ConfigError extends ValidationError {
    constructor(
        readonly stage: string,
        problems: readonly ConfigProblem[],
    ) {
        super(`stage ${stage}`, problems);
        this.name = "ConfigError";
        this.message =
            `stage ${stage}: ${problems.length} config problem${problems.length === 1 ? "" : "s"}; ` +
            `nothing was created:\n${problems.map((p) => `  - ${p.message}`).join("\n")}`;
    }
}
