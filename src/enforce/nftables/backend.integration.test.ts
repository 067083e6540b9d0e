// Real packets through a real kernel: the nftables backend in a namespace lab, as root, never skipped.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { describeBackendContract } from "../../../test/enforce/backend-contract.js";
import { FW_V4, FW_V6, createLab, requireLabTools, waitUntil } from "../../../test/enforce/netns.js";
import type { Lab } from "../../../test/enforce/netns.js";
import { labPolicy } from "../../../test/enforce/policy-fixtures.js";
import { systemClock } from "../../domain/clock.js";
import type { CommandRunner } from "../command-runner.js";
import { isEnforceError } from "../errors.js";
import type { FirewallBackend } from "../firewall-backend.js";
import { sipBanScope } from "../policy.js";
import { DEFAULT_NFT_CONFIG, createNftBackend } from "./backend.js";

const TESTDATA = join(dirname(fileURLToPath(import.meta.url)), "testdata");
const SIP = sipBanScope(labPolicy());
const ALL = { kind: "all" } as const;

let lab: Lab | undefined;
const warnings: object[] = [];

function theLab(): Lab {
  if (!lab) throw new Error("lab was not created");
  return lab;
}

function backendWith(run: CommandRunner): FirewallBackend {
  return createNftBackend(DEFAULT_NFT_CONFIG, {
    run,
    clock: systemClock,
    log: { warn: (f) => warnings.push(f) },
  });
}

/** A fw-namespace backend over a table that does not exist yet, with conntrack emptied. */
async function freshBackend(): Promise<FirewallBackend> {
  const l = theLab();
  await l.fwRun("nft", ["delete", "table", "inet", "sipwarden"]);
  await l.fwRun("conntrack", ["-F"]);
  return backendWith(l.fwRun);
}

beforeAll(async () => {
  await requireLabTools();
  lab = await createLab({ tcp: [22, 80, 2323, 5038, 5060], udp: [4569, 5060] });
});

afterAll(async () => {
  await lab?.destroy();
});

describeBackendContract("nftables (fw namespace)", async () => ({
  backend: await freshBackend(),
  now: systemClock.now,
}));

it("every golden script is accepted by the kernel", async () => {
  for (const f of readdirSync(TESTDATA).filter((n) => n.endsWith(".nft"))) {
    const r = await theLab().fwRun("nft", ["-c", "-f", "-"], readFileSync(join(TESTDATA, f), "utf8"));
    expect(r.stderr, f).toBe("");
    expect(r.code, f).toBe(0);
  }
});

describe("packets against the lab policy", () => {
  let fw: FirewallBackend;
  beforeEach(async () => {
    fw = await freshBackend();
    await fw.apply(labPolicy());
  });

  it("opens the internet services and the zone's services to the zone only, dropping the rest", async () => {
    const l = theLab();
    expect(await l.tcp("10.77.0.2", FW_V4, 80)).toBe("open");
    expect(await l.tcp("10.77.0.2", FW_V4, 5060)).toBe("open");
    expect(await l.udpArrives("10.77.0.2", FW_V4, 5060)).toBe(true);
    expect(await l.tcp("10.77.0.2", FW_V4, 22)).toBe("timeout");
    expect(await l.udpArrives("10.77.0.2", FW_V4, 4569)).toBe(false);
    expect(await l.tcp("10.77.0.2", FW_V4, 5038)).toBe("timeout");
    expect(await l.tcp("10.77.0.6", FW_V4, 5038)).toBe("open");
    // Allowlisting exempts from bans but opens nothing.
    expect(await l.tcp("10.77.0.4", FW_V4, 22)).toBe("timeout");
  });

  it("a ban on all ports drops the source everywhere and spares other sources", async () => {
    const l = theLab();
    await fw.ban([{ target: "10.77.0.3", timeoutMs: 60_000, scope: ALL }]);
    expect(await l.tcp("10.77.0.3", FW_V4, 80)).toBe("timeout");
    expect(await l.udpArrives("10.77.0.3", FW_V4, 5060)).toBe(false);
    expect(await l.tcp("10.77.0.2", FW_V4, 80)).toBe("open");
  });

  it("a SIP-scoped ban drops only the SIP ports", async () => {
    const l = theLab();
    await fw.ban([{ target: "10.77.0.3", timeoutMs: 60_000, scope: SIP }]);
    expect(await l.udpArrives("10.77.0.3", FW_V4, 5060)).toBe(false);
    expect(await l.tcp("10.77.0.3", FW_V4, 5060)).toBe("timeout");
    expect(await l.tcp("10.77.0.3", FW_V4, 80)).toBe("open");
  });

  it("an established UDP SIP flow stops right after the ban, and its conntrack entry is gone", async () => {
    const l = theLab();
    // Send times of the stream's datagrams that reached the listener.
    const fromBanned = (): number[] =>
      l.arrivals
        .filter((a) => a.ev === "udp" && a.from === "10.77.0.3" && a.data?.startsWith("seq:"))
        .map((a) => Number(a.data?.split(":")[2]));
    // 10 ms cadence for 3 s: one flow, established after its first datagram.
    const streaming = l.stream("10.77.0.3", 40_000, FW_V4, 5060, 10, 300);
    expect(await waitUntil(() => fromBanned().length >= 20, 5_000)).toBe(true);
    const before = await l.fwRun("conntrack", ["-L", "-s", "10.77.0.3"]);
    expect(before.stdout).toContain("dport=5060");
    await fw.ban([{ target: "10.77.0.3", timeoutMs: 60_000, scope: SIP }]);
    const bannedAt = Date.now();
    const sent = await streaming;
    expect(sent).toBe(300);
    // `ban` resolved after nft committed, so nothing sent from then on may arrive, though the stream went on.
    expect(fromBanned().filter((t) => t >= bannedAt)).toEqual([]);
    expect(Date.now() - bannedAt).toBeGreaterThan(1_000);
    const after = await l.fwRun("conntrack", ["-L", "-s", "10.77.0.3"]);
    expect(after.stdout).not.toContain("dport=5060");
  });

  it("a ban expires by its kernel timeout", async () => {
    const l = theLab();
    await fw.ban([{ target: "10.77.0.3", timeoutMs: 1_500, scope: ALL }]);
    const start = Date.now();
    expect(await l.udpArrives("10.77.0.3", FW_V4, 5060, undefined, 300)).toBe(false);
    let reached = false;
    for (let i = 0; i < 20 && !reached; i++)
      reached = await l.udpArrives("10.77.0.3", FW_V4, 5060, undefined, 300);
    expect(reached).toBe(true);
    expect(Date.now() - start).toBeGreaterThanOrEqual(1_400);
    expect(await fw.listBans()).toEqual([]);
  });

  it("an allowlisted source wins over a ban", async () => {
    const l = theLab();
    await fw.ban([
      { target: "10.77.0.4", timeoutMs: 60_000, scope: ALL },
      { target: "fd77::4", timeoutMs: 60_000, scope: ALL },
    ]);
    expect(await l.tcp("10.77.0.4", FW_V4, 80)).toBe("open");
    expect(await l.udpArrives("10.77.0.4", FW_V4, 5060)).toBe(true);
    expect(await l.tcp("fd77::4", FW_V6, 80)).toBe("open");
  });

  it("IPv6: neighbour discovery works, services open, closed ports and bans drop", async () => {
    const l = theLab();
    expect(await l.tcp("fd77::2", FW_V6, 80)).toBe("open");
    expect(await l.udpArrives("fd77::2", FW_V6, 5060)).toBe(true);
    expect(await l.tcp("fd77::2", FW_V6, 22)).toBe("timeout");
    await fw.ban([{ target: "fd77::3", timeoutMs: 60_000, scope: SIP }]);
    expect(await l.udpArrives("fd77::3", FW_V6, 5060)).toBe(false);
    expect(await l.tcp("fd77::3", FW_V6, 80)).toBe("open");
  });

  it("drops UDP without payload but not the same source's real datagrams", async () => {
    const l = theLab();
    expect(await l.udpArrives("10.77.0.2", FW_V4, 5060, "")).toBe(false);
    expect(await l.udpArrives("10.77.0.2", FW_V4, 5060)).toBe(true);
  });

  it("a bait port traps its source on every port, and only that source", async () => {
    const l = theLab();
    expect(await l.tcp("10.77.0.5", FW_V4, 80)).toBe("open");
    expect(await l.tcp("10.77.0.5", FW_V4, 2323)).toBe("timeout");
    expect(await l.tcp("10.77.0.5", FW_V4, 80)).toBe("timeout");
    expect(await l.udpArrives("10.77.0.5", FW_V4, 5060)).toBe(false);
    expect(await l.tcp("10.77.0.2", FW_V4, 80)).toBe("open");
  });

  it("limits new SIP flows per source and leaves other sources alone", async () => {
    const l = theLab();
    const flowsFrom = (src: string): number =>
      l.arrivals.filter((a) => a.ev === "udp" && a.from === src && a.data?.startsWith("flow:")).length;
    // The lab allows 50 new flows/s with a burst of 100; 400 back-to-back flows overrun it whatever the pace.
    expect(await l.flows("10.77.0.3", FW_V4, 5060, 400)).toBe(400);
    await waitUntil(() => false, 300);
    expect(flowsFrom("10.77.0.3")).toBeGreaterThanOrEqual(100);
    expect(flowsFrom("10.77.0.3")).toBeLessThan(400);
    expect(await l.flows("10.77.0.2", FW_V4, 5060, 50)).toBe(50);
    expect(await waitUntil(() => flowsFrom("10.77.0.2") === 50, 2_000)).toBe(true);
  });

  it("a blocklisted network is dropped", async () => {
    const l = theLab();
    expect(await l.tcp("10.77.0.130", FW_V4, 80)).toBe("timeout");
  });

  it("a refused apply leaves the previous ruleset and bans in place and names the bad line", async () => {
    const l = theLab();
    await fw.ban([{ target: "10.77.0.3", timeoutMs: 60_000, scope: ALL }]);
    const before = await l.fwRun("nft", ["list", "table", "inet", "sipwarden"]);
    // Something that slipped past validation: corrupt one element of the real `nft -f` only, after the
    // check passed, so the kernel transaction itself must be all-or-nothing.
    const tampering: CommandRunner = (cmd, args, stdin) =>
      l.fwRun(
        cmd,
        args,
        args[0] === "-f" && stdin ? stdin.replace(/\t10\.77\.0\.4(,?)\n/, "\t10.77.0.400$1\n") : stdin,
      );
    const broken = backendWith(tampering);
    const opened = labPolicy();
    const err = await broken
      .apply({ ...opened, internet: { services: [...opened.internet.services, "ssh"] } })
      .catch((e: unknown) => e);
    expect(isEnforceError(err) && err.code).toBe("SW_ENFORCE_APPLY");
    expect(isEnforceError(err) && err.location?.text).toContain("10.77.0.400");
    expect((err as Error).message).toMatch(/at line \d+/);
    const after = await l.fwRun("nft", ["list", "table", "inet", "sipwarden"]);
    expect(after.stdout.replace(/expires \S+/g, "")).toBe(before.stdout.replace(/expires \S+/g, ""));
    expect(await l.tcp("10.77.0.2", FW_V4, 22)).toBe("timeout");
    expect(await l.tcp("10.77.0.3", FW_V4, 80)).toBe("timeout");
  });
});
