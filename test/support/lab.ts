// Support for tests that need the boot lab's Debian 13 image (tools/lab/rootfs.ts).
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { LabRootfs, labRootfsPaths, labRootfsReady } from "../../tools/lab/rootfs";
import { inCI } from "./live";

/** Path of cloud-init's JSON schema inside a rootfs. */
export const CLOUD_INIT_SCHEMA =
    "usr/lib/python3/dist-packages/cloudinit/config/schemas/schema-cloud-config-v1.json";

/**
 * The built lab image. Outside CI a missing image skips the calling suite (build it with
 * `npx ts-node --transpile-only tools/lab/rootfs.ts`); with CI=true it throws (.ci/run builds it first).
 */
export function requireLabRootfs(ctx: Mocha.Context): LabRootfs {
    if (labRootfsReady()) return labRootfsPaths();
    const hint =
        "build it with `npx ts-node --transpile-only tools/lab/rootfs.ts` (needs root and debootstrap)";
    if (inCI)
        throw new Error(
            `the lab's Debian 13 image ${labRootfsPaths().dir} is missing: ${hint}; .ci/run does`,
        );
    console.log(`      (skipped: the lab's Debian 13 image is not built; ${hint})`);
    ctx.skip();
}

/**
 * Validates each document with the Debian 13 cloud-init's own validator, the function behind
 * `cloud-init schema -c` (`validate_cloudconfig_file` with `get_schema()`), in one process; returns
 * "Valid schema <file>" or cloud-init's error text per label. The files are copied into a temporary
 * directory inside the image and removed afterwards.
 */
export function debianCloudInitSchema(
    img: LabRootfs,
    docs: { label: string; text: string }[],
): Map<string, string> {
    const dir = fs.mkdtempSync(path.join(img.tools, "tmp", "keelson-schema-"));
    const inside = "/" + path.relative(img.tools, dir);
    const script = [
        "import json, sys",
        "from cloudinit.config.schema import get_schema, validate_cloudconfig_file, SchemaValidationError",
        "schema = get_schema()",
        "out = {}",
        "for label in json.load(sys.stdin):",
        "    f = f'" + inside + "/{label}.yaml'",
        "    try:",
        "        validate_cloudconfig_file(f, schema)",
        "        out[label] = 'Valid schema <file>'",
        "    except SchemaValidationError as e:",
        "        out[label] = str(e).replace(f, '<file>')",
        "    except Exception as e:",
        "        out[label] = f'{type(e).__name__}: {e}'.replace(f, '<file>')",
        "print(json.dumps(out))",
    ].join("\n");
    try {
        for (const { label, text } of docs) fs.writeFileSync(path.join(dir, `${label}.yaml`), text);
        const stdout = execFileSync("chroot", [img.tools, "python3", "-c", script], {
            input: JSON.stringify(docs.map((d) => d.label)),
            encoding: "utf8",
            stdio: "pipe",
            env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", LANG: "C.UTF-8" },
        });
        return new Map(Object.entries(JSON.parse(stdout) as Record<string, string>));
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
