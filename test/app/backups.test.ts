import * as assert from "node:assert/strict";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { UPLOAD_DUMP_SCRIPT } from "../../components/app/backups";
import { planApplication } from "../../components/app/plan";
import { Manifest } from "../../components/app/render/meta";
import { container, fileStore, mysql, postgres } from "../../components/app/services";
import { validateApplication } from "../../components/app/validate";
import { requireTool, tempDir } from "../support/live";
import { validateManifest } from "./support/schema";

type Obj = Record<string, unknown>;
const files = fileStore("files");
const db = postgres("db", { backup: { to: files } });
const sql = mysql("sql", { backup: { to: files, schedule: "0 3 * * *" } });
const web = container("web", {
    image: "ghcr.io/stefanprodan/podinfo:6.9.2",
    port: 3000,
    connects: [db, sql],
});
const def = { name: "shop", namespace: "shop", services: [web] };
const plan = planApplication(def);
const get = (key: string): Manifest => plan.objects.find((o) => o.key === key)!.manifest;
const jobPod = (key: string) =>
    (get(key).spec as { jobTemplate: { spec: { template: { spec: Obj } } } }).jobTemplate.spec.template
        .spec as {
        initContainers: Obj[];
        containers: Obj[];
    };

describe("app/backups: scheduled dumps of SQL databases to a file store", () => {
    it("adds a <db>-backup CronJob per database with backup, valid against the schema", () => {
        assert.deepEqual(validateApplication(def), []);
        assert.deepEqual(
            plan.objects
                .filter((o) => o.manifest.kind === "CronJob")
                .map((o) => [o.key, (o.manifest.spec as Obj).schedule]),
            [
                ["db-backup.cronjob", "17 * * * *"],
                ["sql-backup.cronjob", "0 3 * * *"],
            ],
        );
        validateManifest(get("db-backup.cronjob"), "db-backup");
        validateManifest(get("sql-backup.cronjob"), "sql-backup");
        assert.deepEqual(plan.objects.find((o) => o.key === "db-backup.cronjob")!.dependsOn, [
            "namespace",
            "db.statefulset",
            "files.secret",
        ]);
    });

    it("waits for the database, dumps with its own image, and uploads with the store's credentials", () => {
        const pod = jobPod("db-backup.cronjob");
        assert.deepEqual(
            pod.initContainers.map((c) => [c.name, c.image]),
            [
                ["wait-for-db", "busybox:1.37.0"],
                ["dump", "postgres:17.6"],
            ],
        );
        assert.deepEqual(pod.initContainers[1].command, [
            "sh",
            "-c",
            'set -eu\nPGPASSWORD="$DB_PASSWORD" pg_dump -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" -d "$DB_NAME" -Fc -f /backup/dump',
        ]);
        assert.deepEqual(pod.initContainers[1].env, pod.containers[0].env);
        assert.deepEqual(pod.initContainers[1].securityContext, {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            runAsNonRoot: true,
            capabilities: { drop: ["ALL"] },
            runAsUser: 999,
        });
        assert.equal(
            pod.containers[0].image,
            "amazon/aws-cli:2.27.50@sha256:48c3d4212e2f5b0e24bdc6af7708f9412ce65425a79575e0f78b8f8c0dcd70ab",
        );
        assert.deepEqual(
            (pod.containers[0].env as { name: string; value?: string }[]).map((e) => e.name),
            [
                "DB_SERVICE",
                "HOME",
                "DB_HOST",
                "DB_PORT",
                "DB_NAME",
                "DB_USER",
                "DB_PASSWORD",
                "DB_URL",
                "STORE_BUCKET",
                "STORE_REGION",
                "STORE_ACCESS_KEY_ID",
                "STORE_SECRET_ACCESS_KEY",
                "STORE_URL",
            ],
        );
        assert.equal((jobPod("sql-backup.cronjob").initContainers[1] as Obj).image, "mysql:8.4.6");
    });

    it("opens exactly the backup job's paths: to the database and to S3 on 443", () => {
        const names = plan.objects
            .filter((o) => o.key.startsWith("netpol.") && o.key.includes("backup"))
            .map((o) => o.key);
        assert.deepEqual(names, [
            "netpol.db-from-db-backup",
            "netpol.db-backup-to-db",
            "netpol.db-backup-to-files",
            "netpol.sql-from-sql-backup",
            "netpol.sql-backup-to-sql",
            "netpol.sql-backup-to-files",
        ]);
    });

    /** Runs the upload script with a fake `aws` (a sh script body) and the given variables; its output. */
    const upload = (ctx: Mocha.Context, fakeAws: string, env: Record<string, string>) => {
        requireTool(ctx, "sh");
        const { dir, cleanup } = tempDir("dump");
        try {
            fs.writeFileSync(path.join(dir, "aws"), `#!/bin/sh\n${fakeAws}\n`, { mode: 0o755 });
            return execFileSync("sh", ["-c", UPLOAD_DUMP_SCRIPT], {
                env: {
                    PATH: `${dir}:/usr/bin:/bin`,
                    DB_SERVICE: "db",
                    STORE_BUCKET: "bucket",
                    STORE_REGION: "eu-west-1",
                    ...env,
                },
                encoding: "utf8",
            });
        } finally {
            cleanup();
        }
    };

    it("uploads under backups/<db>/ with the store's keys (script run with a fake aws)", function () {
        const out = upload(this, 'echo "$AWS_ACCESS_KEY_ID $AWS_REGION $*"', {
            STORE_ACCESS_KEY_ID: "AKIAEXAMPLE",
            STORE_SECRET_ACCESS_KEY: "x",
        });
        assert.match(
            out,
            /^AKIAEXAMPLE eu-west-1 s3 cp \/backup\/dump s3:\/\/bucket\/backups\/db\/\d{8}T\d{6}Z\.dump --sse AES256 --only-show-errors\nuploaded backups\/db\/\d{8}T\d{6}Z\.dump\n$/,
        );
    });

    it("uploads with the job's own role when the store hands out no key (script run with a fake aws)", function () {
        const out = upload(
            this,
            'echo "key=${AWS_ACCESS_KEY_ID:-none} role=$AWS_ROLE_ARN $AWS_REGION $1 $2"',
            {
                AWS_ROLE_ARN: "arn:aws:iam::123456789012:role/shop-db-backup-role-0000000",
                AWS_WEB_IDENTITY_TOKEN_FILE: "/var/run/secrets/sts.amazonaws.com/serviceaccount/token",
            },
        );
        assert.match(
            out,
            /^key=none role=arn:aws:iam::123456789012:role\/shop-db-backup-role-0000000 eu-west-1 s3 cp\nuploaded backups\/db\/\d{8}T\d{6}Z\.dump\n$/,
        );
    });

    it("keeps the upload, dump and wait-for scripts clean under shellcheck", function () {
        const shellcheck = requireTool(this, "shellcheck");
        const scripts = [
            UPLOAD_DUMP_SCRIPT,
            ...["db-backup.cronjob", "sql-backup.cronjob"].flatMap((k) =>
                jobPod(k).initContainers.map((c) => (c.command as string[])[2]),
            ),
        ];
        assert.equal(scripts.length, 5);
        for (const script of scripts)
            execFileSync(shellcheck, ["-s", "sh", "-"], { input: `#!/bin/sh\n${script}\n` });
    });

    it("rejects a backup target that is not a file store", () => {
        const cache = postgres("cache-db", { backup: { to: postgres("other") as never } });
        assert.deepEqual(
            validateApplication({ name: "shop", namespace: "shop", services: [cache] }).map((p) => p.message),
            [
                'services.cache-db.backup.to: postgres "other" is not a file store; pass the service made by fileStore()',
            ],
        );
    });
});
