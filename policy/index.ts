// The CrossGuard pack entry point: `pulumi preview --policy-pack policy`. Kept apart from the
// rules because constructing a PolicyPack starts the analyzer's gRPC server.
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./rules";

new PolicyPack("keelson", { policies });
