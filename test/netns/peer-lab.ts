// The fw ↔ peer lab over one veth: a protected host "fw" with the traffic listener, and a "peer" with many
// source addresses sending to it. The nftables and iptables packet tests each build one on their own subnet.
import type { ChildProcess, SpawnOptions } from "node:child_process";
import type { CommandRunner } from "./netns.js";
import { buildLab, labId } from "./netns.js";
import type { ArrivalEvent, TrafficSender } from "./traffic.js";
import { startListener, trafficSender } from "./traffic.js";

export interface PeerLabSpec {
  /** Namespace names are `<prefix>-<id>-fw` and `<prefix>-<id>-peer`. */
  readonly prefix: string;
  /** fw's addresses and the peer's, as `addr/len`. */
  readonly fw: readonly string[];
  readonly peer: readonly string[];
  /** Bound on every command the lab runs. */
  readonly timeoutMs: number;
  /** Ports the listener in fw serves. */
  readonly listen: { readonly tcp: readonly number[]; readonly udp: readonly number[] };
}

export interface PeerLab extends TrafficSender {
  readonly fw: string;
  readonly peer: string;
  /** Runs a program inside the fw namespace (what the backend under test gets as its runner). */
  readonly fwRun: CommandRunner;
  /** Runs a program inside the peer namespace (attack tools, SIPp). */
  readonly peerRun: CommandRunner;
  /** Starts a long-running program inside the fw namespace (a daemon); destroy() kills it. */
  fwSpawn(cmd: string, args: readonly string[], options?: SpawnOptions): ChildProcess;
  /** Everything the fw listener has reported so far, oldest first. */
  readonly arrivals: ArrivalEvent[];
  destroy(): Promise<void>;
}

/** Builds the lab and starts the listener; on any failure it removes what it created before rethrowing. */
export function createPeerLab(spec: PeerLabSpec): Promise<PeerLab> {
  const id = labId();
  const fw = `${spec.prefix}-${id}-fw`;
  const peer = `${spec.prefix}-${id}-peer`;
  return buildLab([fw, peer], { timeoutMs: spec.timeoutMs }, async (ns) => {
    await ns.veth(fw, peer, "veth0", { a: spec.fw, b: spec.peer });
    const arrivals = await startListener(ns, fw, spec.listen);
    const peerRun = ns.run(peer);
    return {
      fw,
      peer,
      fwRun: ns.run(fw),
      peerRun,
      fwSpawn: (cmd, args, options) => ns.spawn(fw, cmd, args, options),
      arrivals,
      ...trafficSender(peerRun, arrivals),
      destroy: ns.destroy,
    };
  });
}
