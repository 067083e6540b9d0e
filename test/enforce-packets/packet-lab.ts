// A throw-away fw ↔ peer namespace pair with a WAN link (non-bogon addresses) and a LAN link (private ones), plus kernel probe counters in fw.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createSpawnRunner } from "../../src/enforce/command-runner.js";
import type { CommandResult, CommandRunner } from "../../src/enforce/command-runner.js";
import type { ArrivalEvent } from "../enforce/netns.js";
import { waitUntil } from "../enforce/netns.js";

/** Debian packages these tests need (also in scripts/apt-packages.txt). */
export const PACKET_APT_PACKAGES = [
  "iproute2",
  "nftables",
  "iptables",
  "ipset",
  "conntrack",
  "nmap",
  "hping3",
  "python3-scapy",
] as const;

/** Debian's interpreter, where python3-scapy installs (a pyenv python earlier on PATH lacks it). */
export const PYTHON = "/usr/bin/python3";
const AGENT = fileURLToPath(new URL("../enforce/traffic-agent.mjs", import.meta.url));
const SENDER = fileURLToPath(new URL("./send-packets.py", import.meta.url));
const base = createSpawnRunner({ timeoutMs: 30_000 });

/**
 * The "internet" side. Every other lab range is private, which is exactly what the bogon drop removes, so
 * the WAN uses 192.88.99.0/24 (the retired 6to4 relay anycast block, in no bogon list and never routed out
 * of these namespaces) and its 6to4 image 2002:c058:6301::/64. The test asserts neither is a bogon.
 */
export const WAN = {
  fw4: "192.88.99.1",
  fw6: "2002:c058:6301::1",
  /** Peer sources: scanner, bad-flags sender, SYN flooder, an innocent bystander. */
  scanner4: "192.88.99.2",
  flags4: "192.88.99.3",
  flood4: "192.88.99.4",
  other4: "192.88.99.5",
  scanner6: "2002:c058:6301::2",
  flags6: "2002:c058:6301::3",
  flood6: "2002:c058:6301::4",
  other6: "2002:c058:6301::5",
} as const;
/** The LAN side: private ranges, legitimate here. */
export const LAN = { fw4: "10.99.0.1", peer4: "10.99.0.2", fw6: "fd99::1", peer6: "fd99::2" } as const;
/** Interface names, the same at both ends of each veth pair. */
export const WAN_IF = "wan0";
export const LAN_IF = "lan0";

/** Open TCP services of the lab policy, served by the listener in fw. */
export const OPEN_TCP = [22, 80] as const;

/** Fails loudly, never skips: a CI that quietly skipped these would prove nothing. */
export async function requirePacketTools(): Promise<void> {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push("root (uid 0) to create network namespaces");
  for (const [cmd, args] of [
    ["ip", ["-V"]],
    ["nft", ["--version"]],
    ["iptables-restore", ["--version"]],
    ["ip6tables-restore", ["--version"]],
    ["ipset", ["version"]],
    ["conntrack", ["--version"]],
    ["nmap", ["--version"]],
    ["hping3", ["--version"]],
    [PYTHON, ["-c", "import scapy.all"]],
  ] as const) {
    const r = await base(cmd, args);
    if (r.code !== 0) missing.push(`${cmd} (${r.stderr.trim().split("\n").pop() || `exit ${r.code}`})`);
  }
  if (missing.length > 0)
    throw new Error(
      `packet tests need ${missing.join(", ")}; install with: apt-get install -y ${PACKET_APT_PACKAGES.join(" ")}`,
    );
}

/** A packet scapy crafts in the peer namespace (IPv6 cases: hping3 has no IPv6). */
export interface CraftedPacket {
  readonly iface: typeof WAN_IF | typeof LAN_IF;
  readonly src: string;
  readonly dst: string;
  readonly dport: number;
  /** scapy's flag letters, e.g. "S", "SF", "FPU", "" (null), "A". */
  readonly flags: string;
  readonly count: number;
}

export interface PacketLab {
  readonly fw: string;
  readonly peer: string;
  readonly fwRun: CommandRunner;
  readonly peerRun: CommandRunner;
  readonly arrivals: ArrivalEvent[];
  /** TCP connect from `src` in peer: "open", "refused", "timeout" or an error code. */
  tcp(src: string, dst: string, port: number, timeoutMs?: number): Promise<string>;
  /**
   * Replaces the probe table: for each name, a counter in a prerouting chain that runs before every
   * firewall hook ("seen": the packet reached fw) and one in an input chain after them ("delivered").
   */
  probe(matches: Readonly<Record<string, string>>): Promise<void>;
  /** Counter values by name: `seen` and `delivered` packets. */
  counts(): Promise<Record<string, { seen: number; delivered: number }>>;
  /** Sends crafted packets with scapy (frames addressed to fw's MAC, so any source can be used). */
  craft(packets: readonly CraftedPacket[]): Promise<number>;
  destroy(): Promise<void>;
}

async function must(r: Promise<CommandResult>, what: string): Promise<CommandResult> {
  const res = await r;
  if (res.code !== 0) throw new Error(`${what} failed (exit ${res.code}): ${res.stderr.trim()}`);
  return res;
}

/** Probe counter names become nft identifiers; the test picks them, but keep them boring. */
function checkName(n: string): string {
  if (!/^[a-z][a-z0-9_]{0,30}$/.test(n)) throw new Error(`bad probe name ${n}`);
  return n;
}

/** Builds the lab and starts the listener; on any failure it removes what it created before rethrowing. */
export async function createPacketLab(): Promise<PacketLab> {
  const id = randomBytes(3).toString("hex");
  const fw = `swp-${id}-fw`;
  const peer = `swp-${id}-peer`;
  const children = new Set<ChildProcess>();
  const arrivals: ArrivalEvent[] = [];
  const inNs =
    (ns: string): CommandRunner =>
    (cmd, args, stdin) =>
      base("ip", ["netns", "exec", ns, cmd, ...args], stdin);
  const fwRun = inNs(fw);
  const peerRun = inNs(peer);
  const macs: Record<string, string> = {};

  const destroy = async (): Promise<void> => {
    for (const c of children) {
      if (c.exitCode === null && c.signalCode === null) {
        const exited = new Promise((r) => c.once("exit", r));
        c.kill("SIGKILL");
        await exited;
      }
    }
    children.clear();
    // Deleting a namespace removes its veth ends (so both pairs) and every rule and set inside it.
    await base("ip", ["netns", "del", fw]);
    await base("ip", ["netns", "del", peer]);
  };

  try {
    await must(base("ip", ["netns", "add", fw]), "ip netns add");
    await must(base("ip", ["netns", "add", peer]), "ip netns add");
    const ip = (ns: string, ...args: string[]): Promise<CommandResult> =>
      must(base("ip", ["-n", ns, ...args]), `ip -n ${ns} ${args.join(" ")}`);
    for (const ifname of [WAN_IF, LAN_IF])
      await ip(fw, "link", "add", ifname, "type", "veth", "peer", "name", ifname, "netns", peer);
    await ip(fw, "addr", "add", `${WAN.fw4}/24`, "dev", WAN_IF);
    await ip(fw, "addr", "add", `${LAN.fw4}/24`, "dev", LAN_IF);
    // nodad: usable at once instead of after duplicate address detection's ~1 s.
    await ip(fw, "-6", "addr", "add", `${WAN.fw6}/64`, "dev", WAN_IF, "nodad");
    await ip(fw, "-6", "addr", "add", `${LAN.fw6}/64`, "dev", LAN_IF, "nodad");
    for (const a of [WAN.scanner4, WAN.flags4, WAN.flood4, WAN.other4])
      await ip(peer, "addr", "add", `${a}/24`, "dev", WAN_IF);
    for (const a of [WAN.scanner6, WAN.flags6, WAN.flood6, WAN.other6])
      await ip(peer, "-6", "addr", "add", `${a}/64`, "dev", WAN_IF, "nodad");
    await ip(peer, "addr", "add", `${LAN.peer4}/24`, "dev", LAN_IF);
    await ip(peer, "-6", "addr", "add", `${LAN.peer6}/64`, "dev", LAN_IF, "nodad");
    for (const ns of [fw, peer])
      for (const ifname of ["lo", WAN_IF, LAN_IF]) await ip(ns, "link", "set", ifname, "up");
    // Reverse-path filtering would drop spoofed sources before our rules could, proving nothing about them.
    for (const key of ["all", "default", WAN_IF, LAN_IF])
      await must(fwRun("sysctl", ["-qw", `net.ipv4.conf.${key}.rp_filter=0`]), "sysctl rp_filter");
    for (const ifname of [WAN_IF, LAN_IF]) {
      const link = await must(fwRun("ip", ["-j", "link", "show", ifname]), "ip link show");
      const parsed = JSON.parse(link.stdout) as { address: string }[];
      macs[ifname] = parsed[0]?.address ?? "";
    }

    const server = spawn(
      "ip",
      ["netns", "exec", fw, process.execPath, AGENT, "serve", OPEN_TCP.join(","), ""],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    children.add(server);
    server.stderr.resume();
    createInterface({ input: server.stdout }).on("line", (line) =>
      arrivals.push(JSON.parse(line) as ArrivalEvent),
    );
    if (!(await waitUntil(() => arrivals.some((a) => a.ev === "ready"), 10_000)))
      throw new Error("traffic listener did not start in the fw namespace");
  } catch (e) {
    await destroy();
    throw e;
  }

  return {
    fw,
    peer,
    fwRun,
    peerRun,
    arrivals,
    async tcp(src, dst, port, timeoutMs = 700) {
      const r = await peerRun(process.execPath, [AGENT, "tcp", src, dst, String(port), String(timeoutMs)]);
      if (r.code !== 0) throw new Error(`traffic agent tcp failed: ${r.stderr.trim()}`);
      return r.stdout.trim();
    },
    async probe(matches) {
      const names = Object.keys(matches).map(checkName);
      const counters = names.flatMap((n) => [`\tcounter seen_${n} {}`, `\tcounter got_${n} {}`]);
      const rules = (prefix: string): string[] =>
        names.map((n) => `\t\t${matches[n] ?? ""} counter name "${prefix}_${n}"`);
      // Priority -450 runs before conntrack's defrag (-400) and the raw hooks (-300) of both backends;
      // 100 runs after their input chains, so a packet counted there was accepted by the firewall.
      const script = [
        "table inet swprobe {}",
        "delete table inet swprobe",
        "table inet swprobe {",
        ...counters,
        "\tchain pre {",
        "\t\ttype filter hook prerouting priority -450; policy accept;",
        ...rules("seen"),
        "\t}",
        "\tchain in {",
        "\t\ttype filter hook input priority 100; policy accept;",
        ...rules("got"),
        "\t}",
        "}",
      ].join("\n");
      await must(fwRun("nft", ["-f", "-"], `${script}\n`), "nft probe table");
    },
    async counts() {
      const r = await must(fwRun("nft", ["-j", "list", "counters", "table", "inet", "swprobe"]), "nft list");
      const doc = JSON.parse(r.stdout) as { nftables: { counter?: { name: string; packets: number } }[] };
      const out: Record<string, { seen: number; delivered: number }> = {};
      for (const item of doc.nftables) {
        const c = item.counter;
        if (!c) continue;
        const m = /^(seen|got)_(.+)$/.exec(c.name);
        if (!m?.[2]) continue;
        const entry = (out[m[2]] ??= { seen: 0, delivered: 0 });
        if (m[1] === "seen") entry.seen = c.packets;
        else entry.delivered = c.packets;
      }
      return out;
    },
    async craft(packets) {
      const payload = packets.map((p) => ({ ...p, mac: macs[p.iface] }));
      const r = await peerRun(PYTHON, [SENDER], JSON.stringify(payload));
      if (r.code !== 0) throw new Error(`scapy sender failed (exit ${r.code}): ${r.stderr.trim()}`);
      return Number(/sent (\d+)/.exec(r.stdout)?.[1] ?? "0");
    },
    destroy,
  };
}
