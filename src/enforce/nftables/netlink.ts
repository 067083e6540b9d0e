// A persistent nf_tables netlink channel for ban-set members: one socket, one kernel transaction per batch.
//
// Why not nft: nft 1.0.6 fetches every set element of the ruleset into its cache before each transaction,
// so once a 100k-CIDR interval set (or a large ban set) exists every `nft` run, `nft -f` batch and even a
// persistent `nft -i` costs ~0.5 s (measured, bench/RESULTS.md). The kernel itself needs none of that to add
// a member to a hash set: this module encodes NFT_MSG_NEWSETELEM / DELSETELEM messages itself and sends them
// as one nfnetlink batch on a socket it keeps open. The kernel processes a netlink batch synchronously
// inside `send`, so when `send` returns the transaction is committed (or aborted as a whole) and the acks
// are already queued on the socket: no helper process, no polling of the ruleset.
//
// libc is reached through koffi (socket/send/recv/setsockopt/setns); the message layout is plain bytes here.
import ipaddr from "../../domain/ipaddr.js";
import { EnforceError } from "../errors.js";
import type { SetElement } from "./render.js";

// <linux/netlink.h>, <linux/netfilter/nfnetlink.h>, <linux/netfilter/nf_tables.h>
const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
const NETLINK_NETFILTER = 12;
const SOL_SOCKET = 1;
const SO_SNDBUFFORCE = 32;
const SO_RCVBUFFORCE = 33;
const SOL_NETLINK = 270;
const NETLINK_CAP_ACK = 10;
const MSG_DONTWAIT = 0x40;
const EAGAIN = 11;
const EINTR = 4;
const CLONE_NEWNET = 0x40000000;

const NLM_F_REQUEST = 0x1;
const NLM_F_ACK = 0x4;
const NLM_F_CREATE = 0x400;
const NLMSG_ERROR = 0x2;
const NLA_F_NESTED = 0x8000;

const NFNL_MSG_BATCH_BEGIN = 0x10;
const NFNL_MSG_BATCH_END = 0x11;
const NFNL_SUBSYS_NFTABLES = 10;
const NFT_MSG_NEWSETELEM = 12;
const NFT_MSG_DELSETELEM = 14;
const NFPROTO_INET = 1;

const NFTA_SET_ELEM_LIST_TABLE = 1;
const NFTA_SET_ELEM_LIST_SET = 2;
const NFTA_SET_ELEM_LIST_ELEMENTS = 3;
const NFTA_LIST_ELEM = 1;
const NFTA_SET_ELEM_KEY = 1;
const NFTA_SET_ELEM_TIMEOUT = 4;
const NFTA_DATA_VALUE = 1;

/** Members per message: a nested attribute's length is 16 bits, so one message holds < 64 KiB of them. */
const ELEMENTS_PER_MESSAGE = 1000;

/** A member to remove (its timeout does not matter). */
export interface SetMember {
  readonly set: string;
  readonly address: string;
}

/** Writes ban-set members of one table; each call is one atomic kernel transaction. */
export interface SetElementChannel {
  /** Adds members; a member already present gets the new timeout (add, delete, add in one batch). */
  add(elements: readonly SetElement[]): Promise<void>;
  /** Removes members; members that are absent are not an error (add, delete in one batch). */
  remove(members: readonly SetMember[]): Promise<void>;
  close(): void;
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

/** Writes address bytes (network order) at `off`; returns their length. The caller validated the text. */
function writeAddress(buf: Buffer, off: number, address: string): number {
  if (!address.includes(":")) {
    let octet = 0;
    let i = 0;
    for (let k = 0; k < address.length; k++) {
      const ch = address.charCodeAt(k);
      if (ch === 46) {
        buf[off + i++] = octet;
        octet = 0;
      } else octet = octet * 10 + (ch - 48);
    }
    buf[off + i] = octet;
    return 4;
  }
  const bytes = ipaddr.parse(address).toByteArray();
  for (let k = 0; k < 16; k++) buf[off + k] = bytes[k] ?? 0;
  return 16;
}

/**
 * Appends netlink messages into one growing buffer without per-attribute allocations: encoding 10,000
 * members must cost a few milliseconds, not most of the 200 ms budget.
 */
class Writer {
  buf: Buffer;
  len = 0;

  constructor(sizeHint: number) {
    this.buf = Buffer.allocUnsafe(Math.max(1 << 12, sizeHint));
  }

  private ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.len + extra));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  /** Starts an nlmsghdr + nfgenmsg; returns its offset for `end`. */
  begin(type: number, flags: number, seq: number, family: number, resId: number): number {
    this.ensure(20);
    const at = this.len;
    const b = this.buf;
    b.writeUInt16LE(type, at + 4);
    b.writeUInt16LE(flags, at + 6);
    b.writeUInt32LE(seq >>> 0, at + 8);
    b.writeUInt32LE(0, at + 12);
    b.writeUInt8(family, at + 16);
    b.writeUInt8(0, at + 17); // NFNETLINK_V0
    b.writeUInt16BE(resId, at + 18);
    this.len += 20;
    return at;
  }

  end(at: number): void {
    this.buf.writeUInt32LE(this.len - at, at);
  }

  /** Opens an attribute; close it with `close` after writing its payload (or nested attributes). */
  open(type: number): number {
    this.ensure(4);
    const at = this.len;
    this.buf.writeUInt16LE(type, at + 2);
    this.len += 4;
    return at;
  }

  close(at: number): void {
    this.buf.writeUInt16LE(this.len - at, at);
    const padded = align4(this.len);
    this.ensure(padded - this.len);
    this.buf.fill(0, this.len, padded);
    this.len = padded;
  }

  string(type: number, s: string): void {
    const at = this.open(type);
    const n = Buffer.byteLength(s) + 1;
    this.ensure(n);
    this.buf.write(s, this.len, "utf8");
    this.buf[this.len + n - 1] = 0;
    this.len += n;
    this.close(at);
  }

  address(type: number, address: string): void {
    const at = this.open(type);
    this.ensure(16);
    this.len += writeAddress(this.buf, this.len, address);
    this.close(at);
  }

  u64be(type: number, n: number): void {
    const at = this.open(type);
    this.ensure(8);
    const v = Math.max(1, Math.round(n));
    this.buf.writeUInt32BE(Math.floor(v / 2 ** 32), this.len);
    this.buf.writeUInt32BE(v % 2 ** 32, this.len + 4);
    this.len += 8;
    this.close(at);
  }

  bytes(): Buffer {
    return this.buf.subarray(0, this.len);
  }
}

interface ElementOp {
  readonly address: string;
  readonly timeoutMs: number | null;
}

/** Element messages for one set, chunked below the 64 KiB limit of a nested attribute's length. */
function elementMessages(
  w: Writer,
  kind: "new" | "del",
  table: string,
  set: string,
  ops: readonly ElementOp[],
  nextSeq: () => number,
): void {
  const type = (NFNL_SUBSYS_NFTABLES << 8) | (kind === "new" ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM);
  const flags = NLM_F_REQUEST | NLM_F_ACK | (kind === "new" ? NLM_F_CREATE : 0);
  for (let i = 0; i < ops.length; i += ELEMENTS_PER_MESSAGE) {
    const msg = w.begin(type, flags, nextSeq(), NFPROTO_INET, 0);
    w.string(NFTA_SET_ELEM_LIST_TABLE, table);
    w.string(NFTA_SET_ELEM_LIST_SET, set);
    const list = w.open(NFTA_SET_ELEM_LIST_ELEMENTS | NLA_F_NESTED);
    for (const op of ops.slice(i, i + ELEMENTS_PER_MESSAGE)) {
      const elem = w.open(NFTA_LIST_ELEM | NLA_F_NESTED);
      const key = w.open(NFTA_SET_ELEM_KEY | NLA_F_NESTED);
      w.address(NFTA_DATA_VALUE, op.address);
      w.close(key);
      if (op.timeoutMs !== null) w.u64be(NFTA_SET_ELEM_TIMEOUT, op.timeoutMs);
      w.close(elem);
    }
    w.close(list);
    w.end(msg);
  }
}

function groupBySet<T extends { set: string }>(items: readonly T[]): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const it of items) {
    const list = m.get(it.set);
    if (list) list.push(it);
    else m.set(it.set, [it]);
  }
  return m;
}

export interface EncodedBatch {
  readonly bytes: Buffer;
  /** Sequence numbers of the messages that ask for an ack. */
  readonly acked: readonly number[];
}

/**
 * The nfnetlink batch that adds `elements` (re-timing present ones) or removes `members` from sets of
 * `inet <table>`. Pure, so tests check the bytes without a kernel.
 */
export function encodeBatch(
  kind: "add" | "remove",
  table: string,
  items: readonly SetElement[] | readonly SetMember[],
  firstSeq: number,
): EncodedBatch {
  let seq = firstSeq;
  const acked: number[] = [];
  const nextSeq = (): number => seq++;
  const ackedSeq = (): number => {
    const s = seq++;
    acked.push(s);
    return s;
  };
  // ~ 3 messages × (40 bytes for IPv4, 52 for IPv6) per member; growing later only costs a copy.
  const w = new Writer(items.length * 160 + 4096);
  w.end(w.begin(NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, nextSeq(), 0, NFNL_SUBSYS_NFTABLES));
  for (const [set, list] of groupBySet<SetElement | SetMember>(items)) {
    const bare = list.map((e) => ({ address: e.address, timeoutMs: null }));
    // `add` of a present member changes nothing, so: make sure it exists, drop it, add it with the new
    // timeout. For a removal the leading add keeps the batch valid when the member is already gone.
    elementMessages(w, "new", table, set, bare, ackedSeq);
    elementMessages(w, "del", table, set, bare, ackedSeq);
    if (kind === "add") {
      const timed = list.map((e) => ({
        address: e.address,
        timeoutMs: "timeoutMs" in e ? e.timeoutMs : null,
      }));
      elementMessages(w, "new", table, set, timed, ackedSeq);
    }
  }
  w.end(w.begin(NFNL_MSG_BATCH_END, NLM_F_REQUEST, nextSeq(), 0, NFNL_SUBSYS_NFTABLES));
  return { bytes: w.bytes(), acked };
}

/** Acks found in received bytes: sequence number → errno (0 = success). */
export function parseAcks(bytes: Buffer, into: Map<number, number>): void {
  let off = 0;
  while (off + 16 <= bytes.length) {
    const len = bytes.readUInt32LE(off);
    if (len < 16 || off + len > bytes.length) break;
    const type = bytes.readUInt16LE(off + 4);
    const seq = bytes.readUInt32LE(off + 8);
    if (type === NLMSG_ERROR && len >= 20) {
      const e = bytes.readInt32LE(off + 16);
      into.set(seq, e === 0 ? 0 : -e);
    }
    off += align4(len);
  }
}

const ERRNO_TEXT: Readonly<Record<number, string>> = {
  1: "operation not permitted (needs CAP_NET_ADMIN)",
  2: "no such table or set (apply the policy first)",
  7: "argument list too long",
  12: "out of memory",
  17: "element exists",
  22: "invalid argument",
  23: "set is full",
  28: "no space left (set is full)",
  90: "message too long",
  95: "operation not supported",
};

interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  send(fd: number, buf: Buffer, len: number, flags: number): number;
  recv(fd: number, buf: Buffer, len: number, flags: number): number;
  setsockopt(fd: number, level: number, name: number, value: Buffer, len: number): number;
  close(fd: number): number;
  open(path: string, flags: number): number;
  setns(fd: number, nstype: number): number;
  errno(): number;
}

let libc: Libc | null = null;

async function loadLibc(): Promise<Libc> {
  if (libc) return libc;
  const koffi = (await import("koffi")).default;
  const lib = koffi.load("libc.so.6");
  const f = (decl: string): ((...a: unknown[]) => number) => lib.func(decl) as (...a: unknown[]) => number;
  const socket = f("int socket(int, int, int)");
  const send = f("intptr_t send(int, void *, size_t, int)");
  const recv = f("intptr_t recv(int, _Out_ void *, size_t, int)");
  const setsockopt = f("int setsockopt(int, int, int, void *, uint32_t)");
  const close = f("int close(int)");
  const open = f("int open(const char *, int)");
  const setns = f("int setns(int, int)");
  libc = {
    socket: (d, t, p) => socket(d, t, p),
    send: (fd, b, l, fl) => Number(send(fd, b, l, fl)),
    recv: (fd, b, l, fl) => Number(recv(fd, b, l, fl)),
    setsockopt: (fd, lv, n, v, l) => setsockopt(fd, lv, n, v, l),
    close: (fd) => close(fd),
    open: (p, fl) => open(p, fl),
    setns: (fd, t) => setns(fd, t),
    errno: () => koffi.errno(),
  };
  return libc;
}

function intOpt(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32LE(n);
  return b;
}

function fail(what: string, errno: number): never {
  throw new EnforceError(
    "SW_ENFORCE_COMMAND",
    `nf_tables netlink: ${what} failed: ${ERRNO_TEXT[errno] ?? `errno ${errno}`}`,
  );
}

export interface NetlinkChannelOptions {
  /** The `inet` table whose sets are written (sipwarden's). */
  readonly table: string;
  /**
   * Network namespace to open the socket in, as a path (`/run/netns/<name>`); the socket stays bound to it.
   * Absent: the namespace of the daemon.
   */
  readonly netnsPath?: string;
  /** Give up waiting for the kernel's acks after this long (they are normally there when `send` returns). */
  readonly ackTimeoutMs?: number;
}

/** Opens the socket; throws `SW_ENFORCE_COMMAND` when netlink is unavailable (no koffi, no CAP_NET_ADMIN). */
export async function openNetlinkChannel(opts: NetlinkChannelOptions): Promise<SetElementChannel> {
  const c = await loadLibc();
  let fd: number;
  if (opts.netnsPath) {
    // Namespaces are per thread: switch this (the main) thread, create the socket, switch back, all
    // synchronously so no other JavaScript runs in between.
    const target = c.open(opts.netnsPath, 0o2000000);
    if (target < 0) fail(`open ${opts.netnsPath}`, c.errno());
    const home = c.open("/proc/thread-self/ns/net", 0o2000000);
    if (home < 0) {
      const e = c.errno();
      c.close(target);
      fail("open own network namespace", e);
    }
    try {
      if (c.setns(target, CLONE_NEWNET) < 0) fail("setns", c.errno());
      fd = c.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
      const e = c.errno();
      if (c.setns(home, CLONE_NEWNET) < 0) throw new Error("cannot return to the daemon's network namespace");
      if (fd < 0) fail("socket", e);
    } finally {
      c.close(target);
      c.close(home);
    }
  } else {
    fd = c.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
    if (fd < 0) fail("socket", c.errno());
  }
  // Errors carry only the header of the refused message, not a copy of up to 64 KiB of members.
  c.setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, intOpt(1), 4);
  c.setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, intOpt(4 << 20), 4);
  let sndbuf = 0;
  let seq = (Date.now() & 0x7fffffff) >>> 0;
  let closed = false;
  const rx = Buffer.alloc(1 << 16);
  const ackTimeoutMs = opts.ackTimeoutMs ?? 5_000;

  /** Drops stale acks (e.g. of a batch that timed out) so they cannot be taken for the next one's. */
  const drain = (): void => {
    while (c.recv(fd, rx, rx.length, MSG_DONTWAIT) > 0);
  };

  async function commit(batch: EncodedBatch, what: string): Promise<void> {
    if (closed) throw new EnforceError("SW_ENFORCE_STATE", "netlink channel is closed");
    drain();
    // A batch is one datagram: the socket's send buffer must hold all of it (nft does the same).
    if (batch.bytes.length + 4096 > sndbuf) {
      sndbuf = Math.max(1 << 20, batch.bytes.length * 2);
      if (c.setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, intOpt(sndbuf), 4) < 0) fail("setsockopt", c.errno());
    }
    let sent = -1;
    for (let tries = 0; tries < 3 && sent < 0; tries++) {
      sent = c.send(fd, batch.bytes, batch.bytes.length, 0);
      if (sent < 0 && c.errno() !== EINTR) break;
    }
    if (sent < 0) fail(`${what} send`, c.errno());
    const acks = new Map<number, number>();
    const deadline = Date.now() + ackTimeoutMs;
    const missing = (): boolean => batch.acked.some((s) => !acks.has(s));
    for (;;) {
      const n = c.recv(fd, rx, rx.length, MSG_DONTWAIT);
      if (n > 0) {
        parseAcks(rx.subarray(0, n), acks);
        if (!missing()) break;
        continue;
      }
      const e = c.errno();
      if (n < 0 && e !== EAGAIN && e !== EINTR) fail(`${what} recv`, e);
      // An error ack aborts the whole batch: no need to wait for the rest.
      if ([...acks.values()].some((v) => v !== 0)) break;
      if (Date.now() > deadline)
        throw new EnforceError("SW_ENFORCE_COMMAND", `nf_tables netlink: no ack for the ${what} in time`);
      await new Promise((r) => setTimeout(r, 1));
    }
    const bad = [...acks.values()].find((v) => v !== 0);
    if (bad !== undefined)
      throw new EnforceError(
        "SW_ENFORCE_APPLY",
        `the kernel refused the ${what}: ${ERRNO_TEXT[bad] ?? `errno ${bad}`}; nothing of it took effect`,
      );
  }

  return {
    async add(elements) {
      if (elements.length === 0) return;
      const batch = encodeBatch("add", opts.table, elements, seq);
      seq = (seq + batch.acked.length + 2) >>> 0;
      await commit(batch, "ban batch");
    },
    async remove(members) {
      if (members.length === 0) return;
      const batch = encodeBatch("remove", opts.table, members, seq);
      seq = (seq + batch.acked.length + 2) >>> 0;
      await commit(batch, "unban batch");
    },
    close() {
      if (closed) return;
      closed = true;
      c.close(fd);
    },
  };
}

/** The socket could not be opened (no koffi binary, no CAP_NET_ADMIN, no such namespace): use nft instead. */
export class ChannelUnavailableError extends EnforceError {}

/**
 * A channel that opens its socket on first use, for synchronous composition roots. When opening fails,
 * every call rejects with `ChannelUnavailableError` (the backend then falls back to nft).
 */
export function lazyNetlinkChannel(opts: NetlinkChannelOptions): SetElementChannel {
  let opening: Promise<SetElementChannel> | null = null;
  let closed = false;
  const get = (): Promise<SetElementChannel> => {
    opening ??= openNetlinkChannel(opts).catch((e: unknown) => {
      throw new ChannelUnavailableError("SW_ENFORCE_COMMAND", (e as Error).message);
    });
    return opening;
  };
  return {
    add: async (elements) => (await get()).add(elements),
    remove: async (members) => (await get()).remove(members),
    close() {
      if (closed) return;
      closed = true;
      void opening?.then((c) => c.close()).catch(() => undefined);
    },
  };
}
