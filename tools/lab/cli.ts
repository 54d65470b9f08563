// `npm run lab [-- --json] [--scenario NAME ...] [--list] [--keep]`: boots the plan's nodes for real
// (tools/lab/README.md). Builds or reuses the Debian 13 image on the host network, then re-runs itself
// inside a fresh network namespace (the lab's hub), so nothing it creates is visible outside.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { reapStale } from "./lab";
import { ensureLabRootfs } from "./rootfs";
import { SCENARIOS, runScenarios, ScenarioResult, renderTable } from "./scenarios";

interface Args {
    json: boolean;
    scenarios: string[];
    list: boolean;
    keep: boolean;
}

function parse(argv: string[]): Args {
    const a: Args = { json: false, scenarios: [], list: false, keep: false };
    for (let i = 0; i < argv.length; i++) {
        if (argv[i] === "--json") a.json = true;
        else if (argv[i] === "--list") a.list = true;
        else if (argv[i] === "--keep") a.keep = true;
        else if (argv[i] === "--scenario") a.scenarios.push(...(argv[++i] ?? "").split(","));
        else
            throw new Error(
                `lab: unknown argument ${argv[i]}; usage: npm run lab -- [--json] [--scenario NAME[,NAME]] [--list] [--keep]`,
            );
    }
    const unknown = a.scenarios.filter((s) => !SCENARIOS.some((x) => x.name === s));
    if (unknown.length)
        throw new Error(
            `lab: unknown scenario ${unknown.join(", ")}; known: ${SCENARIOS.map((s) => s.name).join(", ")}`,
        );
    return a;
}

async function inHub(args: Args): Promise<number> {
    const img = ensureLabRootfs();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "keelson-lab-"));
    const selected = args.scenarios.length
        ? SCENARIOS.filter((s) => args.scenarios.includes(s.name))
        : SCENARIOS;
    const log = (l: string) => {
        if (!args.json) console.error(l);
    };
    let results: ScenarioResult[];
    try {
        results = await runScenarios(selected, { img, dir, log, keep: args.keep });
    } finally {
        if (!args.keep) fs.rmSync(dir, { recursive: true, force: true });
    }
    if (args.json) console.log(JSON.stringify({ image: img.dir, scenarios: results }, null, 2));
    else console.log(renderTable(results));
    return results.every((r) => r.verdict === "pass" || r.verdict === "known-failure") ? 0 : 1;
}

function main(): void {
    let args: Args;
    try {
        args = parse(process.argv.slice(2));
    } catch (e) {
        console.error((e as Error).message);
        process.exit(2);
    }
    if (args.list) {
        for (const s of SCENARIOS) console.log(`${s.name}\t${s.stage}\t${s.description}`);
        return;
    }
    const missing = [
        "ip",
        "unshare",
        "nsenter",
        "openssl",
        "gpg",
        "dpkg-deb",
        "dpkg-scanpackages",
        "chroot",
    ].filter(
        (t) =>
            spawnSync("sh", ["-c", `command -v ${t}`], {
                env: { PATH: `${process.env.PATH}:/usr/sbin:/sbin` },
            }).status !== 0,
    );
    if (missing.length) {
        console.error(`lab: missing tools: ${missing.join(", ")} (.ci/run installs them)`);
        process.exit(2);
    }
    if (process.getuid?.() !== 0) {
        console.error("lab: needs root (namespaces, overlayfs, chroot)");
        process.exit(2);
    }
    if (process.env.KEELSON_LAB_HUB !== "1") {
        reapStale((l) => console.error(l));
        ensureLabRootfs((l) => console.error(l)); // on the host network: debootstrap reaches the mirror
        const r = spawnSync(
            "unshare",
            [
                "--net",
                "--",
                process.execPath,
                "-r",
                "ts-node/register/transpile-only",
                __filename,
                ...process.argv.slice(2),
            ],
            {
                stdio: "inherit",
                env: { ...process.env, KEELSON_LAB_HUB: "1" },
            },
        );
        process.exit(r.status ?? 1);
    }
    inHub(args).then(
        (code) => process.exit(code),
        (err) => {
            console.error(`lab: ${(err as Error).stack ?? err}`);
            process.exit(1);
        },
    );
}

main();
