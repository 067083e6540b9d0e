// The nftables backend's fast path in a namespace lab, with real packets: bans over the netlink channel and
// the lab's blocklist offloaded to ipset (threshold 1), so both mechanisms meet the contract and the kernel.
import { mkdtempSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { writeMmdb } from "../../../test/geoip/mmdb-files.js";
import { loadCountryLists } from "../country-lists.js";
import { describeBackendContract } from "../../../test/enforce/backend-contract.js";
import { FW_V4, FW_V6, createLab, requireLabTools, waitUntil } from "../../../test/enforce/netns.js";
import type { Lab } from "../../../test/enforce/netns.js";
import { labPolicy } from "../../../test/enforce/policy-fixtures.js";
import { systemClock } from "../../domain/clock.js";
import type { FirewallBackend } from "../firewall-backend.js";
import { sipBanScope, type FirewallPolicy } from "../policy.js";
import { FAST_NFT_CONFIG, openNftBackend } from "./backend.js";
import { OFFLOAD_CHAIN, RESTRICT_CHAIN } from "./blocklist-offload.js";

const SIP = sipBanScope(labPolicy());
const ALL = { kind: "all" } as const;

let lab: Lab | undefined;
const warnings: object[] = [];
const opened: { close(): void }[] = [];

function theLab(): Lab {
  if (!lab) throw new Error("lab was not created");
  return lab;
}

async function freshBackend(): Promise<FirewallBackend> {
  const l = theLab();
  await l.fwRun("nft", ["delete", "table", "inet", "sipwarden"]);
  await l.fwRun("conntrack", ["-F"]);
  const b = await openNftBackend(
    {
      run: l.fwRun,
      clock: systemClock,
      log: { warn: (f) => warnings.push(f) },
      netnsPath: `/run/netns/${l.fw}`,
    },
    { ...FAST_NFT_CONFIG, offloadBlocklistsAt: 1 },
  );
  opened.push(b);
  return b;
}

beforeAll(async () => {
  await requireLabTools();
  lab = await createLab({ tcp: [22, 80, 5060], udp: [5060] });
});

afterAll(async () => {
  for (const b of opened) b.close();
  await lab?.destroy();
});

describeBackendContract("nftables fast path (netlink + ipset offload)", async () => ({
  backend: await freshBackend(),
  now: systemClock.now,
}));

/** The lab policy with SIP open only to 10.77.0.2 (a one-address "country"), offloaded at threshold 1. */
function restrictedLabPolicy(): FirewallPolicy {
  return {
    ...labPolicy(),
    restrictions: [
      { name: "countries", services: ["sip"], lists: [{ label: "xa", entries: ["10.77.0.2"] }] },
    ],
  };
}

describe("fast path packets", () => {
  let fw: FirewallBackend;
  beforeEach(async () => {
    warnings.length = 0;
    fw = await freshBackend();
    await fw.apply(labPolicy());
  });

  it("opened the netlink channel (no fallback warning) and hooked the offload chain", async () => {
    expect(warnings).toEqual([]);
    const raw = await theLab().fwRun("iptables", ["-t", "raw", "-S"]);
    expect(raw.stdout).toContain(`-A PREROUTING -j ${OFFLOAD_CHAIN}`);
    const table = await theLab().fwRun("nft", ["list", "table", "inet", "sipwarden"]);
    expect(table.stdout).not.toContain("set block4");
  });

  it("drops the offloaded blocklist, never an allowlisted source, and survives a re-apply", async () => {
    const l = theLab();
    expect(await l.tcp("10.77.0.130", FW_V4, 80)).toBe("timeout");
    expect(await l.tcp("10.77.0.2", FW_V4, 80)).toBe("open");
    await fw.apply(labPolicy());
    expect(await l.tcp("10.77.0.130", FW_V4, 80)).toBe("timeout");
    const withAllow = { ...labPolicy(), allowlist: [...labPolicy().allowlist, "10.77.0.130"] };
    await fw.apply(withAllow);
    expect(await l.tcp("10.77.0.130", FW_V4, 80)).toBe("open");
  });

  it("restricts SIP to a list from an iptables-nft filter chain, and a policy without it removes it", async () => {
    const l = theLab();
    const restricted = restrictedLabPolicy();
    await fw.apply(restricted);
    const filter = await l.fwRun("iptables", ["-t", "filter", "-S"]);
    expect(filter.stdout).toContain(`-A INPUT -j ${RESTRICT_CHAIN}`);
    const table = await l.fwRun("nft", ["list", "table", "inet", "sipwarden"]);
    expect(table.stdout).not.toContain("countries4");
    expect(await l.tcp("10.77.0.2", FW_V4, 5060)).toBe("open");
    expect(await l.tcp("10.77.0.3", FW_V4, 5060)).toBe("timeout");
    expect(await l.tcp("10.77.0.3", FW_V4, 80)).toBe("open");
    // The blocklist stays offloaded, the restriction goes: its sets go with it.
    await fw.apply(labPolicy());
    expect(await l.tcp("10.77.0.3", FW_V4, 5060)).toBe("open");
    const left = (await l.fwRun("ipset", ["-n", "list"])).stdout;
    expect(left).toContain("swnft-block4");
    expect(left).not.toContain("swnft-countries");
    await fw.apply(restricted);
    await fw.apply({ ...labPolicy(), blocklists: [] });
    expect(await l.tcp("10.77.0.3", FW_V4, 5060)).toBe("open");
    const chain = await l.fwRun("iptables", ["-t", "filter", "-S", RESTRICT_CHAIN]);
    expect(chain.stdout.trim()).toBe(`-N ${RESTRICT_CHAIN}`);
    expect((await l.fwRun("ipset", ["-n", "list"])).stdout).not.toContain("swnft-");
  });

  it("restricts SIP to a country read from a geolocation database (.mmdb by MaxMind's writer)", async () => {
    const l = theLab();
    const dir = mkdtempSync(join(tmpdir(), "sw-geo-lab-"));
    try {
      const database = join(dir, "GeoLite2-Country.mmdb");
      writeMmdb(database, {
        ip_version: 6,
        record_size: 28,
        alias: 1,
        networks: [
          ["10.77.0.2/32", { country: { iso_code: "DE" } }],
          ["10.77.0.3/32", { country: { iso_code: "CN" } }],
          ["10.77.0.128/25", { country: { iso_code: "DE" } }],
        ],
      });
      const read = (f: string) => readFile(f, "utf8");
      const loaded = await loadCountryLists(
        { allow: ["de"], services: ["sip"], files: [], database },
        ["ipv4"],
        read,
      );
      expect(loaded.warnings).toEqual([]);
      await fw.apply({ ...labPolicy(), restrictions: [loaded.restriction!] });
      expect(await l.tcp("10.77.0.2", FW_V4, 5060)).toBe("open");
      expect(await l.tcp("10.77.0.3", FW_V4, 5060)).toBe("timeout");
      expect(await l.tcp("10.77.0.3", FW_V4, 80)).toBe("open");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("health sees an offload chain flushed or its jump deleted; an apply mends it", async () => {
    const l = theLab();
    const restricted = restrictedLabPolicy();
    await fw.apply(restricted);
    expect(await fw.health()).toMatchObject({
      ok: true,
      detail: expect.stringContaining("large lists in ipset"),
    });
    const breakages: [string, string[], RegExp][] = [
      ["iptables", ["-w", "-t", "raw", "-F", OFFLOAD_CHAIN], /raw chain SIPWARDEN-NFTBL missing or emptied/],
      ["ip6tables", ["-w", "-t", "filter", "-D", "INPUT", "-j", RESTRICT_CHAIN], /INPUT no longer jumps/],
    ];
    for (const [tool, args, said] of breakages) {
      const r = await l.fwRun(tool, args);
      expect(r.code, r.stderr).toBe(0);
      const h = await fw.health();
      expect(h.ok).toBe(false);
      expect(h.detail).toMatch(said);
      await fw.apply(restricted);
      expect(await fw.health()).toMatchObject({ ok: true });
    }
    // The blocklist drops again after the mend.
    expect(await l.tcp("10.77.0.130", FW_V4, 80)).toBe("timeout");
  });

  it("a policy without the feed removes its rules", async () => {
    const l = theLab();
    await fw.apply({ ...labPolicy(), blocklists: [] });
    expect(await l.tcp("10.77.0.130", FW_V4, 80)).toBe("open");
    const sets = await l.fwRun("ipset", ["-n", "list"]);
    expect(sets.stdout).not.toContain("swnft-");
  });

  it("an established UDP SIP flow stops at once after a netlink ban; its conntrack entry goes", async () => {
    const l = theLab();
    const fromBanned = (): number[] =>
      l.arrivals
        .filter((a) => a.ev === "udp" && a.from === "10.77.0.3" && a.data?.startsWith("seq:"))
        .map((a) => Number(a.data?.split(":")[2]));
    const streaming = l.stream("10.77.0.3", 40_001, FW_V4, 5060, 10, 200);
    expect(await waitUntil(() => fromBanned().length >= 20, 5_000)).toBe(true);
    await fw.ban([{ target: "10.77.0.3", timeoutMs: 60_000, scope: SIP }]);
    const bannedAt = Date.now();
    expect(await streaming).toBe(200);
    expect(fromBanned().filter((t) => t >= bannedAt)).toEqual([]);
    // The cleanup runs in the background after `ban` resolved; by now it is long done.
    const after = await l.fwRun("conntrack", ["-L", "-s", "10.77.0.3"]);
    expect(warnings).toEqual([]);
    expect(after.stdout).not.toContain("dport=5060");
  });

  it("an IPv6 network ban drops every address of the network at once, none outside, until it expires", async () => {
    const l = theLab();
    // fd77::2 and fd77::3 share fd77::2/127; fd77::4 does not.
    await fw.apply({ ...labPolicy(), networkBanPrefix6: 127 });
    expect(await l.udpArrives("fd77::3", FW_V6, 5060)).toBe(true);
    expect((await l.fwRun("conntrack", ["-L", "-f", "ipv6"])).stdout).toMatch(/src=fd77::3 .*dport=5060/);
    await fw.ban([{ target: "fd77::2/127", timeoutMs: 1_500, scope: SIP }]);
    expect(await l.udpArrives("fd77::3", FW_V6, 5060, undefined, 300)).toBe(false);
    expect(await l.udpArrives("fd77::2", FW_V6, 5060, undefined, 300)).toBe(false);
    expect(await l.udpArrives("fd77::4", FW_V6, 5060)).toBe(true);
    // On the SIP scope only: the banned network still reaches the web.
    expect(await l.tcp("fd77::2", FW_V6, 80)).toBe("open");
    const table = await l.fwRun("nft", ["list", "chain", "inet", "sipwarden", "prerouting"]);
    expect(table.stdout).toMatch(/ip6 saddr & ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe == @sipban6net drop/);
    // The network's SIP flows left conntrack after the ban (fd77::3's from before it), fd77::4's stayed.
    const flows = await l.fwRun("conntrack", ["-L", "-f", "ipv6"]);
    expect(flows.stdout).not.toMatch(/src=fd77::3 .*dport=5060/);
    expect(flows.stdout).toMatch(/src=fd77::4 .*dport=5060/);
    let reached = false;
    for (let i = 0; i < 20 && !reached; i++)
      reached = await l.udpArrives("fd77::3", FW_V6, 5060, undefined, 300);
    expect(reached).toBe(true);
    expect(warnings).toEqual([]);
  });

  it("a ban expires by its kernel timeout and unban removes at once", async () => {
    const l = theLab();
    await fw.ban([{ target: "10.77.0.3", timeoutMs: 1_000, scope: ALL }]);
    await fw.ban([{ target: "10.77.0.2", timeoutMs: null, scope: ALL }]);
    expect(await l.udpArrives("10.77.0.3", FW_V4, 5060, undefined, 300)).toBe(false);
    await fw.unban(["10.77.0.2"]);
    expect(await l.udpArrives("10.77.0.2", FW_V4, 5060)).toBe(true);
    let reached = false;
    for (let i = 0; i < 20 && !reached; i++)
      reached = await l.udpArrives("10.77.0.3", FW_V4, 5060, undefined, 300);
    expect(reached).toBe(true);
  });
});
