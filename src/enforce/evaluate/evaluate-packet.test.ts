// Table-driven checks of the policy evaluator: each documented precedence rule, one row per case.
import { describe, expect, it } from "vitest";
import { countriesPolicy, freepbxPolicy, minimalPolicy } from "../../../test/enforce/policy-fixtures.js";
import type { BanScope } from "../../domain/decision.js";
import type { FirewallPolicy } from "../policy.js";
import { sipBanScope } from "../policy.js";
import { evaluatePacket } from "./evaluate-packet.js";
import type { FirewallState, Packet, TcpFlag } from "./evaluate-packet.js";

const PBX = freepbxPolicy();
const ALL: BanScope = { kind: "all" };
const SIP = sipBanScope(PBX);

const STRANGER = "192.0.2.50";
const BANNED = "192.0.2.66";
const SIP_BANNED = "192.0.2.77";
const OFFICE = "192.168.1.20"; // office zone and the 192.168.1.0/25 allowlist
const OFFICE_BANNED = "192.168.1.200"; // office zone only
const TRUNK = "203.0.113.10";
const ALLOWED = "198.51.100.7"; // allowlist only: wins over bans, opens no port
const VOIPBL = "45.134.26.5";
const TRAPPED = "192.0.2.99";

const STATE: FirewallState = {
  bans: [
    { target: BANNED, scope: ALL },
    { target: SIP_BANNED, scope: SIP },
    { target: OFFICE_BANNED, scope: ALL },
    { target: ALLOWED, scope: ALL },
    { target: "2001:db8:bad::1", scope: ALL },
  ],
  trapped: [TRAPPED, OFFICE],
  sipRateExceeded: [STRANGER, OFFICE],
};
const CLEAN: FirewallState = { bans: [], trapped: [] };

function tcp(src: string, dport: number, flags: TcpFlag[] = ["syn"], ct: Packet["ctState"] = "new"): Packet {
  const v6 = src.includes(":");
  return {
    family: v6 ? "ipv6" : "ipv4",
    src,
    dst: v6 ? "2001:db8::1" : "203.0.113.1",
    protocol: "tcp",
    sport: 40_000,
    dport,
    tcpFlags: flags,
    ctState: ct,
    payloadLength: 0,
  };
}

function udp(
  src: string,
  dport: number,
  payloadLength = 20,
  ct: Packet["ctState"] = "new",
  sport = 40_000,
): Packet {
  return { ...tcp(src, dport), protocol: "udp", tcpFlags: undefined, sport, payloadLength, ctState: ct };
}

function icmp(
  src: string,
  icmpType: Packet["icmpType"],
  ct: Packet["ctState"] = "new",
  hopLimit = 64,
): Packet {
  const v6 = src.includes(":");
  return {
    ...tcp(src, 0),
    protocol: v6 ? "icmpv6" : "icmp",
    tcpFlags: undefined,
    icmpType,
    ctState: ct,
    hopLimit,
  };
}

const noProtections: FirewallPolicy = {
  ...PBX,
  protections: { ...PBX.protections, badTcpFlags: false, newTcpWithoutSyn: false, emptyUdp: false },
};
const dhcp6: FirewallPolicy = { ...PBX, dhcpClient: { v4: true, v6: true } };

type Row = readonly [string, FirewallPolicy, FirewallState, Packet, "accept" | "drop", string];

const ROWS: readonly Row[] = [
  // services and zones
  ["internet service", PBX, CLEAN, tcp(STRANGER, 5060), "accept", "internet:sip"],
  ["port range", PBX, CLEAN, udp(STRANGER, 15_000), "accept", "internet:rtp"],
  ["closed port", PBX, CLEAN, tcp(STRANGER, 22), "drop", "default-drop"],
  ["zone service", PBX, CLEAN, tcp(OFFICE, 22), "accept", "zone:office:ssh"],
  ["zone service over IPv6", PBX, CLEAN, udp("fd00:1::9", 2727), "accept", "zone:office:mgcp"],
  ["host zone", PBX, CLEAN, udp(TRUNK, 4569), "accept", "zone:trunk:iax2"],
  ["zone service is not the internet's", PBX, CLEAN, udp(STRANGER, 4569), "drop", "default-drop"],
  ["allowlist opens no port", PBX, CLEAN, tcp(ALLOWED, 22), "drop", "default-drop"],
  // bans, blocklists and the trap, before conntrack; allow wins over all of them
  ["ban on all ports", PBX, STATE, tcp(BANNED, 80), "drop", "ban:ban"],
  ["ban cuts an established flow", PBX, STATE, udp(BANNED, 5060, 20, "established"), "drop", "ban:ban"],
  [
    "ban cuts neighbour discovery",
    PBX,
    STATE,
    icmp("2001:db8:bad::1", "nd-neighbor-solicit", "untracked", 255),
    "drop",
    "ban:ban",
  ],
  ["SIP-scoped ban on SIP", PBX, STATE, udp(SIP_BANNED, 5060), "drop", "ban:sipban"],
  ["SIP-scoped ban elsewhere", PBX, STATE, tcp(SIP_BANNED, 80), "accept", "internet:http"],
  [
    "SIP-scoped ban spares ICMP",
    PBX,
    STATE,
    icmp(SIP_BANNED, "echo-request"),
    "accept",
    "icmp-allow:echo-request",
  ],
  ["zone member's ban loses", PBX, STATE, tcp(OFFICE_BANNED, 22), "accept", "zone:office:ssh"],
  ["allowlisted ban loses", PBX, STATE, tcp(ALLOWED, 80), "accept", "internet:http"],
  ["blocklist on its scope", PBX, CLEAN, udp(VOIPBL, 5060), "drop", "blocklist:voipbl"],
  ["blocklist scope is protocols × ports", PBX, CLEAN, udp(VOIPBL, 5061), "drop", "blocklist:voipbl"],
  ["blocklist outside its scope", PBX, CLEAN, tcp(VOIPBL, 443), "accept", "internet:https"],
  ["blocklist over IPv6", PBX, CLEAN, tcp("2a0e:1c80::5", 5061), "drop", "blocklist:voipbl"],
  ["trapped source", PBX, STATE, tcp(TRAPPED, 80), "drop", "trap"],
  ["trapped but allowlisted", PBX, STATE, tcp(OFFICE, 22), "accept", "zone:office:ssh"],
  ["trapped, policy without trap", minimalPolicy(), STATE, tcp(TRAPPED, 22), "accept", "internet:ssh"],
  // conntrack and the protections
  [
    "established on a closed port",
    PBX,
    CLEAN,
    udp(STRANGER, 9999, 20, "established"),
    "accept",
    "ct-established",
  ],
  [
    "related ICMP error",
    PBX,
    CLEAN,
    icmp(STRANGER, "destination-unreachable", "related"),
    "accept",
    "ct-related",
  ],
  ["invalid", PBX, CLEAN, tcp(STRANGER, 5060, ["ack"], "invalid"), "drop", "ct-invalid"],
  ["invalid from the office", PBX, CLEAN, tcp(OFFICE, 22, ["syn"], "invalid"), "drop", "ct-invalid"],
  [
    "SYN+FIN",
    PBX,
    CLEAN,
    tcp(STRANGER, 5060, ["syn", "fin"], "established"),
    "drop",
    "bad-tcp-flags:syn-fin",
  ],
  [
    "SYN+RST",
    PBX,
    CLEAN,
    tcp(STRANGER, 5060, ["syn", "rst"], "established"),
    "drop",
    "bad-tcp-flags:syn-rst",
  ],
  [
    "FIN without ACK",
    PBX,
    CLEAN,
    tcp(STRANGER, 5060, ["fin"], "established"),
    "drop",
    "bad-tcp-flags:fin-without-ack",
  ],
  ["null", PBX, CLEAN, tcp(STRANGER, 5060, [], "established"), "drop", "bad-tcp-flags:null"],
  [
    "xmas with ACK",
    PBX,
    CLEAN,
    tcp(STRANGER, 5060, ["fin", "psh", "urg", "ack"], "established"),
    "drop",
    "bad-tcp-flags:xmas",
  ],
  [
    "FIN+ACK is fine",
    PBX,
    CLEAN,
    tcp(STRANGER, 5060, ["fin", "ack"], "established"),
    "accept",
    "ct-established",
  ],
  [
    "bad flags off",
    noProtections,
    CLEAN,
    tcp(STRANGER, 5060, ["fin", "psh", "urg", "ack"], "established"),
    "accept",
    "ct-established",
  ],
  [
    "bad flags bind the office too",
    PBX,
    CLEAN,
    tcp(OFFICE, 22, ["syn", "fin"]),
    "drop",
    "bad-tcp-flags:syn-fin",
  ],
  ["NEW without SYN", PBX, CLEAN, tcp(STRANGER, 5060, ["ack"]), "drop", "new-tcp-without-syn"],
  ["NEW SYN/ACK", PBX, CLEAN, tcp(STRANGER, 5060, ["syn", "ack"]), "drop", "new-tcp-without-syn"],
  ["ECN SYN", PBX, CLEAN, tcp(STRANGER, 5060, ["syn", "ece", "cwr"]), "accept", "internet:sip"],
  [
    "NEW without SYN, check off",
    noProtections,
    CLEAN,
    tcp(STRANGER, 5060, ["ack"]),
    "accept",
    "internet:sip",
  ],
  ["empty UDP", PBX, CLEAN, udp(STRANGER, 5060, 0), "drop", "empty-udp"],
  ["empty UDP in a flow", PBX, CLEAN, udp(STRANGER, 5060, 0, "established"), "drop", "empty-udp"],
  ["one byte of UDP", PBX, CLEAN, udp(STRANGER, 5060, 1), "accept", "internet:sip"],
  ["empty UDP, check off", noProtections, CLEAN, udp(STRANGER, 5060, 0), "accept", "internet:sip"],
  // ICMP, neighbour discovery, DHCP, families, loopback
  ["ICMP allow-list", PBX, CLEAN, icmp(STRANGER, "echo-request"), "accept", "icmp-allow:echo-request"],
  ["ICMP not listed", PBX, CLEAN, icmp(STRANGER, "router-advertisement"), "drop", "default-drop"],
  [
    "ICMPv6 allow-list",
    PBX,
    CLEAN,
    icmp("2001:db8::77", "packet-too-big"),
    "accept",
    "icmpv6-allow:packet-too-big",
  ],
  [
    "ND on-link",
    PBX,
    CLEAN,
    icmp("2001:db8::77", "nd-neighbor-solicit", "untracked", 255),
    "accept",
    "icmpv6-nd",
  ],
  [
    "ND from afar",
    PBX,
    CLEAN,
    icmp("2001:db8::77", "nd-neighbor-solicit", "untracked", 64),
    "drop",
    "default-drop",
  ],
  ["DHCPv4 reply", PBX, CLEAN, udp(STRANGER, 68, 300, "new", 67), "accept", "dhcp-v4"],
  ["DHCPv6 off", PBX, CLEAN, udp("fe80::1", 546, 100, "new", 547), "drop", "default-drop"],
  ["DHCPv6 reply", dhcp6, CLEAN, udp("fe80::1", 546, 100, "new", 547), "accept", "dhcp-v6"],
  [
    "DHCPv6 from a global address",
    dhcp6,
    CLEAN,
    udp("2001:db8::5", 546, 100, "new", 547),
    "drop",
    "default-drop",
  ],
  ["family not served", minimalPolicy(), CLEAN, tcp("2001:db8::5", 22), "drop", "family-disabled:ipv6"],
  ["loopback", minimalPolicy(), STATE, { ...tcp("2001:db8::5", 9), loopback: true }, "accept", "loopback"],
  // SIP rate limit, when the caller knows the bucket is empty
  ["over the SIP rate", PBX, STATE, udp(STRANGER, 5060), "drop", "sip-rate-limit"],
  ["over the rate, other port", PBX, STATE, tcp(STRANGER, 80), "accept", "internet:http"],
  [
    "over the rate, established",
    PBX,
    STATE,
    udp(STRANGER, 5060, 20, "established"),
    "accept",
    "ct-established",
  ],
  ["over the rate, allowlisted", PBX, STATE, udp(OFFICE, 5060), "accept", "zone:office:sip"],
];

describe("evaluatePacket", () => {
  it.each(ROWS)("%s", (_name, policy, state, packet, verdict, rule) => {
    expect(evaluatePacket(policy, state, packet)).toEqual({ verdict, rule });
  });

  it("reports that a NEW packet to a bait port traps its source", () => {
    expect(evaluatePacket(PBX, CLEAN, tcp(STRANGER, 23))).toEqual({
      verdict: "drop",
      rule: "trap-bait",
      trapsSource: true,
    });
  });

  it("does not trap allowlisted sources, nor packets an earlier rule drops", () => {
    expect(evaluatePacket(PBX, CLEAN, tcp(OFFICE, 23))).toEqual({ verdict: "drop", rule: "default-drop" });
    expect(evaluatePacket(PBX, CLEAN, tcp(STRANGER, 23, ["ack"]))).toEqual({
      verdict: "drop",
      rule: "new-tcp-without-syn",
    });
    expect(evaluatePacket(PBX, CLEAN, tcp(STRANGER, 23, ["ack"], "established"))).toEqual({
      verdict: "accept",
      rule: "ct-established",
    });
  });

  it("refuses a source that is not an address of the packet's family", () => {
    expect(() => evaluatePacket(PBX, CLEAN, { ...tcp(STRANGER, 80), family: "ipv6" })).toThrow(TypeError);
    expect(() => evaluatePacket(PBX, CLEAN, tcp("not-an-ip", 80))).toThrow(TypeError);
  });

  it("is pure: the same inputs give the same verdict and nothing is mutated", () => {
    const state: FirewallState = { bans: [{ target: BANNED, scope: ALL }], trapped: [] };
    const snapshot = JSON.stringify({ PBX, state });
    const first = evaluatePacket(PBX, state, tcp(BANNED, 80));
    expect(evaluatePacket(PBX, state, tcp(BANNED, 80))).toEqual(first);
    expect(JSON.stringify({ PBX, state })).toBe(snapshot);
  });
});

describe("WAN bogons and the SYN rate", () => {
  // The minimal policy with SSH open, eth0 as the WAN interface, bogons dropped, a SYN budget.
  const base = (): FirewallPolicy => {
    const p = minimalPolicy();
    return {
      ...p,
      internet: { services: ["ssh"] },
      wan: { interfaces: ["eth0"], bogons: true },
      protections: { ...p.protections, synRateLimit: { perSecond: 50, burst: 100 } },
    };
  };
  it("drops bogon sources on a WAN interface only, and never an allowlisted one", () => {
    const policy = base();
    const pkt = (src: string, inInterface: string) =>
      evaluatePacket(
        policy,
        { bans: [], trapped: [] },
        {
          family: "ipv4",
          src,
          dst: "192.88.99.1",
          protocol: "tcp",
          dport: 22,
          sport: 40000,
          tcpFlags: ["syn"],
          ctState: "new",
          payloadLength: 0,
          inInterface,
        },
      );
    expect(pkt("10.0.0.5", "eth0")).toMatchObject({ verdict: "drop", rule: "bogon" });
    expect(pkt("10.0.0.5", "lan0").rule).not.toBe("bogon");
    expect(pkt("192.88.99.7", "eth0").rule).not.toBe("bogon");
    const allowed = { ...policy, allowlist: ["10.0.0.0/24"] };
    expect(
      evaluatePacket(
        allowed,
        { bans: [], trapped: [] },
        {
          family: "ipv4",
          src: "10.0.0.5",
          dst: "192.88.99.1",
          protocol: "tcp",
          dport: 22,
          sport: 40000,
          tcpFlags: ["syn"],
          ctState: "new",
          payloadLength: 0,
          inInterface: "eth0",
        },
      ).rule,
    ).not.toBe("bogon");
  });

  it("drops a SYN from a source over its SYN budget, not its established traffic", () => {
    const policy = base();
    const syn = {
      family: "ipv4" as const,
      src: "192.88.99.7",
      dst: "192.88.99.1",
      protocol: "tcp" as const,
      dport: 22,
      sport: 40000,
      tcpFlags: ["syn" as const],
      ctState: "new" as const,
      payloadLength: 0,
    };
    expect(
      evaluatePacket(policy, { bans: [], trapped: [], synRateExceeded: ["192.88.99.7"] }, syn).rule,
    ).toBe("syn-rate-limit");
    expect(
      evaluatePacket(
        policy,
        { bans: [], trapped: [], synRateExceeded: ["192.88.99.7"] },
        {
          ...syn,
          tcpFlags: ["ack"],
          ctState: "established",
        },
      ).rule,
    ).toBe("ct-established");
  });
});

describe("a country restriction", () => {
  const policy = countriesPolicy();
  const verdict = (src: string, port = 5060, ct: Packet["ctState"] = "new") =>
    evaluatePacket(policy, CLEAN, udp(src, port, 300, ct, 5060));

  it("lets SIP in from the listed networks, the allowlist and zones; others meet a drop that names it", () => {
    expect(verdict("2.161.3.4")).toEqual({ verdict: "accept", rule: "internet:sip:countries" });
    expect(verdict("2a02:8388::7")).toEqual({ verdict: "accept", rule: "internet:sip:countries" });
    expect(verdict("8.8.8.8")).toEqual({ verdict: "drop", rule: "restricted:countries" });
    expect(verdict("2001:4860::8")).toEqual({ verdict: "drop", rule: "restricted:countries" });
    // The allowlist (a customer abroad, allowed by hand) and the trunk pass; RTP stays open to all.
    expect(verdict(ALLOWED)).toEqual({ verdict: "accept", rule: "internet:sip:allowlisted" });
    expect(verdict(TRUNK).verdict).toBe("accept");
    expect(verdict("8.8.8.8", 12_000)).toEqual({ verdict: "accept", rule: "internet:rtp" });
    // A carrier abroad answering the PBX's own REGISTER: conntrack's, not the restriction's.
    expect(verdict("8.8.8.8", 5060, "established")).toEqual({ verdict: "accept", rule: "ct-established" });
  });
});
