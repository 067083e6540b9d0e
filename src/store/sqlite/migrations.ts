// Versioned schema of the state database; `PRAGMA user_version` records how far a file has been migrated.

import type Database from "better-sqlite3";
import { UserError } from "../../domain/errors.js";

export interface Migration {
  readonly version: number;
  /** SQL run in the same transaction as the version bump, so a file is at one version or the next. */
  readonly up: string;
}

/** Append only: a released migration is never edited, because files in the field already ran it. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    up: `
      CREATE TABLE decisions (
        id          INTEGER PRIMARY KEY,
        action      TEXT    NOT NULL CHECK (action IN ('ban', 'spare')),
        -- Canonical IP or CIDR text (parseCidr's form); covering networks are found by exact keys.
        target      TEXT    NOT NULL,
        family      INTEGER NOT NULL CHECK (family IN (4, 6)),
        prefix      INTEGER NOT NULL,
        origin      TEXT    NOT NULL,
        reason      TEXT    NOT NULL,
        -- NULL: all ports (the common case); otherwise the BanScope as JSON.
        scope       TEXT,
        at          INTEGER NOT NULL,
        duration_ms INTEGER NOT NULL,
        -- NULL: permanent.
        expires_at  INTEGER,
        prior_bans  INTEGER NOT NULL,
        -- NULL: none; otherwise a JSON array of bounded evidence lines, oldest first.
        evidence    TEXT,
        ended_at    INTEGER,
        ended_by    TEXT
      ) STRICT;
      CREATE INDEX decisions_target ON decisions (target, at);
      CREATE INDEX decisions_at ON decisions (at);
      -- Only bans not ended: what a restart re-applies stays a small index however long the history.
      CREATE INDEX decisions_live ON decisions (expires_at) WHERE action = 'ban' AND ended_at IS NULL;

      CREATE TABLE positions (
        source_id TEXT PRIMARY KEY,
        position  TEXT NOT NULL
      ) STRICT, WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    up: `
      -- Suspect registrations' marks (SuspectMarkStore): one per address, the rule's JSON, until it ends;
      -- saved numbers them in the order saved.
      CREATE TABLE suspect_marks (
        address TEXT    PRIMARY KEY,
        until   INTEGER NOT NULL,
        mark    TEXT    NOT NULL,
        saved   INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX suspect_marks_until ON suspect_marks (until);
    `,
  },
];

/** Highest version this code knows; a file above it was written by a newer sipwarden. */
export function latestVersion(migrations: readonly Migration[] = MIGRATIONS): number {
  return migrations.reduce((max, m) => Math.max(max, m.version), 0);
}

/** Versions must be 1, 2, 3, ... in order; anything else is a bug in this file. */
export function checkMigrations(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1)
      throw new Error(`store: migration #${i} has version ${m.version}, expected ${i + 1}`);
  });
}

/**
 * Brings the database to the latest version, one transaction per migration. Refuses a file from the future
 * rather than guessing: a downgrade would otherwise write rows the newer schema does not expect.
 * Returns the version found and the version reached.
 */
export function migrate(
  db: Database.Database,
  file: string,
  migrations: readonly Migration[] = MIGRATIONS,
): { readonly from: number; readonly to: number } {
  checkMigrations(migrations);
  const from = assertKnownVersion(db, file, migrations);
  const latest = latestVersion(migrations);
  for (const m of migrations) {
    if (m.version <= from) continue;
    db.transaction(() => {
      db.exec(m.up);
      // Part of the same transaction: the header write commits or rolls back with the schema change.
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
  return { from, to: Math.max(from, latest) };
}

/** Reads the file's version and refuses one from the future before anything writes to the file. */
export function assertKnownVersion(
  db: Database.Database,
  file: string,
  migrations: readonly Migration[] = MIGRATIONS,
): number {
  const found = db.pragma("user_version", { simple: true }) as number;
  const latest = latestVersion(migrations);
  if (found > latest) {
    throw new UserError(
      "SW_STORE_VERSION",
      `the state database is at schema version ${found} but this sipwarden knows up to ${latest}; ` +
        `upgrade sipwarden or move the file aside`,
      { file },
    );
  }
  return found;
}
