// The components the provider serves, by schema token `keelson:index:<name>`: Network as it is, and Cluster
// through ./cluster.ts (the TypeScript Cluster's args, its results as plain outputs: the TypeScript
// component's Kubernetes provider and readiness gate have no schema type). Edge takes routes as a union type
// and Application takes services as typed TypeScript references: those stay TypeScript-only until their
// surfaces are reshaped.
import { Network } from "../components";
import { Cluster } from "./cluster";

/** Every component the provider serves. */
export const PROVIDER_COMPONENTS = [Network, Cluster] as const;
