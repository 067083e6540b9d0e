// Real packets through the iptables+ipset backend, in network namespaces the test creates and removes.
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { describeBackendContract } from "../../../test/enforce/backend-contract.js";
import { FW_V4, FW_V6, createLab, requireLabTools, waitUntil } from "../../../test/enforce-iptables/lab.js";
import type { Lab } from "../../../test/enforce-iptables/lab.js";
import { iptLabPolicy, iptSipPolicy } from "../../../test/enforce-iptables/policies.js";
import { systemClock } from "../../domain/clock.js";
import { isEnforceError } from "../errors.js";
import type { FirewallBackend } from "../firewall-backend.js";
import { sipBanScope } from "../policy.js";
import { freepbxPolicy, labPolicy, minimalPolicy } from "../../../test/enforce/policy-fixtures.js";
import { portsOf } from "../policy.js";
import { DEFAULT_SIP_INSPECTION } from "../sip-inspection.js";
import type { SipAwarePolicy } from "../sip-inspection.js";
import { DEFAULT_IPTABLES_CONFIG, createIptablesBackend } from "./backend.js";
import { parseIpsetNames } from "./parse.js";
import { renderStandaloneSip } from "./sip-script.js";

const SIPP_SCENARIO = fileURLToPath(
  new URL("../../../test/enforce-iptables/sipp-register.xml", import.meta.url),
);
const SIP = sipBanScope(iptLabPolicy());
const warnings: object[] = [];
const log = { warn: (facts: object) => void warnings.push(facts) };

let lab: Lab;

beforeAll(async () => {
  await requireLabTools();
  lab = await createLab({ tcp: [80, 2323, 5038, 5060, 8080], udp: [5060] });
});

afterAll(async () => {
  await lab?.destroy();
});

/** Each test starts from empty sets, as a fresh host would, with a new backend instance. */
async function freshBackend(): Promise<FirewallBackend> {
  await lab.fwRun("ipset", ["flush"]);
  await lab.fwRun("conntrack", ["-F"]);
  return createIptablesBackend(DEFAULT_IPTABLES_CONFIG, { run: lab.fwRun, clock: systemClock, log });
}

const udpFrom = (src: string, from: number): number =>
  lab.arrivals.filter((a) => a.ev === "udp" && a.from === src && a.t >= from).length;

/** Packets counted by the raw-table rule of `chain` whose text contains `needle` (iptables-save -c). */
async function rawCounter(chain: string, needle: string): Promise<number> {
  const save = (await lab.fwRun("iptables-save", ["-c", "-t", "raw"])).stdout;
  const line = save.split("\n").find((l) => l.includes(`-A ${chain} `) && l.includes(needle));
  return Number(/^\[(\d+):/.exec(line ?? "")?.[1] ?? "-1");
}

/** Runs SIPp in the peer namespace: `count` REGISTERs naming `dom` from `src` at `rate` per second. */
async function sippRegister(
  src: string,
  dom: string,
  count: number,
  rate: number,
  localPort: number,
): Promise<void> {
  const r = await lab.peerRun("sipp", [
    `${FW_V4}:5060`,
    ...["-sf", SIPP_SCENARIO, "-i", src, "-p", String(localPort), "-m", String(count)],
    ...["-r", String(rate), "-key", "dom", dom, "-key", "ext", "1001", "-nostdin", "-timeout", "10s"],
  ]);
  // SIPp exits 0 (all calls done) or 1 (some failed); anything else means it did not run the scenario.
  if (r.code !== 0 && r.code !== 1)
    throw new Error(`sipp failed (exit ${r.code}): ${r.stderr.trim()} ${r.stdout.trim()}`);
}

describe("iptables backend with real packets", () => {
  let fw: FirewallBackend;
  beforeEach(async () => {
    fw = await freshBackend();
    await fw.apply(iptLabPolicy());
  });

  it("opens the internet services and the zone's, and drops the rest", async () => {
    expect(await lab.tcp("10.78.0.2", FW_V4, 80)).toBe("open");
    expect(await lab.tcp("10.78.0.2", FW_V4, 8080)).toBe("timeout");
    expect(await lab.tcp("10.78.0.2", FW_V4, 5038)).toBe("timeout");
    expect(await lab.tcp("10.78.0.6", FW_V4, 5038)).toBe("open");
    expect(await lab.udpArrives("10.78.0.2", FW_V4, 5060)).toBe(true);
    expect(await lab.tcp("fd78::2", FW_V6, 80)).toBe("open");
    expect(await lab.tcp("fd78::2", FW_V6, 8080)).toBe("timeout");
  });

  it("hooks each chain exactly once, however often it applies, and leaves others' rules alone", async () => {
    await lab.fwRun("iptables", ["-A", "INPUT", "-p", "tcp", "--dport", "9999", "-j", "ACCEPT"]);
    await lab.fwRun("iptables", ["-t", "raw", "-I", "PREROUTING", "-j", "SW-RAW-PRE"]); // a duplicate jump
    await fw.apply(iptLabPolicy());
    await fw.apply(iptLabPolicy());
    const save = (await lab.fwRun("iptables-save", [])).stdout;
    expect(save.match(/^-A PREROUTING -j SW-RAW-PRE$/gm)).toHaveLength(1);
    expect(save.match(/^-A INPUT -j SW-INPUT$/gm)).toHaveLength(1);
    expect(save).toContain("-A INPUT -p tcp -m tcp --dport 9999 -j ACCEPT");
    expect((await fw.health()).ok).toBe(true);
  });

  it("a ban on all ports drops everything from the source, a SIP ban only the SIP ports", async () => {
    await fw.ban([
      { target: "10.78.0.2", timeoutMs: 60_000, scope: { kind: "all" } },
      { target: "10.78.0.3", timeoutMs: 60_000, scope: SIP },
    ]);
    expect(await lab.tcp("10.78.0.2", FW_V4, 80)).toBe("timeout");
    expect(await lab.udpArrives("10.78.0.2", FW_V4, 5060)).toBe(false);
    expect(await lab.tcp("10.78.0.3", FW_V4, 80)).toBe("open");
    expect(await lab.udpArrives("10.78.0.3", FW_V4, 5060)).toBe(false);
    expect(await lab.tcp("10.78.0.3", FW_V4, 5060)).toBe("timeout");
    expect(await lab.tcp("10.78.0.5", FW_V4, 80)).toBe("open");
  });

  it("cuts an already flowing UDP SIP stream at the ban, despite its conntrack entry", async () => {
    const start = Date.now();
    const flow = lab.stream("10.78.0.5", 5071, FW_V4, 5060, 20, 100); // ~2 s of datagrams, one flow
    expect(await waitUntil(() => udpFrom("10.78.0.5", start) >= 10, 3000)).toBe(true);
    await fw.ban([{ target: "10.78.0.5", timeoutMs: 60_000, scope: SIP }]);
    const bannedAt = Date.now();
    await flow;
    // 50 ms grace for datagrams already in flight when the ban landed.
    expect(udpFrom("10.78.0.5", bannedAt + 50)).toBe(0);
    expect(udpFrom("10.78.0.5", start)).toBeLessThan(100);
    // The same without the conntrack flush (a member added by a kernel rule or by hand): the raw-table
    // drop alone stops the flow, which a filter-table drop after "established, accept" would not.
    const start2 = Date.now();
    const flow2 = lab.stream("10.78.0.2", 5072, FW_V4, 5060, 20, 100);
    expect(await waitUntil(() => udpFrom("10.78.0.2", start2) >= 10, 3000)).toBe(true);
    await lab.fwRun("ipset", ["add", "sw-ban4", "10.78.0.2", "timeout", "60"]);
    const addedAt = Date.now();
    await flow2;
    expect(udpFrom("10.78.0.2", addedAt + 50)).toBe(0);
  });

  it("lets a ban expire in the kernel without any help", async () => {
    await fw.ban([{ target: "10.78.0.2", timeoutMs: 1000, scope: { kind: "all" } }]);
    expect(await lab.tcp("10.78.0.2", FW_V4, 80)).toBe("timeout");
    await new Promise((r) => setTimeout(r, 1600));
    expect(await lab.tcp("10.78.0.2", FW_V4, 80)).toBe("open");
    expect(await fw.listBans()).toEqual([]);
  });

  it("never drops an allowlisted source, whatever bans it", async () => {
    await fw.ban([
      { target: "10.78.0.4", timeoutMs: 60_000, scope: { kind: "all" } },
      { target: "fd78::4", timeoutMs: 60_000, scope: { kind: "all" } },
    ]);
    expect(await lab.tcp("10.78.0.4", FW_V4, 80)).toBe("open");
    expect(await lab.udpArrives("10.78.0.4", FW_V4, 5060)).toBe(true);
    expect(await lab.tcp("fd78::4", FW_V6, 80)).toBe("open");
  });

  it("bans IPv6 sources", async () => {
    await fw.ban([{ target: "fd78::2", timeoutMs: 60_000, scope: { kind: "all" } }]);
    expect(await lab.tcp("fd78::2", FW_V6, 80)).toBe("timeout");
    expect(await lab.udpArrives("fd78::2", FW_V6, 5060)).toBe(false);
    expect(await lab.tcp("fd78::3", FW_V6, 80)).toBe("open");
  });

  it("bans an IPv6 network in a hash:net set: every address of it, none outside, until it expires", async () => {
    // fd78::2 and fd78::3 share fd78::2/127; fd78::4 does not.
    await fw.apply({ ...iptLabPolicy(), networkBanPrefix6: 127 });
    await fw.ban([{ target: "fd78::2/127", timeoutMs: 1_500, scope: { kind: "all" } }]);
    expect(await lab.tcp("fd78::2", FW_V6, 80)).toBe("timeout");
    expect(await lab.udpArrives("fd78::3", FW_V6, 5060, undefined, 300)).toBe(false);
    expect(await lab.tcp("fd78::4", FW_V6, 80)).toBe("open");
    const saved = await lab.fwRun("ipset", ["save", "sw-ban6net"]);
    expect(saved.stdout).toMatch(/^create sw-ban6net hash:net family inet6 /m);
    expect(saved.stdout).toMatch(/^add sw-ban6net fd78::2\/127 timeout [12]$/m);
    let reached = false;
    for (let i = 0; i < 20 && !reached; i++)
      reached = await lab.udpArrives("fd78::3", FW_V6, 5060, undefined, 300);
    expect(reached).toBe(true);
  });

  it("after a restart with another IPv6 prefix, networks of the old length leave the network ban set", async () => {
    await fw.apply({ ...iptLabPolicy(), networkBanPrefix6: 64 });
    await fw.ban([{ target: "2001:db8:7:1::/64", timeoutMs: 600_000, scope: { kind: "all" } }]);
    const restarted = createIptablesBackend(DEFAULT_IPTABLES_CONFIG, {
      run: lab.fwRun,
      clock: systemClock,
      log,
    });
    await restarted.apply({ ...iptLabPolicy(), networkBanPrefix6: 56 });
    await restarted.ban([{ target: "2001:db8:7::/56", timeoutMs: 600_000, scope: { kind: "all" } }]);
    expect((await restarted.listBans()).map((b) => b.target)).toEqual(["2001:db8:7::/56"]);
  });

  it("drops blocklisted networks and refreshes the list by swapping it", async () => {
    expect(await lab.tcp("10.78.0.130", FW_V4, 80)).toBe("timeout");
    const p = iptLabPolicy();
    await fw.apply({ ...p, blocklists: [{ ...p.blocklists[0]!, entries: ["10.78.0.5"] }] });
    expect(await lab.tcp("10.78.0.130", FW_V4, 80)).toBe("open");
    expect(await lab.tcp("10.78.0.5", FW_V4, 80)).toBe("timeout");
    expect((await lab.fwRun("ipset", ["list", "-n"])).stdout).not.toContain("-tmp");
  });

  it("traps a port scanner on every port", async () => {
    expect(await lab.tcp("10.78.0.5", FW_V4, 2323)).toBe("timeout");
    expect(await lab.tcp("10.78.0.5", FW_V4, 80)).toBe("timeout");
    expect(await lab.tcp("10.78.0.2", FW_V4, 80)).toBe("open");
  });

  it("keeps the previous rules when the kernel refuses a policy, and names the line", async () => {
    await fw.ban([{ target: "10.78.0.2", timeoutMs: 60_000, scope: { kind: "all" } }]);
    const bad = {
      ...iptLabPolicy(),
      protections: { ...iptLabPolicy().protections, sipRateLimit: { perSecond: 1e9, burst: 1 } },
    };
    let error: unknown;
    try {
      await fw.apply(bad);
    } catch (e) {
      error = e;
    }
    expect(isEnforceError(error) && error.code).toBe("SW_ENFORCE_APPLY");
    expect(isEnforceError(error) && error.location?.text).toContain("--hashlimit-above 1000000000/sec");
    expect((error as Error).message).toMatch(/at line \d+ \(.*Rate too fast/);
    expect(await lab.tcp("10.78.0.2", FW_V4, 80)).toBe("timeout");
    expect(await lab.tcp("10.78.0.3", FW_V4, 80)).toBe("open");
    expect(await lab.tcp("10.78.0.3", FW_V4, 8080)).toBe("timeout");
  });
});

describe("SIP inspection with real SIP tools", () => {
  let fw: FirewallBackend;
  beforeEach(async () => {
    fw = await freshBackend();
  });

  it("drops an svmap scan at its first packet and bans the scanner, while a SIPp REGISTER passes", async () => {
    await fw.apply(iptSipPolicy({ scannerBanMs: 60_000 }));
    const start = Date.now();
    const scan = await lab.peerRun("svmap", ["-b", "10.78.0.2", "-p", "5060", FW_V4]);
    expect(scan.code === 0 || scan.stdout.length > 0).toBe(true);
    await sippRegister("10.78.0.3", "10.78.0.1", 1, 10, 5070);
    expect(await waitUntil(() => udpFrom("10.78.0.3", start) >= 1, 2000)).toBe(true);
    expect(udpFrom("10.78.0.2", start)).toBe(0);
    // svmap did send: its packets hit the scanner rule (and only the first reached it: then the ban held).
    expect(await rawCounter("SW-SIP-UDP", "friendly-scanner")).toBeGreaterThanOrEqual(1);
    const bans = await fw.listBans();
    expect(bans.map((b) => [b.target, b.scope.kind])).toEqual([["10.78.0.2", "all"]]);
    expect(await lab.tcp("10.78.0.2", FW_V4, 80)).toBe("timeout");
  });

  it("cuts a SIPp REGISTER flood above the per-source limit", async () => {
    await fw.apply(iptSipPolicy({ registerLimit: { count: 5, seconds: 60 } }));
    const start = Date.now();
    await sippRegister("10.78.0.3", "10.78.0.1", 30, 100, 5072);
    await waitUntil(() => udpFrom("10.78.0.3", start) >= 6, 500);
    const got = lab.arrivals.filter((a) => a.ev === "udp" && a.from === "10.78.0.3" && a.t >= start);
    expect(got.length).toBe(5);
    expect(got.every((a) => a.data?.startsWith("REGISTER sip:"))).toBe(true);
    // SIPp really sent all 30: the kernel counted 25 drops at the limit rule.
    expect(await rawCounter("SW-SIP-UDP", "REGISTER sip:")).toBe(25);
    // Another source has its own budget.
    await sippRegister("10.78.0.6", "10.78.0.1", 1, 10, 5073);
    expect(await waitUntil(() => udpFrom("10.78.0.6", start) === 1, 2000)).toBe(true);
  });

  it("secret-domain mode admits sources that name the domain and drops the others, TCP included", async () => {
    const dom = "pbx-7f3a.example.test";
    await fw.apply(iptSipPolicy({ secretDomain: dom }));
    const start = Date.now();
    // A stranger addressing the host by IP (as scanners do) is dropped, UDP and TCP alike.
    await sippRegister("10.78.0.5", FW_V4, 1, 10, 5074);
    expect(await rawCounter("SW-SIP-UDP", "! --match-set swsip-known4")).toBe(1);
    expect(await lab.udpArrives("10.78.0.5", FW_V4, 5060, "OPTIONS sip:100@10.78.0.1 SIP/2.0")).toBe(false);
    // The phone names the domain: admitted, and later datagrams without it pass too.
    await sippRegister("10.78.0.3", dom, 1, 10, 5075);
    expect(await waitUntil(() => udpFrom("10.78.0.3", start) === 1, 2000)).toBe(true);
    expect(await lab.udpArrives("10.78.0.3", FW_V4, 5060, "SIP/2.0 200 OK")).toBe(true);
    expect(udpFrom("10.78.0.5", start)).toBe(0);
    // TCP: the stranger's handshake completes on its side but the PBX never accepts the connection.
    await lab.tcp("10.78.0.5", FW_V4, 5060, 500);
    // A second phone whose first TCP segment names the domain gets through; the admitted phone too.
    const tcpPhone = await lab.peerRun(
      "socat",
      ["-u", "-", `TCP:${FW_V4}:5060,bind=10.78.0.6,connect-timeout=2`],
      `REGISTER sip:${dom} SIP/2.0\r\n\r\n`,
    );
    expect(tcpPhone.code).toBe(0);
    expect(await lab.tcp("10.78.0.3", FW_V4, 5060)).toBe("open");
    const tcpFrom = (src: string): boolean =>
      lab.arrivals.some((a) => a.ev === "tcp" && a.port === 5060 && a.from === src && a.t >= start);
    expect(await waitUntil(() => tcpFrom("10.78.0.6") && tcpFrom("10.78.0.3"), 2000)).toBe(true);
    expect(tcpFrom("10.78.0.5")).toBe(false);
    // Allowlisted sources are never screened.
    expect(await lab.udpArrives("10.78.0.4", FW_V4, 5060, "OPTIONS sip:x SIP/2.0")).toBe(true);
  });
});

describe("rendered scripts in a real kernel", () => {
  it("applies every golden policy in turn, cleaning up the sets each one drops", async () => {
    const fw = await freshBackend();
    const sip: SipAwarePolicy = {
      ...freepbxPolicy(),
      sipInspection: {
        ...DEFAULT_SIP_INSPECTION,
        secretDomain: "x.example.net",
        userAgentAllow: ["Zoiper"],
        registerLimit: { count: 20, seconds: 10 },
        inviteLimit: { count: 12, seconds: 60 },
      },
    };
    for (const p of [freepbxPolicy(), sip, labPolicy(), minimalPolicy()]) await fw.apply(p);
    const sets = (await lab.fwRun("ipset", ["list", "-n"])).stdout
      .split("\n")
      .filter((n) => n.length > 0)
      .sort();
    expect(sets).toEqual(["sw-allow4", "sw-allow6", "sw-ban4", "sw-ban6"]);
    await fw.apply(iptLabPolicy()); // leave the lab as the other suites expect it
  });

  it("accepts the standalone SIP inspection script meant for an nftables host", async () => {
    const p = iptSipPolicy({ secretDomain: "x.example.net" });
    const out = renderStandaloneSip(
      { sip: p.sipInspection!, sipPorts: portsOf(p, ["sip"]), exempt: p.allowlist },
      parseIpsetNames((await lab.fwRun("ipset", ["list", "-n"])).stdout),
      { 4: {}, 6: {} },
    );
    expect((await lab.fwRun("ipset", ["-exist", "restore"], out.sets.prepare)).code).toBe(0);
    for (const [tool, script] of [
      ["iptables-restore", out.v4],
      ["ip6tables-restore", out.v6],
    ] as const) {
      const r = await lab.fwRun(tool, ["--noflush", "--test", "-w"], script);
      expect(r.stderr).toBe("");
    }
  });
});

describeBackendContract("iptables+ipset in a network namespace", async () => ({
  backend: await freshBackend(),
  now: () => Date.now(),
}));
