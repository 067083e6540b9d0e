// Pure compilation of the config's `firewall:` section (plus jails and allowlist) into the FirewallPolicy IR.
import { parseCidr } from "../domain/address.js";
import type { BanScope } from "../domain/decision.js";
import type { Config } from "../config/config.js";
import { sameScope, sipBanScope } from "./policy.js";
import type {
  BanSetSpec,
  BlocklistSpec,
  FirewallPolicy,
  Icmpv4Type,
  Icmpv6Type,
  Service,
  ServicePort,
  SourceRestriction,
} from "./policy.js";

/** The slice of the config the firewall needs: its section, the jails' ban scopes, the allowlist. */
export type PolicyConfig = Pick<Config, "firewall" | "jails" | "allowlist" | "recidive" | "ipv6Prefix">;

export interface CompileInputs {
  /** Blocklist contents by name (see `loadBlocklists`); a missing name compiles to an empty set. */
  readonly blocklists?: ReadonlyMap<string, readonly string[]>;
  /** The country restriction as read from its files (see `loadCountryLists`); absent or null: none. */
  readonly countries?: SourceRestriction | null;
}

/** The bogon lists live with the IR (the renderers use them); re-exported for existing importers. */
export { BOGONS_V4, BOGONS_V6 } from "./policy.js";

const ICMPV4: Readonly<Record<Icmpv4Type, true>> = {
  "echo-request": true,
  "destination-unreachable": true,
  "time-exceeded": true,
  "parameter-problem": true,
  "router-advertisement": true,
  "router-solicitation": true,
};
const ICMPV6: Readonly<Record<Icmpv6Type, true>> = {
  "echo-request": true,
  "destination-unreachable": true,
  "packet-too-big": true,
  "time-exceeded": true,
  "parameter-problem": true,
  "mld-listener-query": true,
  "mld-listener-report": true,
  "mld2-listener-report": true,
};

function services(config: PolicyConfig): Service[] {
  return Object.values(config.firewall.services)
    .map((s) => ({
      name: s.name,
      ports: s.protocols.map((protocol): ServicePort => ({
        protocol,
        ports: s.ports.map((r) => ({ ...r })),
      })),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Canonical text of every allowlist entry that is an address or CIDR; names and `file:` lists resolve at run time. */
function literalAllowlist(allowlist: readonly string[]): string[] {
  return [...new Set(allowlist.map((e) => parseCidr(e)?.text).filter((t): t is string => t !== undefined))];
}

/**
 * One ban set per distinct scope: `ban` (all ports) and `sipban` from `firewall.bans.scopes`, all ports for
 * recidive, then `svcbanN` for each jail scope not covered yet, so every scope a jail bans on has its set.
 */
function banSets(config: PolicyConfig, sipScope: BanScope): BanSetSpec[] {
  const out: BanSetSpec[] = [];
  const ensure = (scope: BanScope, name: () => string): void => {
    if (!out.some((b) => sameScope(b.scope, scope))) out.push({ name: name(), scope });
  };
  const all: BanScope = { kind: "all" };
  if (config.firewall.bans.scopes.includes("all") || config.recidive.enabled) ensure(all, () => "ban");
  if (config.firewall.bans.scopes.includes("sip")) ensure(sipScope, () => "sipban");
  let n = 0;
  for (const j of config.jails) ensure(j.scope, () => (j.scope.kind === "all" ? "ban" : `svcban${++n}`));
  return out;
}

export function compilePolicy(config: PolicyConfig, inputs: CompileInputs = {}): FirewallPolicy {
  const fw = config.firewall;
  const canonical = (list: readonly string[]): string[] => list.map((s) => parseCidr(s)?.text ?? s); // rules already refused the unparsable
  const p = fw.protections;
  const trap = p.portScanTrap;
  const bait: ServicePort[] = trap
    ? (["tcp", "udp"] as const)
        .filter((proto) => trap[proto].length > 0)
        .map((protocol) => ({ protocol, ports: trap[protocol].map((r) => ({ ...r })) }))
    : [];
  const s = fw.sipInspection;
  const core: FirewallPolicy = {
    families: [...fw.families],
    services: services(config),
    sipServices: [...fw.sipServices],
    icmp: {
      v4: fw.icmp.v4.filter((t): t is Icmpv4Type => t in ICMPV4),
      v6: fw.icmp.v6.filter((t): t is Icmpv6Type => t in ICMPV6),
    },
    dhcpClient: { v4: fw.dhcp.v4, v6: fw.dhcp.v6 },
    zones: fw.zones.map((z) => ({
      name: z.name,
      kind: z.kind,
      sources: canonical(z.sources),
      services: [...z.services],
    })),
    internet: { services: [...fw.open] },
    wan: { interfaces: [...fw.wan.interfaces], bogons: fw.wan.dropBogons },
    allowlist: literalAllowlist(config.allowlist),
    banSets: [],
    blocklists: [],
    protections: {
      badTcpFlags: p.badTcpFlags,
      newTcpWithoutSyn: p.newWithoutSyn,
      emptyUdp: p.emptyUdp,
      sipRateLimit: p.connectionRate ? { ...p.connectionRate } : null,
      synRateLimit: p.synRate ? { ...p.synRate } : null,
      portScanTrap: trap ? { bait, timeoutMs: trap.timeMs } : null,
    },
    sipInspection: s
      ? {
          services: [...s.services],
          scannerUserAgents: [...new Set(s.scannerUserAgents)],
          userAgentAllow: s.userAgentAllow ? [...s.userAgentAllow] : null,
          secretDomain: s.secretDomain,
          admitTtlMs: s.admitTimeMs,
          registerLimit: s.registerLimit ? { ...s.registerLimit } : null,
          inviteLimit: s.inviteLimit ? { ...s.inviteLimit } : null,
          scannerBanMs: s.scannerBanMs,
        }
      : null,
  };
  const sipScope = sipBanScope(core);
  const blocklists: BlocklistSpec[] = fw.blocklists.map((b) => ({
    name: b.name,
    scope: b.scope === "all" ? { kind: "all" } : sipScope,
    entries: [...(inputs.blocklists?.get(b.name) ?? [])],
  }));
  return {
    ...core,
    banSets: banSets(config, sipScope),
    // Jails ban IPv6 networks of this one length: ban sets hold them, as fast as addresses.
    ...(config.ipv6Prefix < 128 ? { networkBanPrefix6: config.ipv6Prefix } : {}),
    blocklists,
    ...(inputs.countries ? { restrictions: [inputs.countries] } : {}),
  };
}

/**
 * What the compiled policy cannot express, for `check` to print: allowlist names and files, resolved by the
 * daemon at run time.
 */
export function compileNotes(config: PolicyConfig): string[] {
  const notes: string[] = [];
  const unresolved = config.allowlist.filter((e) => parseCidr(e) === null);
  if (unresolved.length > 0)
    notes.push(
      `allowlist entries resolved by the daemon at run time, not in this ruleset: ${unresolved.join(", ")}`,
    );
  return notes;
}
