// Addresses that are never banned: IPs, CIDRs, DNS names and allowlist files, matched by longest prefix.

import { parseCidr, parseIp, type Cidr, type IpAddress } from "../domain/address.js";
import type { Clock } from "../domain/clock.js";
import { UserError } from "../domain/errors.js";
import { parseAllowlistEntry } from "./allowlist-entry.js";
import {
  parseAllowlistFile,
  type AllowlistFileContents,
  type AllowlistLiteral,
  type NameRef,
} from "./allowlist-file.js";
import { createPrefixSet, type PrefixSet } from "./prefix-set.js";

/** Why an address is allowlisted: the entry as the user wrote it (canonical), how it matched, and where. */
export interface AllowMatch {
  /** Canonical IP/CIDR, or the DNS name. */
  readonly entry: string;
  readonly via: "ip" | "cidr" | "dns" | "file";
  /** "config", "/etc/sipwarden/allow.txt:3", or "resolved 203.0.113.5" (plus the file line for names in files). */
  readonly detail: string;
}

/** Something skipped while loading; loading goes on without it. */
export interface AllowlistProblem {
  /** The entry or line text concerned. */
  readonly entry: string;
  /** "config" or "path:line". */
  readonly where: string;
  readonly message: string;
  /** Clock time the problem was seen. */
  readonly at: number;
}

export interface Allowlist {
  match(address: IpAddress): AllowMatch | null;
  /** An entry sharing an address with `network` (containing it or inside it), or null. */
  overlapping(network: Cidr): AllowMatch | null;
  /**
   * Re-reads files and re-resolves names, then swaps the whole table at once. A file that cannot be read
   * or a name that does not resolve keeps its last good contents and is reported in `problems()`.
   * Concurrent calls share one refresh. The caller schedules it.
   */
  refresh(): Promise<void>;
  /** Problems of the latest load or refresh. */
  problems(): readonly AllowlistProblem[];
  /** Prefixes in the table (IPs, CIDRs and resolved addresses). */
  size(): number;
  /** The table's prefixes in load order (config, files, resolved names), each with why it is there. */
  entries(): readonly AllowEntry[];
}

/** One prefix of the table and its match. */
export interface AllowEntry {
  readonly cidr: Cidr;
  readonly match: AllowMatch;
}

/** pino-compatible subset: constant message, facts in the object. */
export interface AllowlistLog {
  warn(facts: object, msg: string): void;
}

export interface AllowlistDeps {
  resolve(name: string): Promise<string[]>;
  readFile(path: string): Promise<string>;
  clock: Clock;
  log?: AllowlistLog;
}

/**
 * Validates every literal entry up front (an invalid one is a UserError SW_ALLOWLIST naming it), then
 * loads files and resolves names once before returning. At start a missing file is a UserError too (a
 * typo in a path must not silently leave the admin's phones unprotected); a name that does not resolve
 * is only reported, since DNS may be down while the daemon starts.
 */
export async function createAllowlist(entries: readonly string[], deps: AllowlistDeps): Promise<Allowlist> {
  const configLiterals: AllowlistLiteral[] = [];
  const configNames: NameRef[] = [];
  const files: string[] = [];
  for (const raw of entries) {
    const entry = parseAllowlistEntry(raw);
    if (!entry) {
      throw new UserError(
        "SW_ALLOWLIST",
        `invalid allowlist entry "${raw}": expected an IP, a CIDR, a DNS name or file:/path`,
        {
          key: "allowlist",
        },
      );
    }
    if (entry.kind === "file") files.push(entry.path);
    else if (entry.kind === "dns") configNames.push({ name: entry.name, where: "config" });
    else
      configLiterals.push({
        cidr: entry.cidr,
        match: { entry: entry.cidr.text, via: entry.kind, detail: "config" },
      });
  }

  const lastFiles = new Map<string, AllowlistFileContents>();
  const lastResolved = new Map<string, readonly IpAddress[]>();
  let table: PrefixSet<AllowMatch> = createPrefixSet();
  let listed: readonly AllowEntry[] = [];
  let problems: readonly AllowlistProblem[] = [];
  let inFlight: Promise<void> | null = null;

  async function load(initial: boolean): Promise<void> {
    const at = deps.clock.now();
    const found: AllowlistProblem[] = [];
    const report = (p: Omit<AllowlistProblem, "at">): void => {
      found.push({ ...p, at });
      deps.log?.warn({ entry: p.entry, where: p.where, err: p.message }, "allowlist entry skipped");
    };

    const fileResults = await Promise.all(
      files.map(async (path) => {
        try {
          return { path, contents: parseAllowlistFile(path, await deps.readFile(path)) };
        } catch (err) {
          const message = `cannot read allowlist file: ${errorText(err)}`;
          if (initial) throw new UserError("SW_ALLOWLIST", `${message} (file:${path})`, { file: path });
          return { path, error: message };
        }
      }),
    );
    const contents = new Map<string, AllowlistFileContents>();
    for (const result of fileResults) {
      if ("contents" in result && result.contents) {
        contents.set(result.path, result.contents);
        result.contents.problems.forEach(report);
      } else {
        const kept = lastFiles.get(result.path);
        report({
          entry: `file:${result.path}`,
          where: "config",
          message: `${result.error}; kept last good contents`,
        });
        if (kept) contents.set(result.path, kept);
      }
    }

    const names = [...configNames, ...[...contents.values()].flatMap((c) => c.names)];
    // The first place a name is written is the one a problem points at.
    const firstWhere = new Map<string, string>();
    for (const n of names) if (!firstWhere.has(n.name)) firstWhere.set(n.name, n.where);
    const distinct = [...firstWhere.keys()];
    const resolved = new Map<string, readonly IpAddress[]>();
    await Promise.all(
      distinct.map(async (name) => {
        const where = firstWhere.get(name) ?? "config";
        try {
          const texts = await deps.resolve(name);
          const ips: IpAddress[] = [];
          for (const text of texts) {
            const ip = parseIp(text);
            if (ip) ips.push(ip);
            else report({ entry: name, where, message: `resolver returned a non-address "${text}"` });
          }
          if (ips.length === 0) throw new Error("no addresses");
          resolved.set(name, ips);
        } catch (err) {
          const kept = lastResolved.get(name);
          const keptText = kept ? `kept ${kept.length} last good address(es)` : "no last good addresses";
          report({ entry: name, where, message: `cannot resolve: ${errorText(err)}; ${keptText}` });
          if (kept) resolved.set(name, kept);
        }
      }),
    );

    // Built aside and swapped in one assignment, so match() never sees a half-loaded table.
    const next = createPrefixSet<AllowMatch>();
    const nextListed: AllowEntry[] = [];
    // The first entry on a prefix is the one that matches, and the one listed.
    const add = (cidr: Cidr, match: AllowMatch): void => {
      const before = next.size;
      next.add(cidr, match);
      if (next.size > before) nextListed.push({ cidr, match });
    };
    for (const l of configLiterals) add(l.cidr, l.match);
    for (const path of files) for (const l of contents.get(path)?.literals ?? []) add(l.cidr, l.match);
    for (const ref of names) {
      for (const ip of resolved.get(ref.name) ?? []) {
        const cidr = parseCidr(ip.text) as Cidr;
        const suffix = ref.where === "config" ? "" : `, ${ref.where}`;
        add(cidr, { entry: ref.name, via: "dns", detail: `resolved ${ip.text}${suffix}` });
      }
    }
    table = next;
    listed = nextListed;
    problems = found;
    lastFiles.clear();
    for (const [path, c] of contents) lastFiles.set(path, c);
    lastResolved.clear();
    for (const [name, ips] of resolved) lastResolved.set(name, ips);
  }

  await load(true);

  return {
    match: (address) => table.lookup(address),
    overlapping: (network) => table.overlapping(network),
    refresh: () => {
      inFlight ??= load(false).finally(() => {
        inFlight = null;
      });
      return inFlight;
    },
    problems: () => problems,
    size: () => table.size,
    entries: () => listed,
  };
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
