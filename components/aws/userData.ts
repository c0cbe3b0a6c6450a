// EC2's user data: at most 16 KiB, gzipped then base64 in userDataBase64 (cloud-init unpacks gzip).
import { gunzipSync, gzipSync } from "node:zlib";

/** EC2 takes at most 16 KiB of user data (before base64). */
export const EC2_USER_DATA_LIMIT = 16 * 1024;

/**
 * The user data gzipped, then base64 (EC2's userDataBase64): cloud-init recognises gzip and
 * unpacks it. The scripts alone exceed EC2's 16 KiB; compressed, the whole document is
 * about a third of that. gzip output here carries no timestamp, so it is deterministic.
 */
export function gzipUserData(userData: string): string {
  const packed = gzipSync(Buffer.from(userData, "utf8"), { level: 9 });
  if (packed.length > EC2_USER_DATA_LIMIT) throw new Error(`user data is ${packed.length} bytes gzipped, over EC2's ${EC2_USER_DATA_LIMIT}`);
  return packed.toString("base64");
}

/** The inverse of gzipUserData, for tests and for reading an instance's user data back. */
export const gunzipUserData = (base64: string): string => gunzipSync(Buffer.from(base64, "base64")).toString("utf8");
