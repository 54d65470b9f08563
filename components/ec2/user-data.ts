import { gzipSync } from "zlib";

/**
 * gzip + base64 for `userDataBase64` (and other text kept small): a master's user-data is ~17 KB, over
 * EC2's 16 KB limit, and cloud-init unpacks gzip itself. Node's gzip header carries no timestamp, so the
 * output is stable and a re-render does not show as a change.
 */
export function compressUserData(userData: string): string {
    return gzipSync(Buffer.from(userData, "utf8"), { level: 9 }).toString("base64");
}
