// The policy's intended verdict for one inbound packet, computed from the IR alone (no renderer), with the rule that decided it.
import { cidrContains, parseCidr, parseIp } from "../../domain/address.js";
import type { IpAddress } from "../../domain/address.js";
import type { BanScope } from "../../domain/decision.js";
import {
  BOGONS_V4,
  BOGONS_V6,
  dropsBogons,
  internetServices,
  portsOf,
  restrictionEntries,
  sameScope,
} from "../policy.js";
import type { AddressFamily, FirewallPolicy, Icmpv4Type, Icmpv6Type, ServicePort } from "../policy.js";
import { ICMPV6_ND_TYPES } from "../policy.js";

export type PacketProtocol = "tcp" | "udp" | "icmp" | "icmpv6";

export type TcpFlag = "fin" | "syn" | "rst" | "psh" | "ack" | "urg" | "ece" | "cwr";

/**
 * What conntrack made of the packet before the filter ran. `untracked` is what the kernel gives MLD and
 * neighbour discovery, which conntrack deliberately ignores; it is neither new nor invalid.
 */
export type CtState = "new" | "established" | "related" | "invalid" | "untracked";

export type IcmpTypeName = Icmpv4Type | Icmpv6Type | (typeof ICMPV6_ND_TYPES)[number] | "echo-reply";

/** One packet arriving at the host from outside (or from loopback). */
export interface Packet {
  readonly family: AddressFamily;
  readonly src: string;
  readonly dst: string;
  readonly protocol: PacketProtocol;
  /** Destination and source ports; ignored for ICMP. */
  readonly dport: number;
  readonly sport: number;
  /** TCP only; absent means no flag set (a "null" packet). */
  readonly tcpFlags?: readonly TcpFlag[];
  readonly ctState: CtState;
  /** Bytes after the transport header (UDP/TCP payload). */
  readonly payloadLength: number;
  /** ICMP/ICMPv6 only. */
  readonly icmpType?: IcmpTypeName;
  /** IPv4 TTL / IPv6 hop limit; 64 when absent. Neighbour discovery must carry 255 (RFC 4861). */
  readonly hopLimit?: number;
  /** Arrived on the loopback interface. */
  readonly loopback?: boolean;
  /** The interface it arrived on, when known (bogon drops apply on the WAN interfaces only). */
  readonly inInterface?: string;
}

/** A ban as detection hands it to a backend: one address (or prefix) and the ports it covers. */
export interface StateBan {
  readonly target: string;
  readonly scope: BanScope;
}

/** The kernel-side state that changes while the policy stays the same. */
export interface FirewallState {
  readonly bans: readonly StateBan[];
  /** Sources caught by the port-scan trap and not yet expired. */
  readonly trapped: readonly string[];
  /**
   * Sources whose SIP new-connection budget is spent right now. The limit is a token bucket across
   * packets, so a single-packet evaluator cannot compute it; callers that know (or assume) it pass it here.
   */
  readonly sipRateExceeded?: readonly string[];
  /** Sources whose per-source SYN budget (all TCP ports) is spent right now; see `sipRateExceeded`. */
  readonly synRateExceeded?: readonly string[];
}

export interface Verdict {
  readonly verdict: "accept" | "drop";
  /** The deciding rule, e.g. `ban:sipban`, `zone:office:ssh`, `bad-tcp-flags:xmas`, `default-drop`. */
  readonly rule: string;
  /** True when this packet puts its source into the port-scan trap (state for the packets after it). */
  readonly trapsSource?: boolean;
}

const accept = (rule: string): Verdict => ({ verdict: "accept", rule });
const drop = (rule: string): Verdict => ({ verdict: "drop", rule });

function familyOf(f: AddressFamily): 4 | 6 {
  return f === "ipv4" ? 4 : 6;
}

/** True when `src` lies in any of `list` (addresses or CIDRs); unparsable entries match nothing. */
function inAny(src: IpAddress, list: readonly string[]): boolean {
  return list.some((entry) => {
    const c = parseCidr(entry);
    return c !== null && cidrContains(c, src);
  });
}

function isTransport(p: Packet): p is Packet & { protocol: "tcp" | "udp" } {
  return p.protocol === "tcp" || p.protocol === "udp";
}

/** Whether a drop with `scope` applies to this packet: every packet, or TCP/UDP to one of its ports. */
function scopeCovers(scope: BanScope, p: Packet): boolean {
  if (scope.kind === "all") return true;
  if (!isTransport(p)) return false;
  return (
    scope.protocols.includes(p.protocol) && scope.ports.some((r) => p.dport >= r.from && p.dport <= r.to)
  );
}

function portsCover(sp: readonly ServicePort[], p: Packet): boolean {
  if (!isTransport(p)) return false;
  return sp.some(
    (s) => s.protocol === p.protocol && s.ports.some((r) => p.dport >= r.from && p.dport <= r.to),
  );
}

/** The first of `services` whose ports take this packet. */
function serviceFor(policy: FirewallPolicy, services: readonly string[], p: Packet): string | undefined {
  return services.find((name) => portsCover(portsOf(policy, [name]), p));
}

function has(p: Packet, f: TcpFlag): boolean {
  return p.tcpFlags?.includes(f) ?? false;
}

/** Which of the combinations no TCP stack sends this is, if any (the policy's "bad TCP flags"). */
function badFlagName(p: Packet): string | null {
  const six: TcpFlag[] = ["fin", "syn", "rst", "psh", "ack", "urg"];
  if (six.every((f) => !has(p, f))) return "null";
  if (has(p, "syn") && has(p, "fin")) return "syn-fin";
  if (has(p, "syn") && has(p, "rst")) return "syn-rst";
  if (has(p, "fin") && !has(p, "ack")) return "fin-without-ack";
  // Christmas tree: FIN, PSH and URG lit together, whatever else is.
  if (has(p, "fin") && has(p, "psh") && has(p, "urg")) return "xmas";
  return null;
}

/** The opening packet of a handshake: SYN, and none of ACK, FIN, RST (ECN and PSH/URG bits don't matter). */
function isPlainSyn(p: Packet): boolean {
  return has(p, "syn") && !has(p, "ack") && !has(p, "fin") && !has(p, "rst");
}

function banRule(policy: FirewallPolicy, scope: BanScope): string {
  const set = policy.banSets.find((b) => sameScope(b.scope, scope));
  return set ? `ban:${set.name}` : "ban";
}

/**
 * The verdict the policy means for `packet`, in the order the policy documents:
 * 1. loopback is accepted; a family the host does not serve is dropped;
 * 2. allowlisted sources (zone members and `allowlist`) skip step 3 — allow wins over every ban;
 * 3. trapped, banned and blocklisted sources are dropped before conntrack can accept their flows;
 * 4. on-link IPv6 neighbour discovery is accepted; conntrack-invalid packets and the protections
 *    (bad TCP flags, NEW TCP without SYN, empty UDP) drop; established/related flows are accepted;
 * 5. the ICMP allow-list, DHCP replies, zone services; then, for sources that are not allowlisted, the
 *    port-scan bait and the SIP rate limit; then the internet services (a restricted one only for allowlisted
 *    sources and the restriction's networks); everything else is dropped.
 * Rate limits are not computed (they depend on earlier packets): see `FirewallState.sipRateExceeded` and
 * `synRateExceeded`. Bogon sources are dropped in step 3 when the packet came in on a WAN interface.
 */
export function evaluatePacket(policy: FirewallPolicy, state: FirewallState, packet: Packet): Verdict {
  if (packet.loopback) return accept("loopback");
  if (!policy.families.includes(packet.family)) return drop(`family-disabled:${packet.family}`);
  const src = parseIp(packet.src);
  if (!src || src.family !== familyOf(packet.family))
    throw new TypeError(`packet source ${JSON.stringify(packet.src)} is not an ${packet.family} address`);

  const zoneSources = policy.zones.flatMap((z) => z.sources);
  const allowlisted = inAny(src, zoneSources) || inAny(src, policy.allowlist);

  if (!allowlisted) {
    const wan = policy.wan;
    if (
      dropsBogons(policy) &&
      packet.inInterface !== undefined &&
      wan!.interfaces.includes(packet.inInterface)
    )
      if (inAny(src, src.family === 4 ? BOGONS_V4 : BOGONS_V6)) return drop("bogon");
    if (policy.protections.portScanTrap && inAny(src, state.trapped)) return drop("trap");
    const ban = state.bans.find((b) => inAny(src, [b.target]) && scopeCovers(b.scope, packet));
    if (ban) return drop(banRule(policy, ban.scope));
    const bl = policy.blocklists.find((b) => scopeCovers(b.scope, packet) && inAny(src, b.entries));
    if (bl) return drop(`blocklist:${bl.name}`);
  }

  const nd = ICMPV6_ND_TYPES as readonly string[];
  if (packet.protocol === "icmpv6" && packet.icmpType && nd.includes(packet.icmpType)) {
    // Only a hop limit of 255 proves the sender is on our link; anything else is spoofed from afar.
    if ((packet.hopLimit ?? 64) === 255) return accept("icmpv6-nd");
  }

  if (packet.ctState === "invalid") return drop("ct-invalid");
  const prot = policy.protections;
  if (packet.protocol === "tcp") {
    const bad = prot.badTcpFlags ? badFlagName(packet) : null;
    if (bad) return drop(`bad-tcp-flags:${bad}`);
    if (prot.newTcpWithoutSyn && packet.ctState === "new" && !isPlainSyn(packet))
      return drop("new-tcp-without-syn");
  }
  if (packet.protocol === "udp" && prot.emptyUdp && packet.payloadLength === 0) return drop("empty-udp");
  if (packet.ctState === "established") return accept("ct-established");
  if (packet.ctState === "related") return accept("ct-related");

  if (packet.protocol === "icmp" && packet.icmpType) {
    if ((policy.icmp.v4 as readonly string[]).includes(packet.icmpType))
      return accept(`icmp-allow:${packet.icmpType}`);
  }
  if (packet.protocol === "icmpv6" && packet.icmpType) {
    if ((policy.icmp.v6 as readonly string[]).includes(packet.icmpType))
      return accept(`icmpv6-allow:${packet.icmpType}`);
  }

  if (packet.protocol === "udp") {
    if (packet.family === "ipv4" && policy.dhcpClient.v4 && packet.sport === 67 && packet.dport === 68)
      return accept("dhcp-v4");
    // DHCPv6 servers and relays answer from their link-local address.
    const linkLocal = parseCidr("fe80::/10");
    if (
      packet.family === "ipv6" &&
      policy.dhcpClient.v6 &&
      packet.sport === 547 &&
      packet.dport === 546 &&
      linkLocal !== null &&
      cidrContains(linkLocal, src)
    )
      return accept("dhcp-v6");
  }

  for (const z of policy.zones) {
    if (!inAny(src, z.sources)) continue;
    const service = serviceFor(policy, z.services, packet);
    if (service) return accept(`zone:${z.name}:${service}`);
  }

  if (!allowlisted && packet.ctState === "new") {
    const trap = prot.portScanTrap;
    if (trap && portsCover(trap.bait, packet))
      return { verdict: "drop", rule: "trap-bait", trapsSource: true };
    if (prot.synRateLimit && isPlainSyn(packet) && inAny(src, state.synRateExceeded ?? []))
      return drop("syn-rate-limit");
    const sipPorts = portsOf(policy, policy.sipServices);
    if (prot.sipRateLimit && portsCover(sipPorts, packet) && inAny(src, state.sipRateExceeded ?? []))
      return drop("sip-rate-limit");
  }

  const internet = internetServices(policy);
  const service = serviceFor(policy, internet.open, packet);
  if (service) return accept(`internet:${service}`);
  for (const { restriction, services } of internet.restricted) {
    const narrowed = serviceFor(policy, services, packet);
    if (narrowed === undefined) continue;
    if (allowlisted) return accept(`internet:${narrowed}:allowlisted`);
    if (inAny(src, restrictionEntries(restriction)))
      return accept(`internet:${narrowed}:${restriction.name}`);
    return drop(`restricted:${restriction.name}`);
  }
  return drop("default-drop");
}
