// A throw-away fw ↔ peer namespace pair with a WAN link (non-bogon addresses) and a LAN link (private ones), plus kernel probe counters in fw.
import { fileURLToPath } from "node:url";
import type { CommandRunner } from "../netns/netns.js";
import { PROBES, buildLab, labId, must, requireRootAndTools } from "../netns/netns.js";
import type { ArrivalEvent } from "../netns/traffic.js";
import { startListener, trafficSender } from "../netns/traffic.js";

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
const SENDER = fileURLToPath(new URL("./send-packets.py", import.meta.url));

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
export function requirePacketTools(): Promise<void> {
  return requireRootAndTools({
    who: "packet tests need",
    tools: [
      ...Object.values(PROBES),
      ["nmap", ["--version"]],
      ["hping3", ["--version"]],
      [PYTHON, ["-c", "import scapy.all"]],
    ],
    packages: PACKET_APT_PACKAGES,
  });
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

/** Probe counter names become nft identifiers; the test picks them, but keep them boring. */
function checkName(n: string): string {
  if (!/^[a-z][a-z0-9_]{0,30}$/.test(n)) throw new Error(`bad probe name ${n}`);
  return n;
}

/** Builds the lab and starts the listener; on any failure it removes what it created before rethrowing. */
export async function createPacketLab(): Promise<PacketLab> {
  const id = labId();
  const fw = `swp-${id}-fw`;
  const peer = `swp-${id}-peer`;

  return buildLab([fw, peer], { timeoutMs: 30_000 }, async (lab) => {
    const fwRun = lab.run(fw);
    const peerRun = lab.run(peer);
    await lab.veth(fw, peer, WAN_IF, {
      a: [`${WAN.fw4}/24`, `${WAN.fw6}/64`],
      b: [
        ...[WAN.scanner4, WAN.flags4, WAN.flood4, WAN.other4].map((a) => `${a}/24`),
        ...[WAN.scanner6, WAN.flags6, WAN.flood6, WAN.other6].map((a) => `${a}/64`),
      ],
    });
    await lab.veth(fw, peer, LAN_IF, {
      a: [`${LAN.fw4}/24`, `${LAN.fw6}/64`],
      b: [`${LAN.peer4}/24`, `${LAN.peer6}/64`],
    });
    // Reverse-path filtering would drop spoofed sources before our rules could, proving nothing about them.
    for (const key of ["all", "default", WAN_IF, LAN_IF])
      await must(fwRun("sysctl", ["-qw", `net.ipv4.conf.${key}.rp_filter=0`]), "sysctl rp_filter");
    const macs: Record<string, string> = {};
    for (const ifname of [WAN_IF, LAN_IF]) macs[ifname] = await lab.mac(fw, ifname);
    const arrivals = await startListener(lab, fw, { tcp: OPEN_TCP, udp: [] });
    const sender = trafficSender(peerRun, arrivals);

    const packetLab: PacketLab = {
      fw,
      peer,
      fwRun,
      peerRun,
      arrivals,
      tcp: sender.tcp,
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
        const r = await must(
          fwRun("nft", ["-j", "list", "counters", "table", "inet", "swprobe"]),
          "nft list",
        );
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
      destroy: lab.destroy,
    };
    return packetLab;
  });
}
