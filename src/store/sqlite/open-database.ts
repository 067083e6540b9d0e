// Opens (or creates) the state database privately, in WAL mode, and migrates it, mapping failures to user errors.

import { chmodSync, closeSync, mkdirSync, openSync, statSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { UserError, isUserError } from "../../domain/errors.js";
import { MIGRATIONS, assertKnownVersion, migrate, type Migration } from "./migrations.js";

export interface OpenDatabaseOptions {
  readonly busyTimeoutMs: number;
  readonly migrations?: readonly Migration[];
}

export interface OpenedDatabase {
  readonly db: Database.Database;
  readonly from: number;
  readonly to: number;
}

const CORRUPT_CODES = new Set(["SQLITE_NOTADB", "SQLITE_CORRUPT"]);

export function openDatabase(path: string, options: OpenDatabaseOptions): OpenedDatabase {
  try {
    prepareFile(path);
  } catch (e) {
    throw new UserError("SW_STORE_OPEN", `cannot create the state database: ${describe(e)}`, { file: path });
  }
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { timeout: options.busyTimeoutMs });
    // Before any pragma that writes: a file from a newer sipwarden is left exactly as it was.
    assertKnownVersion(db, path, options.migrations ?? MIGRATIONS);
    // WAL: readers (the API, `explain`) never block the writer. NORMAL: a commit survives a process crash;
    // only a power loss can drop the newest commits, and the file stays consistent either way.
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    // A big batch (a feed refresh) grows the WAL; give the disk back after the next checkpoint.
    db.pragma(`journal_size_limit = ${16 * 1024 * 1024}`);
    const { from, to } = migrate(db, path, options.migrations ?? MIGRATIONS);
    return { db, from, to };
  } catch (e) {
    db?.close();
    if (isUserError(e)) throw e;
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && CORRUPT_CODES.has(code)) {
      throw new UserError(
        "SW_STORE_CORRUPT",
        `the state database is damaged or not a database (${code}); move it aside to start with empty state`,
        { file: path },
      );
    }
    throw new UserError("SW_STORE_OPEN", `cannot open the state database: ${describe(e)}`, { file: path });
  }
}

/**
 * Creates the directory 0700 and the file 0600 before SQLite touches them: evidence lines hold what
 * attackers sent and what the PBX logged about users. SQLite gives the -wal and -shm files the same mode.
 */
function prepareFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  closeSync(openSync(path, "a", 0o600));
  // An older or hand-made file may be wider; tighten it rather than leak history.
  if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
}

function describe(e: unknown): string {
  const code = (e as { code?: unknown }).code;
  const message = e instanceof Error ? e.message : String(e);
  return typeof code === "string" && !message.includes(code) ? `${code}: ${message}` : message;
}
