// Logical backups of SQL databases: each `postgres`/`mysql` with `backup` gets a CronJob service
// `<name>-backup` that depends on the database and the file store like any other service (so it gets their
// connection variables, a wait-for initContainer and NetworkPolicy paths), plus a dump initContainer.
import { AWS_CLI_IMAGE } from "../core/images";
import { orderServices, ServiceOrder } from "./graph";
import { ENGINES } from "./render/engines";
import { containerSecurityContext, volumeName } from "./render/pod";
import { cronJob } from "./services";
import { Service, SqlArgs } from "./types";

/** Default schedule of database dumps: hourly, off the top of the hour. */
export const DEFAULT_BACKUP_SCHEDULE = "17 * * * *";

/** Where the dump is written and read: a generic ephemeral volume (its own EBS volume, deleted with the
 * pod) sized to the database, never the node's root disk. */
export const DUMP_DIR = "/backup";

/** The prefix of a database's dumps in its file store: `backups/<db>/`. */
export function backupPrefix(db: string): string {
    return `backups/${db}/`;
}

/**
 * Uploads the dump to the file store (the STORE_* connection variables): with the store's access key when
 * the job has one, else with the job's own role (AWS_ROLE_ARN and the projected token, which the AWS CLI
 * reads by itself).
 */
export const UPLOAD_DUMP_SCRIPT = [
    "set -eu",
    'if [ -n "${STORE_ACCESS_KEY_ID:-}" ]; then export AWS_ACCESS_KEY_ID="$STORE_ACCESS_KEY_ID" AWS_SECRET_ACCESS_KEY="$STORE_SECRET_ACCESS_KEY"; fi',
    'export AWS_REGION="$STORE_REGION"',
    'key="backups/${DB_SERVICE}/$(date -u +%Y%m%dT%H%M%SZ).dump"',
    'aws s3 cp /backup/dump "s3://${STORE_BUCKET}/${key}" --sse AES256 --only-show-errors',
    'echo "uploaded ${key}"',
].join("\n");

/** The dump command per engine. */
// Each dump reads the DB_* connection variables the backup service gets from its edge to the database.
export const DUMP_COMMANDS: Record<"postgres" | "mysql", string> = {
    postgres:
        'PGPASSWORD="$DB_PASSWORD" pg_dump -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" -d "$DB_NAME" -Fc -f /backup/dump',
    mysql: 'MYSQL_PWD="$DB_PASSWORD" mysqldump --single-transaction --no-tablespaces -h "$DB_HOST" -P "$DB_PORT" -u "$DB_USER" "$DB_NAME" > /backup/dump',
};

const dumps = new WeakMap<Service, Record<string, unknown>>();
const scratch = new WeakMap<Service, number>();
const targets = new WeakMap<Service, { store: Service; prefix: string }>();

/** GiB of the dump volume of a backup service (the database's storage), or undefined. */
export function dumpVolumeGb(s: Service): number | undefined {
    return scratch.get(s);
}

/**
 * What a backup service writes: its file store and the prefix its dumps go under, or undefined for any
 * other service. Its role may only put objects there.
 */
export function backupTarget(s: Service): { readonly store: Service; readonly prefix: string } | undefined {
    return targets.get(s);
}

/** The dump initContainer (without env: it gets the job's env) of a backup service, or undefined. */
export function dumpContainer(s: Service): Record<string, unknown> | undefined {
    return dumps.get(s);
}

/**
 * The backup CronJob services of the given services (one per SQL database with `backup`), created once
 * per database and remembered, so validation and planning see the same objects.
 */
export function backupServices(services: readonly Service[]): Service[] {
    const out: Service[] = [];
    for (const db of services) {
        if (db.kind !== "postgres" && db.kind !== "mysql") continue;
        const backup = (db.args as SqlArgs).backup;
        if (!backup) continue;
        let job = cache.get(db);
        if (!job) {
            job = cronJob(`${db.name}-backup`, {
                image: AWS_CLI_IMAGE,
                schedule: backup.schedule ?? DEFAULT_BACKUP_SCHEDULE,
                ...(backup.activeDeadlineSeconds
                    ? { activeDeadlineSeconds: backup.activeDeadlineSeconds }
                    : {}),
                command: ["/bin/sh", "-c", UPLOAD_DUMP_SCRIPT],
                env: { DB_SERVICE: db.name, HOME: "/tmp" },

                connects: [
                    { to: db, as: "DB" },
                    { to: backup.to, as: "STORE" },
                ],
            });
            // The dump runs in the database's own image, which carries the matching client.
            const image = (db.args as SqlArgs).image ?? ENGINES[db.kind].image;
            dumps.set(job, {
                name: "dump",
                image,
                command: ["sh", "-c", `set -eu\n${DUMP_COMMANDS[db.kind]}`],
                resources: {
                    requests: { cpu: "100m", memory: "128Mi" },
                    limits: { cpu: "1", memory: "512Mi" },
                },
                // The image's own user: the client tools expect a passwd entry.
                securityContext: { ...containerSecurityContext(true), runAsUser: ENGINES[db.kind].uid },
                volumeMounts: [
                    { name: volumeName(DUMP_DIR), mountPath: DUMP_DIR },
                    { name: volumeName("/tmp"), mountPath: "/tmp" },
                ],
            });
            scratch.set(job, (db.args as SqlArgs).storageGb ?? 10);
            targets.set(job, { store: backup.to, prefix: backupPrefix(db.name) });
            cache.set(db, job);
        }
        out.push(job);
    }
    return out;
}

const cache = new WeakMap<Service, Service>();

/** The closure of `services` in dependency order, with the backup CronJob services added after their stores. */
export function expandedOrder(services: readonly Service[]): ServiceOrder {
    const base = orderServices(services);
    if (base.cycle.length > 0) return base;
    const jobs = backupServices(base.ordered);
    return jobs.length === 0 ? base : orderServices([...services, ...jobs]);
}
