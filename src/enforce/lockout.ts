// Pure lockout check: would this policy refuse a new SSH connection from where the admin sits right now?
import { cidrContains, parseCidr, parseIp } from "../domain/address.js";
import type { IpAddress } from "../domain/address.js";
import type { BanScope } from "../domain/decision.js";
import type { BanRecord } from "./firewall-backend.js";
import { internetServices, portsOf, restrictionEntries } from "./policy.js";
import type { FirewallPolicy, ServicePort } from "./policy.js";

/** The session `sshd` describes in `SSH_CONNECTION`: "client_ip client_port server_ip server_port". */
export interface SshSession {
  readonly client: IpAddress;
  readonly server: IpAddress;
  readonly serverPort: number;
}

/** Parses `SSH_CONNECTION`; null when unset or malformed (then there is no session to protect). */
export function parseSshConnection(value: string | undefined): SshSession | null {
  if (!value) return null;
  const parts = value.trim().split(/\s+/);
  if (parts.length !== 4) return null;
  const client = parseIp(parts[0] ?? "");
  const server = parseIp(parts[2] ?? "");
  const port = Number(parts[3]);
  if (!client || !server || !Number.isInteger(port) || port < 1 || port > 65535) return null;
  return { client, server, serverPort: port };
}

export interface LockoutVerdict {
  readonly accepted: boolean;
  /** Which element decided, in words ("zone office", "ban set ban", "default drop"). */
  readonly because: string;
}

function inList(list: readonly string[], ip: IpAddress): boolean {
  return list.some((s) => {
    const c = parseCidr(s);
    return c !== null && cidrContains(c, ip);
  });
}

function portIn(sp: readonly ServicePort[], port: number): boolean {
  return sp.some((p) => p.protocol === "tcp" && p.ports.some((r) => r.from <= port && port <= r.to));
}

function scopeCovers(scope: BanScope, port: number): boolean {
  return (
    scope.kind === "all" ||
    (scope.protocols.includes("tcp") && scope.ports.some((r) => r.from <= port && port <= r.to))
  );
}

/**
 * Evaluates a new TCP connection (a plain SYN) from the session's client to its server port against the
 * policy, in the renderers' order: family, allowlist (which skips bans), trap/bans/blocklists, zones, the
 * scan trap's bait, the internet services (a restricted one for its networks only), default drop. The live
 * session itself would survive through conntrack, but the next login would not: that is the lockout this
 * refuses.
 */
export function evaluateSsh(
  policy: FirewallPolicy,
  session: SshSession,
  bans: readonly BanRecord[] = [],
): LockoutVerdict {
  const { client, serverPort: port } = session;
  if (client.text === session.server.text || client.text === "127.0.0.1" || client.text === "::1")
    return { accepted: true, because: "loopback" };
  const family = client.family === 4 ? "ipv4" : "ipv6";
  if (!policy.families.includes(family)) return { accepted: false, because: `family ${family} disabled` };
  const allowed = inList([...policy.zones.flatMap((z) => z.sources), ...policy.allowlist], client);
  if (!allowed) {
    for (const b of bans)
      if (b.target === client.text && scopeCovers(b.scope, port))
        return { accepted: false, because: `${client.text} is banned` };
    for (const b of policy.blocklists)
      if (scopeCovers(b.scope, port) && inList(b.entries, client))
        return { accepted: false, because: `blocklist ${b.name}` };
  }
  for (const z of policy.zones)
    if (inList(z.sources, client) && portIn(portsOf(policy, z.services), port))
      return { accepted: true, because: `zone ${z.name}` };
  const trap = policy.protections.portScanTrap;
  if (!allowed && trap && portIn(trap.bait, port))
    return { accepted: false, because: "port-scan trap bait port" };
  const internet = internetServices(policy);
  if (portIn(portsOf(policy, internet.open), port))
    return { accepted: true, because: "open to the internet" };
  for (const { restriction: r, services } of internet.restricted) {
    if (!portIn(portsOf(policy, services), port)) continue;
    if (allowed || inList(restrictionEntries(r), client))
      return { accepted: true, because: `open to the internet (${r.name})` };
    return { accepted: false, because: `open only to ${r.name}: ${r.lists.map((l) => l.label).join(", ")}` };
  }
  return { accepted: false, because: "default drop" };
}
