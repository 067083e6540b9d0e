// The netlink batch bytes, checked without a kernel (the fast-path integration test checks them with one).
import { describe, expect, it } from "vitest";
import { encodeBatch, parseAcks } from "./netlink.js";

/** Walks nlmsghdr-framed messages: [type, flags, seq, length]. */
function frames(b: Buffer): [number, number, number, number][] {
  const out: [number, number, number, number][] = [];
  for (let off = 0; off < b.length;) {
    const len = b.readUInt32LE(off);
    out.push([b.readUInt16LE(off + 4), b.readUInt16LE(off + 6), b.readUInt32LE(off + 8), len]);
    off += (len + 3) & ~3;
  }
  return out;
}

describe("encodeBatch", () => {
  it("frames add as batch-begin, new/del/new per set with acks, batch-end", () => {
    const { bytes, acked } = encodeBatch(
      "add",
      "sipwarden",
      [
        { set: "ban4", address: "192.0.2.1", timeoutMs: 2000 },
        { set: "ban6", address: "2001:db8::1", timeoutMs: null },
      ],
      100,
    );
    const f = frames(bytes);
    expect(f.map(([t]) => t)).toEqual([0x10, 0x0a0c, 0x0a0e, 0x0a0c, 0x0a0c, 0x0a0e, 0x0a0c, 0x11]);
    expect(f.map(([, , s]) => s)).toEqual([100, 101, 102, 103, 104, 105, 106, 107]);
    expect(acked).toEqual([101, 102, 103, 104, 105, 106]);
    expect(f.reduce((n, [, , , len]) => n + ((len + 3) & ~3), 0)).toBe(bytes.length);
    // The key bytes in network order and the timeout as a big-endian u64 of milliseconds.
    expect(bytes.includes(Buffer.from([192, 0, 2, 1]))).toBe(true);
    const ms = Buffer.alloc(8);
    ms.writeBigUInt64BE(2000n);
    expect(bytes.includes(ms)).toBe(true);
    expect(bytes.includes(Buffer.from("sipwarden\0"))).toBe(true);
  });

  it("splits large batches into messages below the 64 KiB attribute limit", () => {
    const many = Array.from({ length: 2500 }, (_, i) => ({
      set: "ban4",
      address: `10.0.${i >> 8}.${i & 255}`,
      timeoutMs: 60_000,
    }));
    const f = frames(encodeBatch("add", "sipwarden", many, 1).bytes);
    expect(f).toHaveLength(2 + 3 * 3);
    expect(Math.max(...f.map(([, , , len]) => len))).toBeLessThan(65_536);
  });

  it("removal is add + delete, so an absent member is no error", () => {
    const f = frames(encodeBatch("remove", "sipwarden", [{ set: "ban4", address: "192.0.2.1" }], 1).bytes);
    expect(f.map(([t]) => t)).toEqual([0x10, 0x0a0c, 0x0a0e, 0x11]);
  });
});

it("parseAcks maps sequence numbers to errno", () => {
  const ack = (seq: number, err: number): Buffer => {
    const b = Buffer.alloc(36);
    b.writeUInt32LE(36, 0);
    b.writeUInt16LE(2, 4);
    b.writeUInt32LE(seq, 8);
    b.writeInt32LE(-err, 16);
    return b;
  };
  const m = new Map<number, number>();
  parseAcks(Buffer.concat([ack(7, 0), ack(8, 2)]), m);
  expect([...m]).toEqual([
    [7, 0],
    [8, 2],
  ]);
});
