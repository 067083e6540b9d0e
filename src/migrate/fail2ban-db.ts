// Reads the bans fail2ban enforces from its SQLite database (`dbfile`, by default
// /var/lib/fail2ban/fail2ban.sqlite3), read-only: what a switch to sipwarden must not unban.
//
// Schema (fail2ban 0.11 to 1.1): bans(jail, ip, timeofban, bantime, bancount, data), one row per ban, the
// ban lengths in seconds (-1: permanent) and `data` a JSON object whose `matches` are the log lines. Before
// 0.11 the table had no bantime nor bancount: the lengths were only in the jails' config.

import Database from "better-sqlite3";
import { parseCidr } from "../domain/address.js";
import { UserError } from "../domain/errors.js";

export const FAIL2BAN_DB = "/var/lib/fail2ban/fail2ban.sqlite3";

/** Log lines kept per ban, at most (fail2ban's default dbmaxmatches), and their length. */
const MAX_MATCHES = 10;
const MAX_LINE = 2000;

export interface Fail2banBan {
  readonly jail: string;
  /** Canonical IP or CIDR. */
  readonly target: string;
  /** Epoch ms of the ban. */
  readonly at: number;
  /** Epoch ms it ends, or null: permanent. */
  readonly expiresAt: number | null;
  /** fail2ban's count of this address's bans in the jail, this one included (1 without the column). */
  readonly banCount: number;
  /** The log lines fail2ban kept for it, oldest first. */
  readonly matches: readonly string[];
}

export interface Fail2banBans {
  /** The latest ban per jail and address, still in force at `now`. */
  readonly inForce: readonly Fail2banBan[];
  /** Latest bans already over at `now`. */
  readonly over: number;
  /** Rows whose address sipwarden cannot take (not an IP or CIDR), with the text as fail2ban has it. */
  readonly invalid: readonly { readonly jail: string; readonly ip: string }[];
}

export interface Fail2banReadOptions {
  readonly now: number;
  /** Only these jails (absent: every jail). */
  readonly jails?: readonly string[];
  /** The ban length for a database without one (fail2ban before 0.11), ms; null: permanent. */
  readonly bantimeMs?: number | null;
}

interface Row {
  jail: string;
  ip: string | null;
  timeofban: number;
  bantime: number | null;
  bancount: number | null;
  data: string | Buffer | null;
}

export function readFail2banBans(path: string, options: Fail2banReadOptions): Fail2banBans {
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch (e) {
    throw new UserError("SW_USAGE", `cannot open the fail2ban database ${path}: ${(e as Error).message}`);
  }
  try {
    let columns: string[];
    try {
      columns = (db.prepare("PRAGMA table_info(bans)").all() as { name: string }[]).map((c) => c.name);
    } catch (e) {
      throw new UserError("SW_USAGE", `${path} is not an SQLite database: ${(e as Error).message}`);
    }
    if (!["jail", "ip", "timeofban"].every((c) => columns.includes(c)))
      throw new UserError(
        "SW_USAGE",
        `${path} is not a fail2ban database (no bans table with jail, ip, timeofban)`,
      );
    const lengths = columns.includes("bantime");
    if (!lengths && options.bantimeMs === undefined)
      throw new UserError(
        "SW_USAGE",
        `${path} keeps no ban lengths (fail2ban before 0.11): give --bantime, the jails' bantime`,
      );
    // The latest row per jail and address (SQLite takes the other columns from the row of the MAX).
    const rows = db
      .prepare(
        `SELECT jail, ip, MAX(timeofban) AS timeofban, ${lengths ? "bantime" : "NULL AS bantime"},
                ${columns.includes("bancount") ? "bancount" : "NULL AS bancount"},
                ${columns.includes("data") ? "data" : "NULL AS data"}
           FROM bans GROUP BY jail, ip ORDER BY MAX(timeofban), jail, ip`,
      )
      .all() as Row[];
    const wanted = options.jails === undefined ? null : new Set(options.jails);
    const inForce: Fail2banBan[] = [];
    const invalid: { jail: string; ip: string }[] = [];
    let over = 0;
    for (const r of rows) {
      if (wanted !== null && !wanted.has(r.jail)) continue;
      const cidr = r.ip === null ? null : parseCidr(r.ip, false);
      if (cidr === null) {
        invalid.push({ jail: r.jail, ip: String(r.ip) });
        continue;
      }
      const at = r.timeofban * 1000;
      const lengthMs = lengths
        ? r.bantime !== null && r.bantime < 0
          ? null
          : (r.bantime ?? 0) * 1000
        : (options.bantimeMs ?? null);
      const expiresAt = lengthMs === null ? null : at + lengthMs;
      if (expiresAt !== null && expiresAt <= options.now) {
        over++;
        continue;
      }
      inForce.push({
        jail: r.jail,
        target: cidr.text,
        at,
        expiresAt,
        banCount: Math.max(1, r.bancount ?? 1),
        matches: matchesOf(r.data),
      });
    }
    return { inForce, over, invalid };
  } finally {
    db.close();
  }
}

/** The log lines of a row's `data` JSON (`{"matches": [...], "failures": N}`); none when unreadable. */
function matchesOf(data: string | Buffer | null): string[] {
  if (data === null) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof data === "string" ? data : data.toString("utf8"));
  } catch {
    return [];
  }
  const matches = (parsed as { matches?: unknown } | null)?.matches;
  if (!Array.isArray(matches)) return [];
  // A match is a line, or (older versions) the line's parts as a list.
  return matches
    .map((m) =>
      typeof m === "string" ? m : Array.isArray(m) ? m.filter((x) => typeof x === "string").join("") : "",
    )
    .filter((m) => m !== "")
    .slice(-MAX_MATCHES)
    .map((m) => (m.length > MAX_LINE ? m.slice(0, MAX_LINE) : m));
}
