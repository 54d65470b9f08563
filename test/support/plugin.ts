// A Pulumi plugin (the policy pack, the component provider) started as the Pulumi CLI starts it: its
// TypeScript entry run by Node with ts-node, in its own folder; it prints the port of its gRPC server.
import { ChildProcess, spawn } from "child_process";
import * as grpc from "@grpc/grpc-js";

/** Starts `dir`'s `index.ts` and resolves with the process and the port it serves on. */
export async function startPlugin(dir: string): Promise<{ child: ChildProcess; port: number }> {
    const child = spawn(
        process.execPath,
        [
            "-e",
            'require("ts-node").register({ project: "tsconfig.json", transpileOnly: true }); require("./index.ts");',
        ],
        { cwd: dir, stdio: ["ignore", "pipe", "pipe"] },
    );
    let err = "";
    child.stderr?.on("data", (d) => (err += d.toString()));
    const port = await new Promise<number>((resolve, reject) => {
        let out = "";
        child.stdout?.on("data", (d) => {
            out += d.toString();
            const m = /^(\d+)\s*$/m.exec(out);
            if (m) resolve(Number(m[1]));
        });
        child.once("exit", (code) => reject(new Error(`${dir} exited with ${code}: ${err}`)));
    });
    return { child, port };
}

/** One unary gRPC call as a promise. */
export function call<Req, Res>(
    fn: (req: Req, cb: (err: grpc.ServiceError | null, res: Res) => void) => unknown,
    req: Req,
): Promise<Res> {
    return new Promise((resolve, reject) => fn(req, (err, res) => (err ? reject(err) : resolve(res))));
}
