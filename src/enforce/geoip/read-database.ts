// Reading a `.mmdb` file for the firewall policy: its bytes, its metadata, and the networks grouped as the
// caller asks; a file that cannot be read or is not a database becomes a problem to report, not a throw, so
// a bad download leaves one list empty and never stops an apply.

import { readFile } from "node:fs/promises";
import { errorCode } from "../../domain/errors.js";
import { MmdbFormatError, openMmdb, type Mmdb, type MmdbMetadata } from "./mmdb.js";
import type { GroupedNetworks } from "./networks.js";

export type ReadBytes = (file: string) => Promise<Uint8Array>;

export const readBytesFromDisk: ReadBytes = (f) => readFile(f);

/** A database a policy list was read from: `check` and the daemon's log name it. */
export interface DatabaseInfo {
  readonly file: string;
  readonly metadata: MmdbMetadata;
  /** Networks of the tree with data, over every key. */
  readonly networks: number;
}

export type DatabaseRead =
  | { readonly networks: ReadonlyMap<string, readonly string[]>; readonly info: DatabaseInfo }
  | { readonly problem: string };

/** Opens `file` and groups its networks with `group`; otherwise a problem (`cannot read (ENOENT)`, `not a MaxMind DB file: …`) to write after the file's name. */
export async function readDatabase(
  file: string,
  group: (db: Mmdb) => GroupedNetworks,
  readBytes: ReadBytes = readBytesFromDisk,
): Promise<DatabaseRead> {
  let bytes: Uint8Array;
  try {
    bytes = await readBytes(file);
  } catch (e) {
    return { problem: `cannot read (${errorCode(e)})` };
  }
  try {
    const db = openMmdb(bytes);
    const got = group(db);
    return { networks: got.networks, info: { file, metadata: db.metadata, networks: got.total } };
  } catch (e) {
    if (e instanceof MmdbFormatError) return { problem: e.message };
    throw e;
  }
}
