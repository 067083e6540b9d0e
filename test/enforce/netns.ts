// A throw-away two-namespace lab (protected host "fw" ↔ "peer" over a veth) for packet-level tests.
import { PROBES, requireRootAndTools } from "../netns/netns.js";
import type { PeerLab } from "../netns/peer-lab.js";
import { createPeerLab } from "../netns/peer-lab.js";

export { waitUntil } from "../netns/netns.js";
export type { ArrivalEvent } from "../netns/traffic.js";

/** Debian packages the lab needs; CI installs the same list. */
export const LAB_APT_PACKAGES = ["iproute2", "nftables", "conntrack"] as const;

export const FW_V4 = "10.77.0.1";
export const FW_V6 = "fd77::1";
/** Peer source addresses: strangers .2/.3, allowlisted .4, trap victim .5, office .6, blocklisted .130. */
export const PEER_V4 = [
  "10.77.0.2",
  "10.77.0.3",
  "10.77.0.4",
  "10.77.0.5",
  "10.77.0.6",
  "10.77.0.130",
] as const;
export const PEER_V6 = ["fd77::2", "fd77::3", "fd77::4"] as const;

/** Fails loudly, never skips: these tests are the proof that bans hold in a real kernel. */
export function requireLabTools(): Promise<void> {
  return requireRootAndTools({
    who: "enforce integration tests need",
    tools: [PROBES.ip, PROBES.nft, PROBES.conntrack],
    packages: LAB_APT_PACKAGES,
  });
}

export type Lab = PeerLab;

/** Builds the lab and starts the listener; on any failure it removes what it created before rethrowing. */
export function createLab(listen: { tcp: readonly number[]; udp: readonly number[] }): Promise<Lab> {
  return createPeerLab({
    prefix: "sw-t",
    fw: [`${FW_V4}/24`, `${FW_V6}/64`],
    peer: [...PEER_V4.map((a) => `${a}/24`), ...PEER_V6.map((a) => `${a}/64`)],
    timeoutMs: 15_000,
    listen,
  });
}
