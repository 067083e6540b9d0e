// Deterministic packet generation for the differential test, with the conntrack state each packet will get in the kernel.
import type { CtState, Packet, TcpFlag } from "../../src/enforce/evaluate/evaluate-packet.js";
import type { OutboundFlow } from "./diff-lab.js";
import type { Source } from "./diff-policies.js";

/** A packet as the peer sender builds it: the evaluator's view plus what only the wire needs. */
export interface WirePacket extends Packet {
  readonly id: number;
  /** TCP flags in scapy's letters (`S`, `SA`, `FPU`, ``). */
  readonly flags: string;
  /** The datagram an ICMP error quotes. */
  readonly quote?: OutboundFlow;
}

/** The payload marker the peer sender writes and the fw agent looks for. */
export function tagOf(id: number): string {
  return `swd:${id};`;
}

/** ICMP always carries the tag; TCP/UDP only when the payload has room, else source address and port tell. */
export function identifiedByTag(p: WirePacket): boolean {
  return p.protocol === "icmp" || p.protocol === "icmpv6" || p.payloadLength >= tagOf(p.id).length;
}

/** mulberry32: tiny, fast and good enough to make a reproducible mix of packets from one seed. */
export function createRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Rng = () => number;

function pick<T>(rng: Rng, items: readonly T[]): T {
  const item = items[Math.floor(rng() * items.length)];
  if (item === undefined) throw new Error("pick from an empty list");
  return item;
}

function weighted<T>(rng: Rng, items: readonly (readonly [T, number])[]): T {
  const total = items.reduce((s, [, w]) => s + w, 0);
  let r = rng() * total;
  for (const [item, w] of items) {
    r -= w;
    if (r < 0) return item;
  }
  return (items[items.length - 1] as readonly [T, number])[0];
}

const LETTERS: Readonly<Record<string, TcpFlag>> = {
  F: "fin",
  S: "syn",
  R: "rst",
  P: "psh",
  A: "ack",
  U: "urg",
  E: "ece",
  C: "cwr",
};

/** Combinations to send: honest openers, mid-stream pieces, and everything scanners and broken stacks try. */
const TCP_FLAG_MIX: readonly (readonly [string, number])[] = [
  ["S", 40],
  ["SEC", 4],
  ["SU", 2],
  ["SP", 2],
  ["A", 6],
  ["PA", 4],
  ["AU", 2],
  ["SA", 4],
  ["R", 3],
  ["RA", 3],
  ["F", 3],
  ["FA", 3],
  ["FPU", 3],
  ["FPUA", 2],
  ["", 3],
  ["SF", 3],
  ["SR", 2],
  ["FSRPAU", 2],
  ["FSRPAUEC", 1],
];

/**
 * The conntrack state Linux gives a TCP segment that opens no known flow (nf_conntrack_proto_tcp.c):
 * flag bytes outside its table of valid combinations (PSH, ECE, CWR ignored) are invalid; of the valid
 * ones only a SYN, or an ACK picked up mid-stream (nf_conntrack_tcp_loose, on by default), may start a
 * connection — SYN/ACK, FIN and RST without a connection are invalid.
 */
export function freshTcpCtState(flags: readonly TcpFlag[]): CtState {
  if (!validTcpFlags(flags)) return "invalid";
  const core = flags
    .filter((f) => f !== "psh" && f !== "ece" && f !== "cwr")
    .sort()
    .join(",");
  if (core.includes("rst") || core.includes("fin")) return "invalid";
  if (core.includes("syn")) return core.includes("ack") ? "invalid" : "new";
  return "new";
}

const TCP_PORTS = [22, 23, 80, 443, 3389, 5038, 5060, 5061, 5080, 8080, 8089, 10000] as const;
const UDP_PORTS = [
  53, 68, 123, 514, 546, 1900, 2727, 4569, 5060, 5061, 5080, 10000, 15000, 20000, 20001,
] as const;
/** Ports the fw opens flows from; the peer's answers then arrive on them as ESTABLISHED. */
const FW_FLOW_PORTS = [5060, 5080, 123, 8080, 40001] as const;
const FW_TCP_FLOW_PORTS = [5060, 5061, 8080, 22, 33000] as const;

const ICMP4_TYPES = [
  ["echo-request", 6],
  ["echo-reply", 1],
  ["destination-unreachable", 2],
  ["time-exceeded", 1],
  ["parameter-problem", 1],
  ["router-advertisement", 1],
  ["router-solicitation", 1],
] as const;
const ICMP6_TYPES = [
  ["echo-request", 6],
  ["destination-unreachable", 2],
  ["packet-too-big", 1],
  ["time-exceeded", 1],
  ["parameter-problem", 1],
  ["nd-router-solicit", 1],
  ["nd-neighbor-solicit", 1],
  ["mld-listener-query", 1],
] as const;

/** Conntrack ignores MLD and neighbour discovery (nf_conntrack_proto_icmpv6.c, noct_valid_new). */
const UNTRACKED_ICMPV6 = new Set<string>(["nd-router-solicit", "nd-neighbor-solicit", "mld-listener-query"]);

export interface GeneratorContext {
  readonly rng: Rng;
  /** Every source of the run, strangers included. */
  readonly sources: readonly Source[];
  readonly fw: { readonly ipv4: string; readonly ipv6: string };
  /** Next packet id; ids are unique in a run, and TCP/UDP source ports derive from them. */
  nextId: number;
}

/** Distinct per packet, so a TCP/UDP arrival is identified by its source port alone. */
function sportOf(id: number): number {
  return 20_000 + id;
}

function port(rng: Rng, list: readonly number[]): number {
  return rng() < 0.85 ? pick(rng, list) : 1 + Math.floor(rng() * 65_535);
}

function pickSource(ctx: GeneratorContext): Source {
  // Half the traffic from strangers, the rest spread over the roles that exercise precedence.
  const strangers = ctx.sources.filter((s) => s.role === "stranger");
  const named = ctx.sources.filter((s) => s.role !== "stranger" && s.role !== "trap-victim");
  return ctx.rng() < 0.45 ? pick(ctx.rng, strangers) : pick(ctx.rng, named);
}

function base(
  ctx: GeneratorContext,
  src: Source,
): { id: number; family: Source["family"]; src: string; dst: string } {
  const id = ctx.nextId++;
  return { id, family: src.family, src: src.address, dst: ctx.fw[src.family] };
}

export function tcpPacket(ctx: GeneratorContext, src: Source, dport: number, flags: string): WirePacket {
  const b = base(ctx, src);
  const tcpFlags = [...flags].map((l) => LETTERS[l] as TcpFlag);
  return {
    ...b,
    protocol: "tcp",
    sport: sportOf(b.id),
    dport,
    tcpFlags,
    flags,
    ctState: freshTcpCtState(tcpFlags),
    payloadLength: 0,
  };
}

export function udpPacket(
  ctx: GeneratorContext,
  src: Source,
  dport: number,
  payloadLength: number,
): WirePacket {
  const b = base(ctx, src);
  return { ...b, protocol: "udp", sport: sportOf(b.id), dport, flags: "", ctState: "new", payloadLength };
}

function icmpPacket(ctx: GeneratorContext, src: Source): WirePacket {
  const b = base(ctx, src);
  const v6 = src.family === "ipv6";
  const type = weighted(ctx.rng, v6 ? ICMP6_TYPES : ICMP4_TYPES);
  const isError = [
    "destination-unreachable",
    "packet-too-big",
    "time-exceeded",
    "parameter-problem",
  ].includes(type);
  // An error about a flow nobody opened: conntrack finds nothing to relate it to.
  const quote = isError ? { src: b.dst, sport: 30_000 + (b.id % 20_000), dst: b.src, dport: 9 } : undefined;
  const ctState: CtState =
    type === "echo-request" ? "new" : v6 && UNTRACKED_ICMPV6.has(type) ? "untracked" : "invalid";
  // Neighbour discovery only counts with hop limit 255; MLD is sent with 1. Both variants of ND go out.
  const hopLimit = type.startsWith("nd-") ? (ctx.rng() < 0.6 ? 255 : 64) : type.startsWith("mld") ? 1 : 64;
  return {
    ...b,
    protocol: v6 ? "icmpv6" : "icmp",
    sport: 0,
    dport: 0,
    flags: "",
    ctState,
    payloadLength: 16,
    icmpType: type,
    hopLimit,
    ...(quote ? { quote } : {}),
  };
}

function dhcpPacket(ctx: GeneratorContext, family: "ipv4" | "ipv6"): WirePacket {
  const v6 = family === "ipv6";
  const ofFamily = ctx.sources.filter((s) => s.family === family);
  // DHCPv6 servers answer from link-local: mostly a made-up one, sometimes a global source that must not count.
  const src: Source =
    v6 && ctx.rng() < 0.7 ? { family, role: "stranger", address: "fe80::5:1" } : pick(ctx.rng, ofFamily);
  return {
    ...base(ctx, src),
    protocol: "udp",
    sport: v6 ? 547 : 67,
    dport: v6 ? 546 : 68,
    flags: "",
    ctState: "new",
    payloadLength: 40,
  };
}

/** One packet of the main mix (no state changes to worry about except bait, which the caller filters). */
export function randomPacket(ctx: GeneratorContext, families: readonly ("ipv4" | "ipv6")[]): WirePacket {
  const { rng } = ctx;
  const kind = weighted(rng, [
    ["tcp", 45],
    ["udp", 35],
    ["icmp", 15],
    ["dhcp", 3],
  ] as const);
  if (kind === "dhcp") return dhcpPacket(ctx, pick(rng, families));
  let src = pickSource(ctx);
  // Mostly the policy's own families; a few of the other family check that it is dropped whole.
  for (let i = 0; i < 4 && !families.includes(src.family) && rng() < 0.85; i++) src = pickSource(ctx);
  if (kind === "tcp") return tcpPacket(ctx, src, port(rng, TCP_PORTS), weighted(rng, TCP_FLAG_MIX));
  if (kind === "udp") {
    // Empty datagrams, and one or two bytes: both sides of the "empty UDP" boundary.
    const size = weighted(rng, [
      [0, 12],
      [1 + Math.floor(rng() * 2), 5],
      [12 + Math.floor(rng() * 60), 83],
    ] as const);
    return udpPacket(ctx, src, port(rng, UDP_PORTS), size);
  }
  return icmpPacket(ctx, src);
}

/**
 * Answers from the peer inside UDP flows the fw opened first: datagrams that conntrack calls ESTABLISHED
 * (a few of them empty) and ICMP errors about the flow that it calls RELATED.
 */
export function flowPackets(
  ctx: GeneratorContext,
  count: number,
): { flows: OutboundFlow[]; packets: WirePacket[] } {
  const flows: OutboundFlow[] = [];
  const packets: WirePacket[] = [];
  for (let i = 0; i < count; i++) {
    const src = pickSource(ctx);
    const b = base(ctx, src);
    const flow: OutboundFlow = {
      src: b.dst,
      sport: pick(ctx.rng, FW_FLOW_PORTS),
      dst: b.src,
      dport: sportOf(b.id),
    };
    flows.push(flow);
    if (ctx.rng() < 0.7) {
      const empty = ctx.rng() < 0.1;
      packets.push({
        ...b,
        protocol: "udp",
        sport: flow.dport,
        dport: flow.sport,
        flags: "",
        ctState: "established",
        payloadLength: empty ? 0 : 24,
      });
    } else {
      const v6 = src.family === "ipv6";
      packets.push({
        ...b,
        protocol: v6 ? "icmpv6" : "icmp",
        sport: 0,
        dport: 0,
        flags: "",
        ctState: "related",
        payloadLength: 16,
        icmpType: "destination-unreachable",
        quote: flow,
      });
    }
  }
  return { flows, packets };
}

/**
 * Segments inside TCP connections the fw opened: every flag mix conntrack lets through in an established flow
 * (FIN+PSH+URG+ACK among them, the only "bad" combination it does not call invalid by itself) and some it
 * does call invalid. Not SYN, SYN/ACK or RST: conntrack treats those specially mid-flow.
 */
const ESTABLISHED_FLAG_MIX: readonly (readonly [string, number])[] = [
  ["A", 3],
  ["PA", 3],
  ["AU", 1],
  ["PAU", 1],
  ["FA", 2],
  ["FPA", 1],
  ["FPUA", 5],
  ["F", 1],
  ["FPU", 1],
  ["", 1],
  ["SF", 1],
];

/** Valid flag bytes for conntrack (nf_conntrack_proto_tcp.c tcp_valid_flags), PSH/ECE/CWR ignored. */
function validTcpFlags(flags: readonly TcpFlag[]): boolean {
  const core = flags
    .filter((f) => f !== "psh" && f !== "ece" && f !== "cwr")
    .sort()
    .join(",");
  return ["syn", "syn,urg", "ack,syn", "rst", "ack,rst", "ack,fin", "ack,fin,urg", "ack", "ack,urg"].includes(
    core,
  );
}

export function tcpFlowPackets(
  ctx: GeneratorContext,
  count: number,
  listenFrom: number,
): { flows: OutboundFlow[]; packets: WirePacket[] } {
  const flows: OutboundFlow[] = [];
  const packets: WirePacket[] = [];
  for (let i = 0; i < count; i++) {
    const src = pickSource(ctx);
    const b = base(ctx, src);
    const flow: OutboundFlow = {
      src: b.dst,
      sport: pick(ctx.rng, FW_TCP_FLOW_PORTS),
      dst: b.src,
      dport: listenFrom + i,
    };
    flows.push(flow);
    const flags = weighted(ctx.rng, ESTABLISHED_FLAG_MIX);
    const tcpFlags = [...flags].map((l) => LETTERS[l] as TcpFlag);
    packets.push({
      ...b,
      protocol: "tcp",
      sport: flow.dport,
      dport: flow.sport,
      tcpFlags,
      flags,
      // Window tracking is relaxed in the lab (nf_conntrack_tcp_be_liberal), so only the flags decide.
      ctState: validTcpFlags(tcpFlags) ? "established" : "invalid",
      payloadLength: 20,
    });
  }
  return { flows, packets };
}

/** Seeded strangers: random hosts of 10.79.100.0–10.79.163.255 and fd79::64:0/112. */
export function strangers(rng: Rng, count: number): Source[] {
  const out = new Map<string, Source>();
  for (let i = 0; out.size < count && i < count * 10; i++) {
    const v6 = rng() < 0.5;
    const n = Math.floor(rng() * 16_384);
    const address = v6 ? `fd79::64:${(n + 1).toString(16)}` : `10.79.${100 + (n >> 8)}.${n & 0xff || 1}`;
    out.set(address, { address, family: v6 ? "ipv6" : "ipv4", role: "stranger" });
  }
  return [...out.values()];
}

/** A short, readable line for a mismatch report. */
export function describePacket(p: WirePacket): string {
  const what =
    p.protocol === "tcp"
      ? `tcp [${p.flags || "none"}] ${p.sport}→${p.dport}`
      : p.protocol === "udp"
        ? `udp ${p.sport}→${p.dport} len ${p.payloadLength}`
        : `${p.protocol} ${p.icmpType ?? "?"} hl ${p.hopLimit ?? 64}`;
  return `#${p.id} ${p.src} → ${p.dst} ${what} ct ${p.ctState}`;
}
