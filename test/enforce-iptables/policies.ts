// Policies of the iptables packet tests: the lab host at 10.78.0.1 / fd78::1 and its peers.
import {
  DEFAULT_PROTECTIONS,
  WELL_KNOWN_SERVICES,
  DEFAULT_ICMP,
  sipBanScope,
} from "../../src/enforce/policy.js";
import type { FirewallPolicy } from "../../src/enforce/policy.js";
import { DEFAULT_SIP_INSPECTION } from "../../src/enforce/sip-inspection.js";
import type { SipAwarePolicy, SipInspectionPolicy } from "../../src/enforce/sip-inspection.js";

const base: FirewallPolicy = {
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

/**
 * Strangers .2/.3/.5, allowlisted .4 and fd78::4, office .6 (may reach AMI 5038), blocklisted .128/25;
 * SIP and HTTP open to the internet; 2323 is scan-trap bait; 8080 is closed.
 */
export function iptLabPolicy(): FirewallPolicy {
  return {
    ...base,
    zones: [{ name: "office", kind: "host", sources: ["10.78.0.6"], services: ["ami"] }],
    internet: { services: ["sip", "http"] },
    allowlist: ["10.78.0.4", "fd78::4"],
    banSets: [
      { name: "ban", scope: { kind: "all" } },
      { name: "sipban", scope: sipBanScope(base) },
    ],
    blocklists: [{ name: "block", scope: { kind: "all" }, entries: ["10.78.0.128/25"] }],
    protections: {
      ...DEFAULT_PROTECTIONS,
      sipRateLimit: { perSecond: 50, burst: 100 },
      portScanTrap: { bait: [{ protocol: "tcp", ports: [{ from: 2323, to: 2323 }] }], timeoutMs: 60_000 },
    },
  };
}

/** The lab policy with SIP inspection; `over` replaces defaults. */
export function iptSipPolicy(over: Partial<SipInspectionPolicy> = {}): SipAwarePolicy {
  return { ...iptLabPolicy(), sipInspection: { ...DEFAULT_SIP_INSPECTION, ...over } };
}
