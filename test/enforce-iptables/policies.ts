// Policies of the iptables packet tests: the lab host at 10.78.0.1 / fd78::1 and its peers.
import type { FirewallPolicy } from "../../src/enforce/policy.js";
import { DEFAULT_SIP_INSPECTION } from "../../src/enforce/sip-inspection.js";
import type { SipAwarePolicy, SipInspectionPolicy } from "../../src/enforce/sip-inspection.js";
import { POLICY_BASE, peerLabPolicy } from "../enforce/policy-fixtures.js";

/**
 * Strangers .2/.3/.5, allowlisted .4 and fd78::4, office .6 (may reach AMI 5038), blocklisted .128/25;
 * SIP and HTTP open to the internet; 2323 is scan-trap bait; 8080 is closed.
 */
export function iptLabPolicy(): FirewallPolicy {
  return peerLabPolicy(POLICY_BASE, {
    office: ["10.78.0.6"],
    allowlist: ["10.78.0.4", "fd78::4"],
    blocklist: "10.78.0.128/25",
  });
}

/** The lab policy with SIP inspection; `over` replaces defaults. */
export function iptSipPolicy(over: Partial<SipInspectionPolicy> = {}): SipAwarePolicy {
  return { ...iptLabPolicy(), sipInspection: { ...DEFAULT_SIP_INSPECTION, ...over } };
}
