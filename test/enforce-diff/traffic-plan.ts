// Plans one scenario's traffic in phases and what the evaluator expects of every packet, state changes included.
import { evaluatePacket } from "../../src/enforce/evaluate/evaluate-packet.js";
import type { FirewallState, Verdict } from "../../src/enforce/evaluate/evaluate-packet.js";
import { portsOf } from "../../src/enforce/policy.js";
import { TCP_LISTEN_PORTS } from "./diff-lab.js";
import type { OutboundFlow } from "./diff-lab.js";
import { PLAN, PLAN6 } from "./diff-policies.js";
import type { Scenario, Source } from "./diff-policies.js";
import {
  createRng,
  flowPackets,
  randomPacket,
  strangers,
  tcpFlowPackets,
  tcpPacket,
  udpPacket,
} from "./packet-gen.js";
import type { GeneratorContext, WirePacket } from "./packet-gen.js";

export interface Phase {
  readonly name: string;
  readonly packets: readonly WirePacket[];
  /** The evaluator's verdict for each packet, index for index, given the state as the phase reaches it. */
  readonly expected: readonly Verdict[];
}

export interface TrafficPlan {
  /** Every source address, to configure on the peer. */
  readonly sources: { readonly v4: string[]; readonly v6: string[] };
  /** Packets sent before any ruleset exists: all must arrive, or the capture itself is broken. */
  readonly calibration: readonly WirePacket[];
  /** UDP flows the fw opens before the phases, so some answers are ESTABLISHED or RELATED. */
  readonly flows: readonly OutboundFlow[];
  /** TCP connections the fw opens to the peer's listeners before the phases. */
  readonly tcpFlows: readonly OutboundFlow[];
  readonly phases: readonly Phase[];
}

export interface PlanSizes {
  readonly main: number;
  readonly flows: number;
  readonly tcpFlows: number;
}

/** Verdicts for packets in order, carrying the trap state forward the way the kernel's set update does. */
function evaluateInOrder(
  scenario: Scenario,
  state: { bans: FirewallState["bans"]; trapped: string[] },
  packets: readonly WirePacket[],
): Verdict[] {
  return packets.map((p) => {
    const v = evaluatePacket(scenario.policy, state, p);
    if (v.trapsSource && !state.trapped.includes(p.src)) state.trapped.push(p.src);
    return v;
  });
}

/**
 * Main phase: a seeded mix over every source, protocol, port and flag combination, minus packets that would
 * spring the scan trap (that state change would make the rest order-dependent). Bait phase: scan probes
 * from chosen sources, in order. After-trap phase: the same sources knocking on open ports.
 */
export function planTraffic(scenario: Scenario, seed: number, sizes: PlanSizes): TrafficPlan {
  const rng = createRng(seed);
  const all: Source[] = [...PLAN, ...PLAN6, ...strangers(rng, 80)];
  const ctx: GeneratorContext = { rng, sources: all, fw: { ipv4: "10.79.0.1", ipv6: "fd79::1" }, nextId: 1 };
  const policy = scenario.policy;
  const families = policy.families;
  const state = {
    bans: scenario.bans.map((b) => ({ target: b.target, scope: b.scope })),
    trapped: [] as string[],
  };

  const calibration: WirePacket[] = [];
  for (const family of ["ipv4", "ipv6"] as const) {
    const src = all.filter((s) => s.family === family && s.role === "stranger").slice(0, 5);
    for (const s of src) {
      calibration.push(tcpPacket(ctx, s, 80, "S"), udpPacket(ctx, s, 5060, 20), udpPacket(ctx, s, 9999, 0));
    }
  }
  ctx.nextId = 100;

  const { flows, packets: flowAnswers } = flowPackets(ctx, sizes.flows);
  const tcp = tcpFlowPackets(ctx, sizes.tcpFlows, TCP_LISTEN_PORTS.from);
  const main: WirePacket[] = [...flowAnswers, ...tcp.packets];
  const target = main.length + sizes.main;
  for (let i = 0; main.length < target && i < sizes.main * 3; i++) {
    const p = randomPacket(ctx, families);
    if (!evaluatePacket(policy, state, p).trapsSource) main.push(p);
  }
  // Answers and fresh packets interleaved, as they would be on a real link.
  for (let i = main.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [main[i], main[j]] = [main[j] as WirePacket, main[i] as WirePacket];
  }
  const phases: Phase[] = [{ name: "main", packets: main, expected: evaluateInOrder(scenario, state, main) }];

  // Restricted services: every source knocks once per protocol, so each side of the lists gets traffic.
  for (const r of policy.restrictions ?? []) {
    const sp = portsOf(policy, r.services);
    const udp = sp.find((x) => x.protocol === "udp")?.ports[0]?.from;
    const tcp = sp.find((x) => x.protocol === "tcp")?.ports[0]?.to;
    const knocks: WirePacket[] = all
      .filter((s) => families.includes(s.family))
      .flatMap((s) => [
        ...(udp === undefined ? [] : [udpPacket(ctx, s, udp, 30)]),
        ...(tcp === undefined ? [] : [tcpPacket(ctx, s, tcp, "S")]),
      ]);
    phases.push({
      name: `restricted:${r.name}`,
      packets: knocks,
      expected: evaluateInOrder(scenario, state, knocks),
    });
  }

  const trap = policy.protections.portScanTrap;
  if (trap) {
    const probers = all.filter(
      (s) =>
        families.includes(s.family) &&
        ["trap-victim", "allowlisted", "office", "trunk", "banned", "sip-banned"].includes(s.role),
    );
    const bait: WirePacket[] = [];
    for (const s of probers) {
      for (const sp of trap.bait) {
        const r = sp.ports[0];
        if (!r) continue;
        if (sp.protocol === "tcp") bait.push(tcpPacket(ctx, s, r.from, rng() < 0.8 ? "S" : "A"));
        if (sp.protocol === "udp") bait.push(udpPacket(ctx, s, r.from, rng() < 0.8 ? 20 : 0));
      }
    }
    phases.push({ name: "bait", packets: bait, expected: evaluateInOrder(scenario, state, bait) });
    const open = portsOf(policy, policy.internet.services).find((sp) => sp.protocol === "tcp")?.ports[0]
      ?.from;
    const after: WirePacket[] = probers.flatMap((s) => [
      tcpPacket(ctx, s, open ?? 22, "S"),
      udpPacket(ctx, s, 5060, 30),
      tcpPacket(ctx, s, 22, "S"),
    ]);
    phases.push({ name: "after-trap", packets: after, expected: evaluateInOrder(scenario, state, after) });
  }

  const v4 = [...new Set(all.filter((s) => s.family === "ipv4").map((s) => s.address))];
  const v6 = [...new Set(all.filter((s) => s.family === "ipv6").map((s) => s.address))];
  return { sources: { v4, v6 }, calibration, flows, tcpFlows: tcp.flows, phases };
}
