// Real attack tools (nmap, hping3, scapy) against both backends in namespaces: scan trap, TCP flags, WAN bogons, SYN rate.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfigText } from "../../src/config/load.js";
import { cidrContains, parseCidr, parseIp } from "../../src/domain/address.js";
import { systemClock } from "../../src/domain/clock.js";
import { compilePolicy } from "../../src/enforce/compile-policy.js";
import type { FirewallBackend } from "../../src/enforce/firewall-backend.js";
import { DEFAULT_IPTABLES_CONFIG, createIptablesBackend } from "../../src/enforce/iptables/backend.js";
import { DEFAULT_NFT_CONFIG, createNftBackend } from "../../src/enforce/nftables/backend.js";
import { BOGONS_V4, BOGONS_V6 } from "../../src/enforce/policy.js";
import type { CommandRunner } from "../../src/enforce/command-runner.js";
import type { FirewallPolicy } from "../../src/enforce/policy.js";
import { LAN, LAN_IF, WAN, WAN_IF, createPacketLab, requirePacketTools } from "./packet-lab.js";
import type { CraftedPacket, PacketLab } from "./packet-lab.js";

const SYN_RATE = { perSecond: 20, burst: 20 };

/** The policy under test, from a config file's text through the real compiler: the new keys end to end. */
function labPolicy(backend: "nftables" | "iptables"): FirewallPolicy {
  const config = loadConfigText(
    [
      "preset: asterisk",
      "firewall:",
      `  backend: ${backend}`,
      `  wan: { interfaces: [${WAN_IF}], drop_bogons: true }`,
      "  open: [ssh, http, sip]",
      "  protections:",
      `    syn_rate: { per_second: ${SYN_RATE.perSecond}, burst: ${SYN_RATE.burst} }`,
      "    port_scan_trap: { tcp: [23, 3389], time: 10m }",
      "  sip_inspection: false",
    ].join("\n"),
    "packets.yaml",
  );
  return compilePolicy(config);
}

const warnings: object[] = [];
const log = { warn: (facts: object) => void warnings.push(facts) };
const BACKENDS: readonly {
  name: "nftables" | "iptables";
  create(run: CommandRunner): FirewallBackend;
}[] = [
  {
    name: "nftables",
    create: (run) => createNftBackend(DEFAULT_NFT_CONFIG, { run, clock: systemClock, log }),
  },
  {
    name: "iptables",
    create: (run) => createIptablesBackend(DEFAULT_IPTABLES_CONFIG, { run, clock: systemClock, log }),
  },
];

function isBogon(address: string): boolean {
  const a = parseIp(address);
  const list = a?.family === 4 ? BOGONS_V4 : BOGONS_V6;
  return a !== null && list.some((c) => cidrContains(parseCidr(c)!, a));
}

it("the lab's internet side is not a bogon range, and its LAN side is", () => {
  for (const a of [WAN.fw4, WAN.scanner4, WAN.fw6, WAN.scanner6]) expect(isBogon(a), a).toBe(false);
  for (const a of [LAN.peer4, LAN.peer6, "10.0.0.5", "192.168.7.7", "fd00::5"])
    expect(isBogon(a), a).toBe(true);
});

/** Bad flag combinations in hping3's options and scapy's letters, and NEW TCP without SYN (a bare ACK). */
const BAD_TCP: readonly { name: string; hping: string[]; scapy: string; nft: string }[] = [
  { name: "synfin", hping: ["-S", "-F"], scapy: "SF", nft: "fin|syn" },
  { name: "null", hping: [], scapy: "", nft: "0x0" },
  { name: "xmas", hping: ["-F", "-P", "-U"], scapy: "FPU", nft: "fin|psh|urg" },
  { name: "finonly", hping: ["-F"], scapy: "F", nft: "fin" },
  { name: "ackonly", hping: ["-A"], scapy: "A", nft: "ack" },
];
const SIX = "tcp flags & (fin|syn|rst|psh|ack|urg)";

for (const b of BACKENDS)
  describe(`${b.name}: generic protections against real attack tools`, () => {
    let lab: PacketLab | undefined;
    const theLab = (): PacketLab => {
      if (!lab) throw new Error("lab was not created");
      return lab;
    };
    /** hping3 in the peer namespace; `-q` and a count keep it bounded, the runner's timeout kills it otherwise. */
    const hping = async (args: readonly string[]): Promise<void> => {
      const r = await theLab().peerRun("hping3", ["-q", ...args]);
      // hping3 exits 1 when nothing answered, which is the point of most of these runs.
      if (r.code !== 0 && r.code !== 1) throw new Error(`hping3 failed (exit ${r.code}): ${r.stderr.trim()}`);
    };
    const nmap = async (args: readonly string[]): Promise<string> => {
      const r = await theLab().peerRun("nmap", ["-n", "-Pn", "-sS", "--max-retries", "0", ...args]);
      if (r.code !== 0) throw new Error(`nmap failed (exit ${r.code}): ${r.stderr.trim()}`);
      return r.stdout;
    };

    beforeAll(async () => {
      await requirePacketTools();
      lab = await createPacketLab();
      await b.create(lab.fwRun).apply(labPolicy(b.name));
    });

    afterAll(async () => {
      await lab?.destroy();
    });

    it("an nmap scan touching a bait port gets the scanner dropped on every port, others still connect", async () => {
      const l = theLab();
      expect(await l.tcp(WAN.scanner4, WAN.fw4, 80)).toBe("open");
      const out = await nmap(["-S", WAN.scanner4, "-e", WAN_IF, "-p", "22,23,80,3389", WAN.fw4]);
      expect(out).toContain("Nmap done");
      for (const port of [80, 22]) expect(await l.tcp(WAN.scanner4, WAN.fw4, port)).toBe("timeout");
      expect(await l.tcp(WAN.other4, WAN.fw4, 80)).toBe("open");
      expect(await l.tcp(WAN.other4, WAN.fw4, 22)).toBe("open");
    });

    it("IPv6: an nmap scan traps the scanner, another source still connects", async () => {
      const l = theLab();
      expect(await l.tcp(WAN.scanner6, WAN.fw6, 80)).toBe("open");
      await nmap(["-6", "-S", WAN.scanner6, "-e", WAN_IF, "-p", "22,23,80", WAN.fw6]);
      expect(await l.tcp(WAN.scanner6, WAN.fw6, 80)).toBe("timeout");
      expect(await l.tcp(WAN.other6, WAN.fw6, 80)).toBe("open");
    });

    it("hping3's bad TCP flag combinations and NEW TCP without SYN reach fw but are not delivered", async () => {
      const l = theLab();
      const src = `ip saddr ${WAN.flags4} tcp dport 80`;
      await l.probe(
        Object.fromEntries([
          ...BAD_TCP.map((k) => [k.name, `${src} ${SIX} == ${k.nft}`]),
          ["syn", `${src} ${SIX} == syn`],
        ]),
      );
      const common = ["-a", WAN.flags4, "-p", "80", "-c", "3", "-i", "u20000", WAN.fw4];
      await Promise.all(BAD_TCP.map((k) => hping([...k.hping, ...common])));
      await hping(["-S", ...common]);
      const c = await l.counts();
      for (const k of BAD_TCP) expect(c[k.name], k.name).toEqual({ seen: 3, delivered: 0 });
      expect(c.syn).toEqual({ seen: 3, delivered: 3 });
    });

    it("IPv6 (scapy): bad TCP flag combinations and NEW TCP without SYN are not delivered, a SYN is", async () => {
      const l = theLab();
      const src = `ip6 saddr ${WAN.flags6} tcp dport 80`;
      await l.probe(
        Object.fromEntries([
          ...BAD_TCP.map((k) => [k.name, `${src} ${SIX} == ${k.nft}`]),
          ["syn", `${src} ${SIX} == syn`],
        ]),
      );
      const pkt = (flags: string): CraftedPacket => ({
        iface: WAN_IF,
        src: WAN.flags6,
        dst: WAN.fw6,
        dport: 80,
        flags,
        count: 3,
      });
      expect(await l.craft([...BAD_TCP.map((k) => pkt(k.scapy)), pkt("S")])).toBe(18);
      const c = await l.counts();
      for (const k of BAD_TCP) expect(c[k.name], k.name).toEqual({ seen: 3, delivered: 0 });
      expect(c.syn).toEqual({ seen: 3, delivered: 3 });
    });

    it("hping3-spoofed bogon sources are dropped on the WAN interface and pass on the LAN", async () => {
      const l = theLab();
      await l.probe({
        wan10: `iifname "${WAN_IF}" ip saddr 10.0.0.5 tcp dport 80`,
        wan192: `iifname "${WAN_IF}" ip saddr 192.168.7.7 tcp dport 80`,
        lan10: `iifname "${LAN_IF}" ip saddr 10.0.0.5 tcp dport 80`,
      });
      const syn = (spoof: string, dst: string): string[] => [
        "-S",
        "-a",
        spoof,
        "-p",
        "80",
        "-c",
        "3",
        "-i",
        "u20000",
        dst,
      ];
      await Promise.all([
        hping(syn("10.0.0.5", WAN.fw4)),
        hping(syn("192.168.7.7", WAN.fw4)),
        hping(syn("10.0.0.5", LAN.fw4)),
      ]);
      const c = await l.counts();
      expect(c.wan10).toEqual({ seen: 3, delivered: 0 });
      expect(c.wan192).toEqual({ seen: 3, delivered: 0 });
      // The same source on the LAN meets no bogon rule: it is an ordinary private client there.
      expect(c.lan10).toEqual({ seen: 3, delivered: 3 });
      // A real LAN host with a private address connects; so does an internet host on the WAN.
      expect(await l.tcp(LAN.peer4, LAN.fw4, 80)).toBe("open");
    });

    it("IPv6 (scapy): a ULA source is dropped on the WAN interface and passes on the LAN", async () => {
      const l = theLab();
      await l.probe({
        wanula: `iifname "${WAN_IF}" ip6 saddr fd00::5 tcp dport 80`,
        wandoc: `iifname "${WAN_IF}" ip6 saddr 2001:db8::5 tcp dport 80`,
        lanula: `iifname "${LAN_IF}" ip6 saddr fd00::5 tcp dport 80`,
      });
      const base = { dport: 80, flags: "S", count: 3 } as const;
      await l.craft([
        { ...base, iface: WAN_IF, src: "fd00::5", dst: WAN.fw6 },
        { ...base, iface: WAN_IF, src: "2001:db8::5", dst: WAN.fw6 },
        { ...base, iface: LAN_IF, src: "fd00::5", dst: LAN.fw6 },
      ]);
      const c = await l.counts();
      expect(c.wanula).toEqual({ seen: 3, delivered: 0 });
      expect(c.wandoc).toEqual({ seen: 3, delivered: 0 });
      expect(c.lanula).toEqual({ seen: 3, delivered: 3 });
      expect(await l.tcp(LAN.peer6, LAN.fw6, 80)).toBe("open");
    });

    it("a hping3 SYN flood above the SYN rate is cut to the limit, while another source's SYNs all pass", async () => {
      const l = theLab();
      await l.probe({
        flood: `ip saddr ${WAN.flood4} tcp dport 80 ${SIX} == syn`,
        other: `ip saddr ${WAN.other4} tcp dport 80 ${SIX} == syn`,
      });
      // 300 SYNs in about 0.3 s from one source, and 10 at 20/s from another, at the same time.
      await Promise.all([
        hping(["-S", "-a", WAN.flood4, "-p", "80", "-c", "300", "-i", "u1000", WAN.fw4]),
        hping(["-S", "-a", WAN.other4, "-p", "80", "-c", "10", "-i", "u50000", WAN.fw4]),
      ]);
      const c = await l.counts();
      expect(c.flood?.seen).toBeGreaterThanOrEqual(250);
      // The burst plus what the rate refills while the flood lasts (it runs ≤ 1 s even on a slow host).
      expect(c.flood?.delivered).toBeGreaterThanOrEqual(SYN_RATE.burst);
      expect(c.flood?.delivered).toBeLessThanOrEqual(SYN_RATE.burst + SYN_RATE.perSecond * 2);
      expect(c.other).toEqual({ seen: 10, delivered: 10 });
    });

    it("IPv6 (scapy): a SYN flood is cut to the limit, another source is not", async () => {
      const l = theLab();
      await l.probe({
        flood: `ip6 saddr ${WAN.flood6} tcp dport 80 ${SIX} == syn`,
        other: `ip6 saddr ${WAN.other6} tcp dport 80 ${SIX} == syn`,
      });
      const started = Date.now();
      await l.craft([
        { iface: WAN_IF, src: WAN.flood6, dst: WAN.fw6, dport: 80, flags: "S", count: 200 },
        { iface: WAN_IF, src: WAN.other6, dst: WAN.fw6, dport: 80, flags: "S", count: 5 },
      ]);
      const seconds = (Date.now() - started) / 1000;
      const c = await l.counts();
      expect(c.flood?.seen).toBe(200);
      expect(c.flood?.delivered).toBeGreaterThanOrEqual(SYN_RATE.burst);
      // Scapy's start-up counts in `seconds` too, so this bound is loose but still far below 200.
      expect(c.flood?.delivered).toBeLessThanOrEqual(
        SYN_RATE.burst + Math.ceil(SYN_RATE.perSecond * seconds) + 5,
      );
      expect(c.flood?.delivered).toBeLessThan(100);
      expect(c.other).toEqual({ seen: 5, delivered: 5 });
    });
  });
