// Every policy the Keelson pack ships, in report order.
import { Policies } from "@pulumi/policy";
import { awsPolicies } from "./aws";
import { kubernetesPolicies } from "./kubernetes";

/** The Keelson policies: Kubernetes workload rules, then AWS rules. */
export const policies: Policies = [...kubernetesPolicies, ...awsPolicies];
