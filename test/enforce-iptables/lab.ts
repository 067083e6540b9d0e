// A throw-away fw ↔ peer namespace pair on 10.78.0.0/24 and fd78::/64 for the iptables backend's packet tests.
import { PROBES, requireRootAndTools } from "../netns/netns.js";
import type { PeerLab } from "../netns/peer-lab.js";
import { createPeerLab } from "../netns/peer-lab.js";

export { waitUntil } from "../netns/netns.js";
export type { ArrivalEvent } from "../netns/traffic.js";

/** Debian packages these tests need (also listed in scripts/apt-packages.txt). */
export const LAB_APT_PACKAGES = [
  "iproute2",
  "iptables",
  "ipset",
  "conntrack",
  "socat",
  "sipvicious",
  "sip-tester",
] as const;

export const FW_V4 = "10.78.0.1";
export const FW_V6 = "fd78::1";
/** Peer sources: .2 scanner/stranger, .3 phone, .4 allowlisted, .5 stranger, .6 second phone, .130 blocklisted. */
export const PEER_V4 = [
  "10.78.0.2",
  "10.78.0.3",
  "10.78.0.4",
  "10.78.0.5",
  "10.78.0.6",
  "10.78.0.130",
] as const;
export const PEER_V6 = ["fd78::2", "fd78::3", "fd78::4"] as const;

/** Fails loudly, never skips: these tests are the proof that bans and SIP screening hold in a real kernel. */
export function requireLabTools(): Promise<void> {
  return requireRootAndTools({
    who: "iptables integration tests need",
    tools: [
      PROBES.ip,
      PROBES.iptables,
      PROBES.ip6tables,
      PROBES.ipset,
      PROBES.conntrack,
      ["socat", ["-V"]],
      ["svmap", ["--version"]],
      ["sipp", ["-v"]],
    ],
    packages: LAB_APT_PACKAGES,
    // sipp -v exits 99 after printing its version; anything that ran and printed counts as present.
    anyExit: true,
  });
}

export type Lab = PeerLab;

/** Builds the lab and starts the listener; on any failure it removes what it created before rethrowing. */
export function createLab(listen: { tcp: readonly number[]; udp: readonly number[] }): Promise<Lab> {
  return createPeerLab({
    prefix: "swi",
    fw: [`${FW_V4}/24`, `${FW_V6}/64`],
    peer: [...PEER_V4.map((a) => `${a}/24`), ...PEER_V6.map((a) => `${a}/64`)],
    timeoutMs: 20_000,
    listen,
  });
}
