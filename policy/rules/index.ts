// Every policy the Keelson pack ships, in report order.
import { Policies } from "@pulumi/policy";
import { awsPolicies } from "./aws";
import { kubernetesPolicies } from "./kubernetes";
import { stackScore } from "./stackscore";

/** The Keelson policies: Kubernetes workload rules, AWS rules, then the StackScore gate. */
export const policies: Policies = [...kubernetesPolicies, ...awsPolicies, stackScore];
