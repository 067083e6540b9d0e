// Differential test: the policy evaluator's verdicts against what the kernel does with thousands of real packets, on both backends.
//
// Out of scope on purpose: the SIP rate limit (a token bucket across packets; the asterisk policy keeps it on
// but far above the traffic sent), SIP payload inspection (iptables-only, tested elsewhere), TCP inside an
// established connection (conntrack's window tracking would need a real handshake per packet), and loopback.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseIp } from "../../src/domain/address.js";
import { systemClock } from "../../src/domain/clock.js";
import type { CommandRunner } from "../../src/enforce/command-runner.js";
import type { FirewallBackend } from "../../src/enforce/firewall-backend.js";
import { DEFAULT_IPTABLES_CONFIG, createIptablesBackend } from "../../src/enforce/iptables/backend.js";
import { DEFAULT_NFT_CONFIG, FAST_NFT_CONFIG, createNftBackend } from "../../src/enforce/nftables/backend.js";
import { createDiffLab, requireDiffTools } from "./diff-lab.js";
import type { Arrival, DiffLab } from "./diff-lab.js";
import { PLAN6, scenarios } from "./diff-policies.js";
import { describePacket, identifiedByTag } from "./packet-gen.js";
import type { WirePacket } from "./packet-gen.js";
import { planTraffic } from "./traffic-plan.js";

const SIZES = { main: 1100, flows: 90, tcpFlows: 70 };
const warnings: object[] = [];
const log = { warn: (facts: object) => void warnings.push(facts) };

const BACKENDS: Readonly<Record<string, (run: CommandRunner) => FirewallBackend>> = {
  nftables: (run) => createNftBackend(DEFAULT_NFT_CONFIG, { run, clock: systemClock, log }),
  // Every blocklist and restriction in ipset, matched from iptables-nft chains beside the nft table.
  "nftables with ipset offload": (run) =>
    createNftBackend({ ...FAST_NFT_CONFIG, offloadBlocklistsAt: 1 }, { run, clock: systemClock, log }),
  iptables: (run) => createIptablesBackend(DEFAULT_IPTABLES_CONFIG, { run, clock: systemClock, log }),
};

const labs = new Set<DiffLab>();
const totals = new Map<string, { packets: number; accepted: number; mismatches: number }>();

beforeAll(async () => {
  await requireDiffTools();
});

afterAll(async () => {
  // Normally each test removed its own lab already; this catches one left by an exception mid-setup.
  for (const lab of labs) await lab.destroy();
  labs.clear();
  for (const [backend, t] of totals)
    console.log(
      `differential ${backend}: ${t.packets} packets, ${t.accepted} accepted, ${t.mismatches} mismatches`,
    );
});

function canonical(ip: string): string {
  return parseIp(ip)?.text ?? ip;
}

/** Whether the fw saw `p` after its firewall: by the tag in its payload, or by source and port without one. */
function arrivedIndex(arrivals: readonly Arrival[]): (p: WirePacket) => boolean {
  const tags = new Set<number>();
  const tuples = new Set<string>();
  for (const a of arrivals) {
    if (a.tag !== null) tags.add(a.tag);
    if (a.sport !== null) tuples.add(`${a.p}|${canonical(a.src)}|${a.sport}`);
  }
  return (p) =>
    identifiedByTag(p) ? tags.has(p.id) : tuples.has(`${p.protocol}|${canonical(p.src)}|${p.sport}`);
}

describe.each(Object.keys(BACKENDS))("differential: %s backend against evaluatePacket", (backend) => {
  it.each(scenarios().map((s, i) => [s.name, s, i] as const))(
    "%s policy",
    async (_name, scenario, index) => {
      const plan = planTraffic(scenario, 0x5eed + index, SIZES);
      // A restriction must meet traffic on both sides of it, or the kernel's agreement proves nothing.
      for (const r of scenario.policy.restrictions ?? []) {
        const rules = plan.phases.flatMap((p) => p.expected.map((v) => v.rule));
        expect(rules.filter((x) => x === `restricted:${r.name}`).length).toBeGreaterThan(20);
        expect(
          rules.filter((x) => x.endsWith(`:${r.name}`) && x.startsWith("internet:")).length,
        ).toBeGreaterThan(20);
      }
      // Network bans (the masked lookup) must meet traffic they drop and traffic of theirs the scope spares.
      if (scenario.policy.networkBanPrefix6 !== undefined) {
        const netBanned = new Set(PLAN6.filter((s) => s.role === "net-banned").map((s) => s.address));
        const seen = plan.phases.flatMap((p) =>
          p.packets.flatMap((pk, i) => (netBanned.has(pk.src) && p.expected[i] ? [p.expected[i]] : [])),
        );
        expect(seen.filter((v) => v.rule.startsWith("ban:")).length).toBeGreaterThan(5);
        expect(seen.filter((v) => v.verdict === "accept").length).toBeGreaterThan(5);
      }
      const lab = await createDiffLab(plan.sources);
      labs.add(lab);
      try {
        // With no ruleset every packet must arrive; otherwise a drop below would prove nothing.
        await lab.send(plan.calibration);
        const lost = plan.calibration.filter((p) => !arrivedIndex(lab.arrivals())(p));
        expect(lost.map(describePacket), "calibration packets lost without any firewall").toEqual([]);

        const fw = BACKENDS[backend]?.(lab.fwRun);
        if (!fw) throw new Error(`no backend ${backend}`);
        await fw.apply(scenario.policy);
        await fw.ban(scenario.bans);
        // Lets segments with made-up sequence numbers into the test's TCP flows; only flags then matter.
        const liberal = await lab.fwRun("sysctl", ["-qw", "net.netfilter.nf_conntrack_tcp_be_liberal=1"]);
        expect(liberal.code, liberal.stderr).toBe(0);
        await lab.open(plan.flows);
        const connected = await lab.connect(plan.tcpFlows);
        expect(connected, "no TCP connection to the peer completed").toBeGreaterThan(0);

        const mismatches: string[] = [];
        let sent = 0;
        let accepted = 0;
        for (const phase of plan.phases) {
          await lab.send(phase.packets);
          const arrived = arrivedIndex(lab.arrivals());
          phase.packets.forEach((p, i) => {
            const want = phase.expected[i];
            if (!want) throw new Error(`no expectation for packet ${p.id}`);
            const got = arrived(p) ? "accept" : "drop";
            sent += 1;
            if (got === "accept") accepted += 1;
            if (got !== want.verdict)
              mismatches.push(
                `${phase.name} ${describePacket(p)}: kernel ${got}, evaluator ${want.verdict} (${want.rule})`,
              );
          });
        }
        const t = totals.get(backend) ?? { packets: 0, accepted: 0, mismatches: 0 };
        totals.set(backend, {
          packets: t.packets + sent,
          accepted: t.accepted + accepted,
          mismatches: t.mismatches + mismatches.length,
        });
        // Both verdicts in quantity, or the mix (or the capture) has gone wrong in a way that hides bugs.
        expect(accepted).toBeGreaterThan(50);
        expect(sent - accepted).toBeGreaterThan(50);
        expect(mismatches, `${backend} / ${scenario.name}: ${mismatches.length} of ${sent}`).toEqual([]);
      } finally {
        await lab.destroy();
        labs.delete(lab);
      }
    },
    90_000,
  );
});
