// The plan's shapes live in components/core/graph.ts (the score and the policy pack read them too).
export * from "../../components/core/graph";
