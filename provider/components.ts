// The components the provider serves, by schema token `keelson:index:<name>`. Only Network so far: the
// schema is inferred from each component's args and public properties, and Cluster exposes its readiness
// gate (a dynamic resource, which has no schema type), Edge takes routes as a union type, Application takes
// services as typed TypeScript references. Those stay TypeScript-only until their surfaces are reshaped.
import { Network } from "../components";

/** Every component the provider serves. */
export const PROVIDER_COMPONENTS = [Network] as const;
