// Policies shared by the enforce unit, golden and integration tests.
import {
  DEFAULT_ICMP,
  DEFAULT_PROTECTIONS,
  WELL_KNOWN_SERVICES,
  sipBanScope,
} from "../../src/enforce/policy.js";
import type { FirewallPolicy, Service } from "../../src/enforce/policy.js";

/** What every test policy starts from: both families, the well-known services, nothing open, no extras. */
export const POLICY_BASE: FirewallPolicy = {
  families: ["ipv4", "ipv6"],
  services: WELL_KNOWN_SERVICES,
  sipServices: ["sip", "sip-tls"],
  icmp: DEFAULT_ICMP,
  dhcpClient: { v4: false, v6: false },
  zones: [],
  internet: { services: [] },
  allowlist: [],
  banSets: [],
  blocklists: [],
  protections: DEFAULT_PROTECTIONS,
  sipInspection: null,
};

export const MGCP: Service = {
  name: "mgcp",
  ports: [{ protocol: "udp", ports: [{ from: 2727, to: 2727 }] }],
};

const base: FirewallPolicy = { ...POLICY_BASE, services: [...WELL_KNOWN_SERVICES, MGCP] };

/** Ban sets every realistic policy has: one for all ports, one for the SIP ports. */
export function banSets(p: FirewallPolicy): FirewallPolicy["banSets"] {
  return [
    { name: "ban", scope: { kind: "all" } },
    { name: "sipban", scope: sipBanScope(p) },
  ];
}

/** A FreePBX host as the seeds describe it: office LAN, one trunk, public SIP/RTP/web, VoIPBL. */
export function freepbxPolicy(): FirewallPolicy {
  return {
    ...base,
    dhcpClient: { v4: true, v6: false },
    zones: [
      {
        name: "office",
        kind: "network",
        sources: ["192.168.1.0/24", "fd00:1::/64"],
        services: ["ssh", "webmin", "ami", "sip", "mgcp"],
      },
      { name: "trunk", kind: "host", sources: ["203.0.113.10", "2001:db8::10"], services: ["sip", "iax2"] },
    ],
    internet: { services: ["sip", "sip-tls", "rtp", "http", "https"] },
    allowlist: ["198.51.100.7", "192.168.1.0/25"],
    // The office LAN sits behind eth1: its private sources pass there, and as allowlisted ones on eth0 too.
    wan: { interfaces: ["eth0"], bogons: true },
    banSets: banSets(base),
    blocklists: [
      {
        name: "voipbl",
        scope: sipBanScope(base),
        entries: ["45.134.26.0/24", "45.134.26.77", "185.53.88.0/22", "2a0e:1c80::/32", "93.157.62.9"],
      },
    ],
    protections: {
      ...DEFAULT_PROTECTIONS,
      portScanTrap: {
        bait: [
          {
            protocol: "tcp",
            ports: [
              { from: 23, to: 23 },
              { from: 1433, to: 1433 },
              { from: 3389, to: 3389 },
            ],
          },
        ],
        timeoutMs: 3_600_000,
      },
    },
  };
}

/** The smallest useful policy: IPv4 only, SSH from the internet, no extras. */
export function minimalPolicy(): FirewallPolicy {
  return {
    ...base,
    families: ["ipv4"],
    internet: { services: ["ssh"] },
    banSets: [{ name: "ban", scope: { kind: "all" } }],
    protections: {
      badTcpFlags: false,
      newTcpWithoutSyn: false,
      emptyUdp: false,
      sipRateLimit: null,
      portScanTrap: null,
    },
  };
}

/**
 * FreePBX's policy with SIP and SIP-TLS open only to two countries' networks (as `firewall.countries` reads
 * them); RTP and the web stay open to all.
 */
export function countriesPolicy(): FirewallPolicy {
  return {
    ...freepbxPolicy(),
    restrictions: [
      {
        name: "countries",
        services: ["sip", "sip-tls"],
        lists: [
          { label: "de", entries: ["2.160.0.0/12", "5.1.56.0/21", "2001:67c::/32"] },
          { label: "at", entries: ["77.116.0.0/14", "5.1.60.0/22", "2a02:8388::/32"] },
        ],
      },
    ],
  };
}
/**
 * The fw ↔ peer labs' host policy: `office` may reach AMI (5038), `allowlist` is allowlisted, `blocklist`
 * is dropped; SIP and HTTP are open to the internet; 2323 is scan-trap bait; 8080 is closed.
 */
export function peerLabPolicy(
  from: FirewallPolicy,
  hosts: { office: readonly string[]; allowlist: readonly string[]; blocklist: string },
): FirewallPolicy {
  return {
    ...from,
    zones: [{ name: "office", kind: "host", sources: [...hosts.office], services: ["ami"] }],
    internet: { services: ["sip", "http"] },
    allowlist: [...hosts.allowlist],
    banSets: banSets(from),
    blocklists: [{ name: "block", scope: { kind: "all" }, entries: [hosts.blocklist] }],
    protections: {
      ...DEFAULT_PROTECTIONS,
      sipRateLimit: { perSecond: 50, burst: 100 },
      portScanTrap: { bait: [{ protocol: "tcp", ports: [{ from: 2323, to: 2323 }] }], timeoutMs: 60_000 },
    },
  };
}

/**
 * The lab policy of the packet tests: fw at 10.77.0.1 / fd77::1; peer sources .2/.3 are strangers, .4 is
 * allowlisted, .5 is used for the scan trap, .6 is a trusted "office" host that may reach AMI (5038).
 */
export function labPolicy(): FirewallPolicy {
  return peerLabPolicy(base, {
    office: ["10.77.0.6", "fd77::6"],
    allowlist: ["10.77.0.4", "fd77::4"],
    blocklist: "10.77.0.128/25",
  });
}
