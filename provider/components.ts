// The components the provider serves, by schema token `keelson:index:<name>`: Network as it is, Cluster
// through ./cluster.ts (the TypeScript Cluster's args, its results as plain outputs: the TypeScript
// component's Kubernetes provider and readiness gate have no schema type), and Edge through ./edge.ts (routes as
// one flat type, the workers' internal NLB included). Application takes services as typed TypeScript references
// (a graph of objects that refer to each other): it stays TypeScript-only.
import { Network } from "../components";
import { Cluster } from "./cluster";
import { Edge } from "./edge";

/** Every component the provider serves. */
export const PROVIDER_COMPONENTS = [Network, Cluster, Edge] as const;
