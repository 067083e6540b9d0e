// The reader on databases of fail2ban's two schemas, written here with its CREATE TABLE statements (the
// real fail2ban 1.0.2 writes one in import-fail2ban.integration): which bans are in force, the latest per
// jail and address, lengths, ban counts, matches in both shapes, rows that are not addresses.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { importBatches, importRequest } from "../cli/commands/import-fail2ban.js";
import { readFail2banBans } from "./fail2ban-db.js";

const dir = mkdtempSync(join(tmpdir(), "sw-f2b-db-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const NOW = Date.UTC(2026, 11, 7, 12, 0, 0);
const S = NOW / 1000;

function database(name: string, schema: string, rows: unknown[][]): string {
  const path = join(dir, name);
  const db = new Database(path);
  db.exec(schema);
  const insert = db.prepare(`INSERT INTO bans VALUES (${rows[0]!.map(() => "?").join(", ")})`);
  for (const r of rows) insert.run(...r);
  db.close();
  return path;
}

describe("readFail2banBans", () => {
  it("fail2ban ≥ 0.11: the latest ban per jail and address, in force or over, its count and lines", () => {
    const path = database(
      "new.sqlite3",
      "CREATE TABLE bans(jail TEXT NOT NULL, ip TEXT, timeofban INTEGER NOT NULL, bantime INTEGER NOT NULL, bancount INTEGER NOT NULL default 1, data JSON)",
      [
        ["asterisk", "203.0.113.5", S - 7200, 3600, 1, '{"matches": ["old line"], "failures": 3}'],
        [
          "asterisk",
          "203.0.113.5",
          S - 600,
          3600,
          2,
          Buffer.from('{"matches": ["a", ["b1", "b2"]], "failures": 3}'),
        ],
        ["asterisk", "198.51.100.7", S - 7200, 3600, 1, "{}"],
        ["recidive", "2001:DB8::5", S - 86400 * 30, -1, 4, "not json"],
        ["asterisk", "203.0.113.0/24", S - 60, 600, 1, null],
        ["asterisk", "not-an-ip", S - 60, 600, 1, null],
        ["sshd", "192.0.2.1", S - 60, 600, 1, null],
      ],
    );
    const all = readFail2banBans(path, { now: NOW });
    expect(all.over).toBe(1);
    expect(all.invalid).toEqual([{ jail: "asterisk", ip: "not-an-ip" }]);
    expect(all.inForce).toEqual([
      {
        jail: "recidive",
        target: "2001:db8::5",
        at: NOW - 86400_000 * 30,
        expiresAt: null,
        banCount: 4,
        matches: [],
      },
      {
        jail: "asterisk",
        target: "203.0.113.5",
        at: NOW - 600_000,
        expiresAt: NOW + 3_000_000,
        banCount: 2,
        matches: ["a", "b1b2"],
      },
      {
        jail: "asterisk",
        target: "203.0.113.0/24",
        at: NOW - 60_000,
        expiresAt: NOW + 540_000,
        banCount: 1,
        matches: [],
      },
      {
        jail: "sshd",
        target: "192.0.2.1",
        at: NOW - 60_000,
        expiresAt: NOW + 540_000,
        banCount: 1,
        matches: [],
      },
    ]);
    expect(readFail2banBans(path, { now: NOW, jails: ["recidive"] }).inForce.map((b) => b.target)).toEqual([
      "2001:db8::5",
    ]);
  });

  it("fail2ban before 0.11 keeps no lengths: refused without --bantime, read with it", () => {
    const path = database(
      "old.sqlite3",
      "CREATE TABLE bans(jail TEXT NOT NULL, ip TEXT, timeofban INTEGER NOT NULL, data JSON)",
      [
        ["asterisk", "203.0.113.5", S - 600, '{"matches": ["x"]}'],
        ["asterisk", "203.0.113.6", S - 7200, null],
      ],
    );
    expect(() => readFail2banBans(path, { now: NOW })).toThrow(/keeps no ban lengths .*--bantime/);
    const r = readFail2banBans(path, { now: NOW, bantimeMs: 3_600_000 });
    expect([r.inForce.map((b) => [b.target, b.expiresAt, b.banCount]), r.over]).toEqual([
      [["203.0.113.5", NOW + 3_000_000, 1]],
      1,
    ]);
    expect(readFail2banBans(path, { now: NOW, bantimeMs: null }).inForce).toHaveLength(2);
  });

  it("says what is wrong with a file that is not fail2ban's database", () => {
    writeFileSync(join(dir, "text"), "hello\n");
    expect(() => readFail2banBans(join(dir, "text"), { now: NOW })).toThrow(/is not an SQLite database/);
    const other = database("other.sqlite3", "CREATE TABLE bans(x TEXT)", [["y"]]);
    expect(() => readFail2banBans(other, { now: NOW })).toThrow(/not a fail2ban database/);
    expect(() => readFail2banBans(join(dir, "missing"), { now: NOW })).toThrow(
      /cannot open the fail2ban database/,
    );
  });
});

describe("import requests", () => {
  it("carry the jail, the ban's own times, prior bans and the lines; batches stay under the API's limits", () => {
    const r = importRequest({
      jail: "asterisk\u001b[2J",
      target: "203.0.113.5",
      at: NOW - 600_000,
      expiresAt: null,
      banCount: 3,
      matches: Array.from({ length: 12 }, (_, i) => `line ${i}`),
    });
    expect(r.reason).toBe(
      "imported from fail2ban: jail asterisk\\u001b[2J, banned 2026-12-07T11:50:00Z, its ban #3 there",
    );
    expect([r.at, r.expiresAt, r.priorBans]).toEqual(["2026-12-07T11:50:00.000Z", null, 2]);
    expect(r.evidence.map((e) => e.line)).toEqual(Array.from({ length: 10 }, (_, i) => `line ${i + 2}`));

    const many = Array.from({ length: 4500 }, () => r);
    expect(importBatches(many).map((b) => b.bans.length)).toEqual([2000, 2000, 500]);
    const big = { ...r, evidence: [{ source: "fail2ban:x", line: "y".repeat(16_000) }] };
    const batches = importBatches(Array.from({ length: 600 }, () => big));
    expect(batches.length).toBeGreaterThan(2);
    for (const b of batches) expect(Buffer.byteLength(JSON.stringify(b))).toBeLessThan(4.1 * 1024 * 1024);
  });
});
