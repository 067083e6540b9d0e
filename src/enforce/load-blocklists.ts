// The configured blocklists read for a policy: address files (VoIPBL's format, plain lists) and autonomous
// systems out of an ASN database (GeoLite2-ASN, DB-IP, IPinfo `.mmdb`). A list that cannot be read is left
// empty with a problem to report; the others still load.

import { readFile } from "node:fs/promises";
import { errorCode } from "../domain/errors.js";
import { parseBlocklist, type BlocklistProblem, type ReadText } from "./blocklist-file.js";
import { databaseAsns } from "./geoip/asns.js";
import { readBytesFromDisk, readDatabase, type DatabaseInfo, type ReadBytes } from "./geoip/read-database.js";

export interface BlocklistSource {
  readonly name: string;
  readonly file: string;
  /** AS numbers (decimal text): `file` is an ASN database and the list is their networks. */
  readonly asns?: readonly string[] | null;
}

export interface LoadedBlocklists {
  /** Entries by blocklist name; a file that cannot be read contributes none. */
  readonly entries: ReadonlyMap<string, readonly string[]>;
  readonly problems: readonly BlocklistProblem[];
  /** The ASN databases read, by blocklist name. */
  readonly databases: ReadonlyMap<string, DatabaseInfo>;
}

const problem = (file: string, message: string): BlocklistProblem => ({ file, line: 0, text: "", message });

/** Reads every configured list; an unreadable file is a problem at line 0 (a feed not fetched yet). */
export async function loadBlocklists(
  lists: readonly BlocklistSource[],
  read: ReadText = (f) => readFile(f, "utf8"),
  readBytes: ReadBytes = readBytesFromDisk,
): Promise<LoadedBlocklists> {
  const entries = new Map<string, readonly string[]>();
  const problems: BlocklistProblem[] = [];
  const databases = new Map<string, DatabaseInfo>();
  for (const l of lists) {
    entries.set(l.name, []);
    if (l.asns) {
      const asns = new Set(l.asns);
      const got = await readDatabase(l.file, (db) => databaseAsns(db, asns), readBytes);
      if ("problem" in got) {
        problems.push(problem(l.file, `${got.problem}; list left empty`));
        continue;
      }
      databases.set(l.name, got.info);
      const missing = l.asns.filter((a) => (got.networks.get(a)?.length ?? 0) === 0);
      if (missing.length > 0)
        problems.push(
          problem(l.file, `no network of ${missing.map((a) => `AS${a}`).join(", ")} in this database`),
        );
      entries.set(l.name, [...got.networks.values()].flat());
      continue;
    }
    let text: string;
    try {
      text = await read(l.file);
    } catch (e) {
      problems.push(problem(l.file, `cannot read (${errorCode(e)}); list left empty`));
      continue;
    }
    const parsed = parseBlocklist(text, l.file);
    entries.set(l.name, parsed.entries);
    problems.push(...parsed.problems);
  }
  return { entries, problems, databases };
}
