// The StackScore as a stack policy, so that `pulumi preview --policy-pack policy` can enforce a
// minimum grade with the real engine's graph, as the offline plan does with score.minimumGrade.
import { PolicyConfigSchema, StackValidationPolicy } from "@pulumi/policy";
import { minimumGradeError, scorePlan } from "../../components/score";
import { Grade, GRADES } from "../../components/score/types";
import { asPlanResources, configWithDefaults } from "./util";

/** Config of {@link stackScore}. */
export interface StackScoreConfig {
    minimumGrade: Grade;
}

const schema: PolicyConfigSchema = {
    properties: {
        minimumGrade: {
            type: "string",
            enum: [...GRADES],
            default: "F",
            description: "Fail when the overall StackScore is below this grade (F never fails).",
        },
    },
};

/** Fails when the stack's StackScore is below the configured minimum grade (default F: never). */
export const stackScore: StackValidationPolicy = {
    name: "keelson-stackscore",
    description:
        "The stack's StackScore (availability, security, recoverability, capacity, operability) meets the minimum grade.",
    enforcementLevel: "mandatory",
    severity: "medium",
    configSchema: schema,
    validateStack: (args, report) => {
        const resources = asPlanResources(args.resources);
        const error = minimumGradeError(
            scorePlan(resources),
            configWithDefaults<StackScoreConfig>(args, { minimumGrade: "F" }).minimumGrade,
        );
        if (error) report(error);
    },
};
