// Real MaxMind DB files for tests, written by MaxMind's own writer (Debian's libmaxmind-db-writer-perl), and
// libmaxminddb's `mmdblookup` as the reference reader. A missing tool fails the test that needs it, loudly.

import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const WRITER = fileURLToPath(new URL("./write-mmdb.pl", import.meta.url));

export interface MmdbSpec {
  readonly ip_version?: 4 | 6;
  readonly record_size?: 24 | 28 | 32;
  readonly database_type?: string;
  /** Alias ::ffff:0:0/96 and 2002::/16 to the IPv4 tree, as GeoLite2 does. */
  readonly alias?: 0 | 1;
  /** Map keys' types where they differ from GeoLite2's (IPinfo's `country` is a string). */
  readonly types?: Record<string, string>;
  readonly networks: readonly (readonly [string, Record<string, unknown>])[];
}

/** Writes `spec` as a .mmdb file at `out`. */
export function writeMmdb(out: string, spec: MmdbSpec): void {
  try {
    execFileSync("perl", [WRITER, out], { input: JSON.stringify(spec), stdio: ["pipe", "pipe", "pipe"] });
  } catch (e) {
    const err = e as { stderr?: Buffer };
    throw new Error(
      `cannot write ${out} with MaxMind::DB::Writer (apt-get install libmaxmind-db-writer-perl): ${err.stderr?.toString() ?? String(e)}`,
      { cause: e },
    );
  }
}

/**
 * The country code libmaxminddb reads for `address` (`country.iso_code`, else `registered_country.iso_code`),
 * lower case, or null when the database holds no network for it or the record names none.
 */
export function referenceCountry(file: string, address: string): string | null {
  for (const path of [
    ["country", "iso_code"],
    ["registered_country", "iso_code"],
  ]) {
    let out: string;
    try {
      out = execFileSync("mmdblookup", ["-f", file, "-i", address, ...path], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
      });
    } catch (e) {
      const err = e as { code?: string; status?: number; stdout?: string };
      if (err.code === "ENOENT")
        throw new Error("mmdblookup is missing (apt-get install mmdb-bin)", { cause: e });
      // 6: no network holds the address; 5: its record has no such path. Anything else is a broken run.
      if (err.status === 5 || err.status === 6) continue;
      throw new Error(`mmdblookup ${file} ${address} failed (status ${err.status})`, { cause: e });
    }
    const m = /"([A-Z]{2})" <utf8_string>/.exec(out);
    if (m) return m[1]!.toLowerCase();
  }
  return null;
}
