// Runs the DecisionStore contract against SQLite, plus what only a file can do: migrate, reopen, refuse, survive a kill.

import { fork } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { isUserError, type UserError } from "../../domain/errors.js";
import { ban, runDecisionStoreContract } from "../decision-store.contract.js";
import type { DecisionStore } from "../decision-store.js";
import { createSqliteDecisionStore } from "./decision-store.js";
import { MIGRATIONS, checkMigrations, latestVersion, migrate, type Migration } from "./migrations.js";

const root = mkdtempSync(join(tmpdir(), "sipwarden-store-"));
let counter = 0;
const freshPath = (): string => join(root, `case-${++counter}`, "state", "sipwarden.db");
afterAll(() => rmSync(root, { recursive: true, force: true }));

runDecisionStoreContract("sqlite", (config) => createSqliteDecisionStore({ ...config, path: freshPath() }));

const T0 = Date.UTC(2026, 0, 10, 12);
const DAY = 86_400_000;

function caught(fn: () => unknown): UserError {
  try {
    fn();
  } catch (e) {
    if (isUserError(e)) return e;
    throw e;
  }
  throw new Error("expected a UserError");
}

describe("SQLite decision store", () => {
  const open: DecisionStore[] = [];
  const make = (path: string, extra: { migrations?: readonly Migration[] } = {}): DecisionStore => {
    const store = createSqliteDecisionStore({ path, retentionMs: DAY }, extra);
    open.push(store);
    return store;
  };
  afterEach(() => {
    for (const s of open.splice(0)) s.close();
  });

  it("creates and migrates an empty database: WAL, synchronous NORMAL, private modes", () => {
    const path = freshPath();
    make(path).recordDecisions([ban("192.0.2.1")]);
    const db = new Database(path, { readonly: true });
    try {
      expect(db.pragma("user_version", { simple: true })).toBe(latestVersion());
      expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
      const tables = db
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
        .pluck()
        .all();
      expect(tables).toEqual(["decisions", "positions", "suspect_marks"]);
    } finally {
      db.close();
    }
    expect(statSync(join(path, "..")).mode & 0o777).toBe(0o700);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(`${path}-wal`).mode & 0o777).toBe(0o600);
  });

  it("tightens an existing file that others could read", () => {
    const path = freshPath();
    make(path).close();
    open.length = 0;
    // Widen it as a careless copy would; opening again must close it up.
    chmodSync(path, 0o644);
    make(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it("keeps decisions, their end, and positions across a reopen", async () => {
    const path = freshPath();
    const first = make(path);
    const [kept, ended] = first.recordDecisions([
      ban("192.0.2.1", { durationMs: null }),
      ban("2001:db8::/64", { origin: "manual" }),
    ]);
    first.removeDecision({ target: "2001:db8::/64", now: T0 + 1, endedBy: "manual" });
    await first.positions.save("/var/log/asterisk/messages", { ino: 5, offset: 42 });
    first.close();

    const second = make(path);
    expect(second.activeDecisions(T0 + 2).map((d) => d.id)).toEqual([kept!.id]);
    expect(second.decisionsFor("2001:db8::5", T0 + 2).past).toEqual([
      { ...ended, endedAt: T0 + 1, endedBy: "manual" },
    ]);
    expect(await second.positions.load("/var/log/asterisk/messages")).toEqual({ ino: 5, offset: 42 });
    const [next] = second.recordDecisions([ban("192.0.2.9")]);
    expect(next!.id).toBeGreaterThan(ended!.id);
  });

  it("refuses a database written by a newer version, leaving it untouched", () => {
    const path = freshPath();
    make(path).close();
    open.length = 0;
    const db = new Database(path);
    db.pragma(`user_version = ${latestVersion() + 1}`);
    db.close();
    const before = statSync(path).mtimeMs;
    const err = caught(() => make(path));
    expect(err.code).toBe("SW_STORE_VERSION");
    expect(err.location.file).toBe(path);
    expect(err.format()).toContain(
      `schema version ${latestVersion() + 1} but this sipwarden knows up to ${latestVersion()}`,
    );
    expect(statSync(path).mtimeMs).toBe(before);
  });

  it("refuses a file that is not a database with a clear code", () => {
    const path = freshPath();
    make(path).close();
    open.length = 0;
    rmSync(`${path}-wal`, { force: true });
    rmSync(`${path}-shm`, { force: true });
    writeFileSync(path, "this is not an SQLite file, it is a log line ".repeat(200));
    expect(caught(() => make(path)).code).toBe("SW_STORE_CORRUPT");
  });

  it("reports a path it cannot create as SW_STORE_OPEN", () => {
    const blocker = join(root, `blocker-${++counter}`);
    writeFileSync(blocker, "a file where a directory should be");
    const err = caught(() => make(join(blocker, "sipwarden.db")));
    expect(err.code).toBe("SW_STORE_OPEN");
  });

  it("applies each migration in a transaction: a failing one leaves the previous version", () => {
    const path = freshPath();
    const broken: Migration[] = [
      ...MIGRATIONS,
      {
        version: latestVersion() + 1,
        up: "CREATE TABLE half_done (x INTEGER); INSERT INTO no_such_table VALUES (1);",
      },
    ];
    expect(caught(() => make(path, { migrations: broken })).code).toBe("SW_STORE_OPEN");
    const db = new Database(path, { readonly: true });
    try {
      expect(db.pragma("user_version", { simple: true })).toBe(latestVersion());
      const names = db.prepare("SELECT name FROM sqlite_schema WHERE name = 'half_done'").all();
      expect(names).toEqual([]);
    } finally {
      db.close();
    }
    // And the code that knows the versions before still opens it.
    expect(make(path).activeDecisions(T0)).toEqual([]);
  });

  it("migrates a version-1 file (before suspect marks) forward, keeping its decisions", () => {
    const path = freshPath();
    make(path).close();
    open.length = 0;
    // Made as sipwarden before the marks made it: version 1's schema and one ban.
    rmSync(path);
    rmSync(`${path}-wal`, { force: true });
    rmSync(`${path}-shm`, { force: true });
    const v1 = new Database(path);
    migrate(v1, path, MIGRATIONS.slice(0, 1));
    v1.prepare(
      `INSERT INTO decisions (action, target, family, prefix, origin, reason, at, duration_ms, expires_at, prior_bans)
       VALUES ('ban', '192.0.2.1', 4, 32, 'manual', 'by hand', ?, 3600000, ?, 0)`,
    ).run(T0, T0 + 3_600_000);
    v1.close();
    const store = make(path);
    expect(store.activeDecisions(T0).map((d) => d.target)).toEqual(["192.0.2.1"]);
    store.suspectMarks.save("192.0.2.7", T0 + DAY, { user: "1001" });
    expect(store.suspectMarks.inForce(T0)).toEqual([{ address: "192.0.2.7", mark: { user: "1001" } }]);
    store.close();
    const db = new Database(path, { readonly: true });
    expect(db.pragma("user_version", { simple: true })).toBe(2);
    db.close();
  });

  it("migrates a file forward when a later migration appears", () => {
    const path = freshPath();
    make(path).recordDecisions([ban("192.0.2.1")]);
    open.splice(0).forEach((s) => s.close());
    const next: Migration[] = [
      ...MIGRATIONS,
      { version: latestVersion() + 1, up: "ALTER TABLE decisions ADD COLUMN note TEXT;" },
    ];
    const store = make(path, { migrations: next });
    expect(store.activeDecisions(T0).map((d) => d.target)).toEqual(["192.0.2.1"]);
    store.close();
    const db = new Database(path, { readonly: true });
    expect(db.pragma("user_version", { simple: true })).toBe(latestVersion() + 1);
    db.close();
  });

  it("rejects a migration list with gaps (a bug, not a user error)", () => {
    expect(() =>
      checkMigrations([
        { version: 1, up: "" },
        { version: 3, up: "" },
      ]),
    ).toThrow(/expected 2/);
    expect(() => checkMigrations(MIGRATIONS)).not.toThrow();
  });

  it("keeps a batch whole or absent when the writer is SIGKILLed mid-batch", async () => {
    const path = freshPath();
    make(path).close();
    open.length = 0;
    const size = 20_000;
    const hooks = new URL("./testing/ts-hooks.mjs", import.meta.url).href;
    const register = `data:text/javascript,import{register}from"node:module";register(${JSON.stringify(hooks)});`;
    const child = fork(
      fileURLToPath(new URL("./testing/crash-writer.ts", import.meta.url)),
      [path, String(size)],
      {
        execArgv: ["--import", register],
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      },
    );
    const seen = { started: -1, done: -1 };
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on("exit", (_c, sig) => resolve(sig)),
    );
    child.on("message", (m: { starting?: number; done?: number }) => {
      if (m.done !== undefined) seen.done = m.done;
      if (m.starting === undefined) return;
      seen.started = m.starting;
      // Two batches committed, then kill a few milliseconds into the third: inside its transaction.
      if (m.starting === 2) setTimeout(() => child.kill("SIGKILL"), 5);
    });
    try {
      expect(await exited).toBe("SIGKILL");
    } finally {
      // Never leave a writer running if the test failed before its kill.
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
    expect(seen.done).toBeGreaterThanOrEqual(1);
    // The kill landed after a batch was announced and before it was reported done. A batch of 20,000
    // rows is larger than SQLite's page cache, so uncommitted pages were already spilled into the WAL.
    expect(seen.started).toBe(seen.done + 1);

    const db = new Database(path);
    try {
      expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
      const perBatch = db
        .prepare("SELECT reason, count(*) AS n FROM decisions GROUP BY reason ORDER BY reason")
        .all() as { reason: string; n: number }[];
      for (const { n } of perBatch) expect(n).toBe(size);
      // Every batch reported done is there in full; a batch cut off is wholly absent.
      expect(perBatch.length).toBeGreaterThanOrEqual(seen.done + 1);
      expect(perBatch.length).toBeLessThanOrEqual(seen.started + 1);
    } finally {
      db.close();
    }
    const reopened = make(path);
    expect(reopened.activeDecisions(1_700_000_000_000).length % size).toBe(0);
  }, 30_000);
});
