// Builds the firewall from the config: the chosen backend (with SIP inspection for nftables) and the policy.

import { readFile } from "node:fs/promises";
import type { Config } from "../config/config.js";
import type { Clock } from "../domain/clock.js";
import { formatBlocklistProblem } from "../enforce/blocklist-file.js";
import { loadBlocklists } from "../enforce/load-blocklists.js";
import type { DatabaseInfo } from "../enforce/geoip/read-database.js";
import type { CommandRunner } from "../enforce/command-runner.js";
import { compileNotes, compilePolicy } from "../enforce/compile-policy.js";
import { loadCountryLists, type CountryDatabase } from "../enforce/country-lists.js";
import { checkPolicy } from "../enforce/policy-check.js";
import { checkSipInspection } from "../enforce/sip-inspection.js";
import { UserError } from "../domain/errors.js";
import type { FirewallBackend } from "../enforce/firewall-backend.js";
import { createIptablesBackend, DEFAULT_IPTABLES_CONFIG } from "../enforce/iptables/backend.js";
import { createMemoryBackend } from "../enforce/memory/backend.js";
import { createFastNftBackend } from "../enforce/nftables/backend.js";
import { sameScope, type BlocklistSpec, type FirewallPolicy } from "../enforce/policy.js";
import type { BanScope } from "../domain/decision.js";
import { withSipInspection } from "../enforce/with-sip-inspection.js";

export interface FirewallDeps {
  readonly run: CommandRunner;
  readonly clock: Clock;
  readonly log: { warn(facts: object, msg: string): void };
}

/** `dry-run` keeps bans in memory and touches no kernel state (demos, tests without root). */
export type BackendChoice = "nftables" | "iptables" | "dry-run";

export function createFirewallBackend(choice: BackendChoice, deps: FirewallDeps): FirewallBackend {
  if (choice === "dry-run") return createMemoryBackend({}, { clock: deps.clock });
  if (choice === "iptables") return createIptablesBackend(DEFAULT_IPTABLES_CONFIG, deps);
  // Bans over a kept-open netlink socket and big blocklists in ipset: nft alone costs ~0.5 s per
  // transaction once a large interval set is loaded (bench/RESULTS.md).
  return withSipInspection(createFastNftBackend(deps), { run: deps.run });
}

/** What the daemon adds to the config's policy at run time. */
export interface PolicyExtras {
  /** `sipwarden allow` entries (IP/CIDR): allowlisted in the kernel like the config's. */
  readonly allow: readonly string[];
  /**
   * Bans of networks the ban sets cannot hold (any but an IPv6 network of `ipv6_prefix`: by hand, or left
   * from another prefix), with the ports each covers: these go in interval sets, one per scope.
   */
  readonly blockedNetworks: readonly { readonly target: string; readonly scope: BanScope }[];
}

/** The all-ports network bans' list; the config refuses it, and `netban<N>`, as blocklist names. */
const MANUAL_BLOCKLIST = "manual";
const NETBAN_PREFIX = "netban";
const NETBAN_LIST = /^netban\d+$/;

/** Whether a policy blocklist holds the daemon's network bans (stored decisions), not a feed. */
export function isNetworkBanList(name: string): boolean {
  return name === MANUAL_BLOCKLIST || NETBAN_LIST.test(name);
}

/** Network bans as interval lists: `manual` for all ports, `netban1`, `netban2`… per other scope. */
function networkBanLists(bans: PolicyExtras["blockedNetworks"]): BlocklistSpec[] {
  const lists: { scope: BanScope; entries: string[] }[] = [];
  for (const b of bans) {
    const list = lists.find((l) => sameScope(l.scope, b.scope));
    if (list) list.entries.push(b.target);
    else lists.push({ scope: b.scope, entries: [b.target] });
  }
  let n = 0;
  return lists.map((l) => ({
    name: l.scope.kind === "all" ? MANUAL_BLOCKLIST : `${NETBAN_PREFIX}${++n}`,
    scope: l.scope,
    entries: l.entries,
  }));
}

/** GeoLite2 is rebuilt twice a week, DB-IP's lite files monthly: older than this, its refresh has stopped. */
export const STALE_DATABASE_MS = 45 * 86_400_000;

/** A note for each database read that is older than STALE_DATABASE_MS (by the build time it states). */
export function staleDatabases(dbs: readonly (DatabaseInfo | null)[], now: number): string[] {
  const seen = new Set<string>();
  const notes: string[] = [];
  for (const db of dbs) {
    if (db === null || db.metadata.builtAt === null || seen.has(db.file)) continue;
    seen.add(db.file);
    const days = Math.floor((now - db.metadata.builtAt) / 86_400_000);
    if (now - db.metadata.builtAt > STALE_DATABASE_MS)
      notes.push(
        `${db.file}: built ${new Date(db.metadata.builtAt).toISOString().slice(0, 10)}, ${days} days ago: is geoipupdate (or the job that replaces it) still running?`,
      );
  }
  return notes;
}

export interface PreparedFirewall {
  readonly policy: FirewallPolicy;
  /** Non-fatal: bad list lines (file:line), unreadable lists, a country restriction left out, what the IR cannot express. */
  readonly warnings: readonly string[];
  /** The geolocation database the country restriction was read from, or null. */
  readonly countryDatabase: CountryDatabase | null;
  /** The ASN databases blocklists were read from, by blocklist name. */
  readonly listDatabases: ReadonlyMap<string, DatabaseInfo>;
}

/**
 * Reads the blocklists, compiles the policy (with the daemon's run-time additions) and checks it; a broken
 * policy is a user error raised before anything touches the kernel.
 */
export async function preparePolicy(
  config: Config,
  extras: PolicyExtras = { allow: [], blockedNetworks: [] },
  now: number = Date.now(),
): Promise<PreparedFirewall> {
  const read = (file: string): Promise<string> => readFile(file, "utf8");
  const loaded = await loadBlocklists(config.firewall.blocklists, read);
  const countries = await loadCountryLists(config.firewall.countries, config.firewall.families, read);
  const compiled = compilePolicy(
    { ...config, allowlist: [...config.allowlist, ...extras.allow] },
    { blocklists: loaded.entries, countries: countries.restriction },
  );
  const policy: FirewallPolicy =
    extras.blockedNetworks.length === 0
      ? compiled
      : { ...compiled, blocklists: [...compiled.blocklists, ...networkBanLists(extras.blockedNetworks)] };
  const problems = [
    ...checkPolicy(policy),
    ...(policy.sipInspection ? checkSipInspection(policy.sipInspection, policy) : []),
  ];
  if (problems.length > 0)
    throw new UserError(
      "SW_FIREWALL_POLICY",
      problems.map((p) => `${p.path}: ${p.message}`).join("; "),
      config.locate(["firewall"]),
    );
  return {
    policy,
    warnings: [
      ...loaded.problems.map(formatBlocklistProblem),
      ...countries.warnings,
      ...compileNotes(config),
      ...staleDatabases([countries.database, ...loaded.databases.values()], now),
    ],
    countryDatabase: countries.database,
    listDatabases: loaded.databases,
  };
}
