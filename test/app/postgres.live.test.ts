// Real Postgres (Debian's postgresql package): the role script Keelson mounts into
// /docker-entrypoint-initdb.d makes a non-superuser owner of the database, and the backup job's dump
// command produces a dump that restores into a fresh database.
import * as assert from "node:assert/strict";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DUMP_COMMANDS } from "../../components/app/backups";
import { POSTGRES_APP_ROLE_SCRIPT } from "../../components/app/render/engines";
import { findTool, freePort, inCI } from "../support/live";

/** Debian's server binaries live outside PATH. */
function pgBin(): string | undefined {
    const root = "/usr/lib/postgresql";
    if (!fs.existsSync(root)) return undefined;
    const versions = fs.readdirSync(root).sort((a, b) => Number(b) - Number(a));
    return versions.map((v) => path.join(root, v, "bin")).find((d) => fs.existsSync(path.join(d, "initdb")));
}

describe("app/postgres live: the application role and a dump restored into a fresh database", function () {
    this.timeout(120_000);
    let bin = "";
    let dir = "";
    let port = 0;
    const asPostgres = (cmd: string, args: string[], env: Record<string, string> = {}) =>
        execFileSync(
            "runuser",
            [
                "-u",
                "postgres",
                "--",
                "env",
                ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
                cmd,
                ...args,
            ],
            {
                encoding: "utf8",
                cwd: "/",
            },
        );
    const psql = (user: string, db: string, sql: string, password?: string) =>
        asPostgres(
            path.join(bin, "psql"),
            [
                "-h",
                "127.0.0.1",
                "-p",
                String(port),
                "-U",
                user,
                "-d",
                db,
                "-At",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                sql,
            ],
            password ? { PGPASSWORD: password } : {},
        ).trim();

    before(async function () {
        const found = pgBin();
        if (!found || !findTool("runuser")) {
            if (inCI) throw new Error("postgresql is not installed; .ci/run must install it (CI=true)");
            this.skip();
        }
        bin = found as string;
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "keelson-pg-"));
        fs.chmodSync(dir, 0o755);
        execFileSync("chown", ["postgres:postgres", dir]);
        port = await freePort();
        const data = path.join(dir, "data");
        // Password authentication over TCP, as dependents connect; the superuser keeps its own password.
        fs.writeFileSync(path.join(dir, "pw"), "superpw\n");
        execFileSync("chown", ["postgres:postgres", path.join(dir, "pw")]);
        asPostgres(path.join(bin, "initdb"), [
            "-D",
            data,
            "-U",
            "postgres",
            "--pwfile",
            path.join(dir, "pw"),
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
        ]);
        asPostgres(path.join(bin, "pg_ctl"), [
            "-D",
            data,
            "-w",
            "-o",
            `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`,
            "-l",
            path.join(dir, "log"),
            "start",
        ]);
        // What the official entrypoint does before the init scripts: POSTGRES_DB, then each script with its env.
        psql("postgres", "postgres", "CREATE DATABASE app", "superpw");
        const script = path.join(dir, "10-app-role.sh");
        fs.writeFileSync(script, POSTGRES_APP_ROLE_SCRIPT);
        asPostgres("bash", ["-c", `set -Eeo pipefail; . ${script}`], {
            PGHOST: dir,
            PGPORT: String(port),
            POSTGRES_USER: "postgres",
            POSTGRES_DB: "app",
            APP_USER: "app",
            APP_PASSWORD: "app-pw-1",
        });
    });

    after(() => {
        if (!dir) return;
        try {
            asPostgres(path.join(bin, "pg_ctl"), ["-D", path.join(dir, "data"), "-m", "fast", "stop"]);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("the role handed to dependents is not a superuser, owns the database and logs in with its password", () => {
        assert.equal(
            psql(
                "postgres",
                "app",
                "SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = 'app'",
                "superpw",
            ),
            "f|f|f",
        );
        assert.equal(
            psql(
                "app",
                "app",
                "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'app'",
                "app-pw-1",
            ),
            "app",
        );
        psql("app", "app", "CREATE TABLE orders (id int PRIMARY KEY, item text)", "app-pw-1");
        assert.throws(
            () => psql("app", "app", "CREATE ROLE intruder SUPERUSER", "app-pw-1"),
            /must be superuser to create superusers/,
        );
        assert.throws(() => psql("app", "app", "SELECT 1", "wrong"), /password authentication failed/);
    });

    it("the backup job's dump command restores into a fresh database: rows written before it, none after", () => {
        psql("app", "app", "INSERT INTO orders VALUES (1, 'tea'), (2, 'milk')", "app-pw-1");
        const dump = path.join(dir, "dump");
        // The CronJob's exact command, with the dump file in this test's directory instead of /backup.
        const command = DUMP_COMMANDS.postgres.replace("/backup/dump", dump);
        execFileSync("sh", ["-c", `set -eu\n${command}`], {
            env: {
                ...process.env,
                PATH: `${bin}:${process.env.PATH}`,
                DB_HOST: "127.0.0.1",
                DB_PORT: String(port),
                DB_USER: "app",
                DB_NAME: "app",
                DB_PASSWORD: "app-pw-1",
            },
        });
        psql("app", "app", "INSERT INTO orders VALUES (3, 'late')", "app-pw-1");
        psql("postgres", "postgres", "CREATE DATABASE restored OWNER app", "superpw");
        execFileSync(
            path.join(bin, "pg_restore"),
            ["--no-owner", "-h", "127.0.0.1", "-p", String(port), "-U", "app", "-d", "restored", dump],
            {
                env: { ...process.env, PGPASSWORD: "app-pw-1" },
            },
        );
        assert.equal(
            psql(
                "app",
                "restored",
                "SELECT string_agg(id || ':' || item, ',' ORDER BY id) FROM orders",
                "app-pw-1",
            ),
            "1:tea,2:milk",
        );
    });
});
