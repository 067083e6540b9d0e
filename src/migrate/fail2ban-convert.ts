// Drafts a sipwarden config from fail2ban's jails: each enabled jail with its filter (sipwarden's built-in
// of the same name when it loads the jail's mode, else fail2ban's own filter file), its log as a source
// (a file, or the journal for `backend = systemd`), maxretry, findtime and bantime; ignoreip as the
// allowlist; the recidive jail and bantime.increment as sipwarden's recidive and escalation. What has no
// equivalent is listed as notes, for the admin to review before the draft is used.

import { existsSync } from "node:fs";
import { join } from "node:path";
import { formatDuration } from "../domain/duration.js";
import { parseCidr } from "../domain/address.js";
import { PRESETS } from "../config/presets.js";
import type { RawConfig, RawJail, RawSource } from "../config/schema.js";
import { listBuiltinFilters, parseFilterSpec, resolveFilter } from "../filters/resolve.js";
import type { Filter } from "../filters/filter.js";
import type { Fail2banJail, Fail2banJailConfig } from "./fail2ban-jails.js";

export interface Fail2banConversion {
  readonly config: RawConfig;
  /** One sentence each: what was carried differently, or not at all. */
  readonly notes: readonly string[];
}

/** fail2ban's time units (MyTime.str2seconds), in seconds. */
const UNITS: readonly [RegExp, number][] = [
  [/^(?:years?|yea?|yy?)$/i, 365.25 * 86400],
  [/^(?:months?|mon?)$/i, (365.25 * 86400) / 12],
  [/^(?:weeks?|wee?|ww?)$/i, 7 * 86400],
  [/^(?:days?|da|dd?)$/i, 86400],
  [/^(?:hours?|hou?|hh?)$/i, 3600],
  [/^(?:minutes?|min?|mm?)$/i, 60],
  [/^(?:seconds?|sec?|ss?)$/i, 1],
];

/** A fail2ban time (`600`, `10m`, `1h 30m`, `1d+12h`, `-1`) in seconds, or null when it is not one. */
export function fail2banSeconds(text: string): number | null {
  const s = text.trim();
  if (s === "") return null;
  const re = /\s*([+-]?)\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*/iy;
  let total = 0;
  let pos = 0;
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m || m[0] === "") return null;
    let factor = 1;
    if (m[3] !== "") {
      const unit = UNITS.find(([r]) => r.test(m[3] as string));
      if (unit === undefined) return null;
      factor = unit[1];
    }
    total += (m[1] === "-" ? -1 : 1) * Number(m[2]) * factor;
    pos = re.lastIndex;
  }
  return total;
}

/** A fail2ban duration as sipwarden writes it: `10m`, `1w`, or `permanent` (bantime -1). */
function duration(
  text: string | undefined,
  what: string,
  notes: string[],
  permanentOk: boolean,
): string | undefined {
  if (text === undefined) return undefined;
  const seconds = fail2banSeconds(text);
  if (seconds === null) {
    notes.push(`${what} = ${text}: not a time sipwarden can read; left at sipwarden's default`);
    return undefined;
  }
  if (seconds < 0) {
    if (permanentOk) return "permanent";
    notes.push(`${what} = ${text}: negative; left at sipwarden's default`);
    return undefined;
  }
  return formatDuration(Math.round(seconds * 1000));
}

/** A config key from a fail2ban name: lower case, letters, digits, `_` and `-`. */
function keyOf(name: string): string {
  const k = name
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, "-")
    .replace(/^[^a-z0-9]+/, "");
  return k === "" ? "jail" : k;
}

/**
 * The sipwarden filter spec for a fail2ban `filter = name[params]`: the built-in of that name with the
 * same parameters (a default `mode=normal` dropped), if it loads; else fail2ban's filter file, if it loads.
 */
function filterSpec(
  jail: Fail2banJail,
  dir: string,
  notes: string[],
): { readonly spec: string; readonly filter: Filter } | null {
  const { target, vars } = parseFilterSpec(jail.filter);
  const params = Object.entries(vars).filter(([k, v]) => !(k === "mode" && v === "normal"));
  const suffix = params.length === 0 ? "" : `[${params.map(([k, v]) => `${k}=${v}`).join(", ")}]`;
  const candidates: string[] = [];
  if (listBuiltinFilters().includes(target)) candidates.push(`${target}${suffix}`);
  const file = join(dir, "filter.d", `${target}.conf`);
  if (existsSync(file)) candidates.push(`${file}${suffix}`);
  const errors: string[] = [];
  for (const spec of candidates) {
    try {
      return { spec, filter: resolveFilter(spec) };
    } catch (e) {
      errors.push(`${spec}: ${(e as Error).message}`);
    }
  }
  notes.push(
    `jail ${jail.name}: no filter sipwarden can load for "${jail.filter}"${errors.length > 0 ? ` (${errors.join("; ")})` : ""}; the jail is left out`,
  );
  return null;
}

/** The journal matches for a systemd-backend jail: a preset's source for the same built-in filter, else the filter's journalmatch. */
function journalSource(
  { spec, filter }: { readonly spec: string; readonly filter: Filter },
  jail: Fail2banJail,
  notes: string[],
): RawSource | null {
  const name = parseFilterSpec(spec).target;
  for (const preset of Object.values(PRESETS))
    for (const j of Object.values(preset.jails ?? {}))
      if (j.filter === name && j.sources?.length === 1) {
        const s = preset.sources?.[j.sources[0] as string];
        if (s?.type === "journald") return s;
      }
  const groups = (filter.journalmatch ?? "")
    .split(/\s+\+\s+/)
    .map((g) => g.split(/\s+/).filter((m) => m !== ""))
    .filter((g) => g.length > 0);
  // One group: its matches are ANDed (different fields) or alternatives (one field), as journalctl reads them.
  // Several groups are alternatives, which a list can only say when each is one match of the same field.
  const field = (m: string): string => m.slice(0, m.indexOf("="));
  const simple =
    groups.length === 1 ||
    (groups.every((g) => g.length === 1) && new Set(groups.map((g) => field(g[0] as string))).size === 1);
  if (groups.length === 0 || !simple) {
    notes.push(
      `jail ${jail.name}: backend = systemd, and its filter's journalmatch cannot be said as one list of matches; the jail is left out`,
    );
    return null;
  }
  return { type: "journald", match: groups.flat() };
}

export function convertFail2banJails(read: Fail2banJailConfig, dir: string): Fail2banConversion {
  const notes: string[] = [];
  const sources: Record<string, RawSource> = {};
  const jails: Record<string, RawJail> = {};
  const config: RawConfig = {};

  const ignore = (read.ignoreip ?? "")
    .split(/[\s,]+/)
    .filter((e) => e !== "")
    .map(withPrefixLength);
  const allowlist = ignore.filter((e) => {
    const ok = parseCidr(e) !== null || /^[A-Za-z0-9.-]+$/.test(e);
    if (!ok) notes.push(`ignoreip ${e}: neither an address, a network nor a name; left out of the allowlist`);
    return ok;
  });
  if (allowlist.length > 0) config.allowlist = allowlist;

  const enabled = read.jails.filter((j) => j.enabled);
  for (const jail of enabled) {
    if (jail.name === "recidive") {
      config.recidive = {
        ...(jail.maxretry === undefined ? {} : { maxretry: Number(jail.maxretry) }),
        ...optionalDuration("findtime", duration(jail.findtime, "recidive findtime", notes, false)),
        ...optionalDuration("bantime", duration(jail.bantime, "recidive bantime", notes, true)),
      };
      notes.push(
        "recidive: sipwarden counts its own bans (over all jails), not fail2ban.log lines; its numbers are carried",
      );
      continue;
    }
    const loaded = filterSpec(jail, dir, notes);
    if (loaded === null) continue;
    const { spec } = loaded;
    let source: RawSource | null;
    if (/^systemd$/i.test(jail.backend)) source = journalSource(loaded, jail, notes);
    else if (jail.logpath.length === 0) {
      notes.push(`jail ${jail.name}: no logpath; the jail is left out`);
      source = null;
    } else
      source = {
        type: "file",
        path: jail.logpath.length === 1 ? (jail.logpath[0] as string) : [...jail.logpath],
      };
    if (source === null) continue;
    // Jails reading the same log share one source.
    const same = Object.entries(sources).find(([, s]) => JSON.stringify(s) === JSON.stringify(source));
    const sourceName = same?.[0] ?? uniqueKey(keyOf(jail.name), sources);
    if (same === undefined) sources[sourceName] = source;
    const maxretry = jail.maxretry === undefined ? undefined : Number(jail.maxretry);
    if (maxretry !== undefined && !(Number.isInteger(maxretry) && maxretry >= 1))
      notes.push(
        `jail ${jail.name}: maxretry = ${jail.maxretry} is not a whole number ≥ 1; left at sipwarden's default`,
      );
    jails[uniqueKey(keyOf(jail.name), jails)] = {
      filter: spec,
      sources: [sourceName],
      ...(maxretry !== undefined && Number.isInteger(maxretry) && maxretry >= 1 ? { maxretry } : {}),
      ...optionalDuration("findtime", duration(jail.findtime, `jail ${jail.name} findtime`, notes, false)),
      ...optionalDuration("bantime", duration(jail.bantime, `jail ${jail.name} bantime`, notes, true)),
    };
    const allPorts = /allports/i.test(`${jail.banaction ?? ""} ${jail.action ?? ""}`);
    if (!allPorts && jail.port !== undefined && jail.port !== "0:65535")
      notes.push(
        `jail ${jail.name}: fail2ban banned on port ${jail.port} only; sipwarden bans on every port (scope: all), which stops a scanner on all services; scope: service keeps a ban to the jail's services`,
      );
  }
  const reporting = enabled.filter((j) => /\babuseipdb\b/i.test(j.action ?? ""));
  if (reporting.length > 0)
    notes.push(
      `jails ${reporting.map((j) => j.name).join(", ")} reported to AbuseIPDB: sipwarden's report: { abuseipdb: { key_file: … } } reports every jail's bans (the key is not copied here)`,
    );
  if (!enabled.some((j) => j.name === "recidive"))
    notes.push(
      "fail2ban had no recidive jail: sipwarden's own stays on (5 bans in 1d → 1w); recidive: { enabled: false } turns it off",
    );

  const increments = enabled.filter((j) => /^(?:true|yes|on|1)$/i.test(j.bantimeIncrement ?? ""));
  if (increments.length > 0) {
    const j = increments[0] as Fail2banJail;
    const max = duration(j.bantimeMaxtime, "bantime.maxtime", notes, false);
    config.escalation = { enabled: true, factor: 2, ...(max === undefined ? {} : { max_bantime: max }) };
    if (
      j.bantimeFormula !== undefined ||
      j.bantimeMultipliers !== undefined ||
      (j.bantimeFactor ?? "1") !== "1"
    )
      notes.push(
        "bantime.increment: fail2ban's own formula, multipliers or factor are not carried; sipwarden doubles each repeat ban (factor: 2) up to max_bantime",
      );
    if (increments.length < enabled.length)
      notes.push("bantime.increment was on for some jails only: sipwarden's escalation covers every jail");
  } else
    notes.push(
      "bantime.increment is off: sipwarden's escalation stays on (each repeat ban twice as long, up to 4w); escalation: { enabled: false } turns it off",
    );

  if (Object.keys(jails).length === 0) notes.push("no enabled jail could be carried over");
  if (Object.keys(sources).length > 0) config.sources = sources;
  if (Object.keys(jails).length > 0) config.jails = jails;
  return { config, notes };
}

/** fail2ban also takes `10.0.0.0/255.0.0.0`: the same network with a prefix length (a mask with holes stays as written). */
function withPrefixLength(entry: string): string {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,3}(?:\.\d{1,3}){3})$/.exec(entry);
  if (m === null) return entry;
  const bits = (m[2] as string)
    .split(".")
    .map((o) => Number(o).toString(2).padStart(8, "0"))
    .join("");
  return /^1*0*$/.test(bits) && bits.length === 32
    ? `${m[1]}/${bits.indexOf("0") < 0 ? 32 : bits.indexOf("0")}`
    : entry;
}

function optionalDuration(key: "findtime" | "bantime", value: string | undefined): Record<string, string> {
  return value === undefined ? {} : { [key]: value };
}

function uniqueKey(base: string, taken: Readonly<Record<string, unknown>>): string {
  const n = Object.keys(taken).length;
  for (let i = 1; i <= n + 1; i++) {
    const key = i === 1 ? base : `${base}-${i}`;
    if (!(key in taken)) return key;
  }
  return `${base}-${n + 2}`; // unreachable: n keys cannot fill n + 1 names
}
