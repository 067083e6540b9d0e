// A MaxMind DB file (`.mmdb`: GeoLite2/GeoIP2, DB-IP, IPinfo) opened from its bytes: the metadata, the
// search tree walked network by network, and one address looked up. Written from the format's public
// specification (MaxMind DB 2.0); no database is bundled.

import ipaddr from "../../domain/ipaddr.js";
import type { IpAddress } from "../../domain/address.js";
import { MmdbDecoder, MmdbFormatError, type MmdbValue } from "./mmdb-data.js";

export { MmdbFormatError } from "./mmdb-data.js";

const MARKER = Buffer.from("\xab\xcd\xefMaxMind.com", "latin1");
/** The specification's bound on the metadata block, marker included. */
const METADATA_MAX = 128 * 1024;

export interface MmdbMetadata {
  readonly nodeCount: number;
  readonly recordSize: 24 | 28 | 32;
  readonly ipVersion: 4 | 6;
  /** e.g. `GeoLite2-Country`, `DBIP-Country-Lite`. */
  readonly databaseType: string;
  /** When the file was built (ms since the epoch), or null when it does not say. */
  readonly builtAt: number | null;
}

/**
 * One network of the tree that holds data: its address bytes (4 or 16), prefix length and data offset. The
 * walk hands the same object over and over: read it during the call, copy what is kept.
 */
export interface MmdbNetwork {
  readonly family: 4 | 6;
  readonly bytes: Uint8Array;
  readonly prefix: number;
  /** Offset of its record in the data section (records shared by many networks share the offset). */
  readonly data: number;
}

export interface Mmdb {
  readonly metadata: MmdbMetadata;
  /** Calls `visit` for every network with data, IPv4 networks of an IPv6 tree as IPv4 (once, not per alias). */
  networks(visit: (network: MmdbNetwork) => void): void;
  /** The data offset of the network holding `address`, or null when none does. */
  lookup(address: IpAddress): number | null;
  /** The value under `path` (map keys) of the record at a data offset, decoding nothing else. */
  field(data: number, path: readonly string[]): MmdbValue | undefined;
}

function metadataOf(bytes: Uint8Array): { fields: Record<string, MmdbValue>; end: number } {
  const from = Math.max(0, bytes.length - METADATA_MAX);
  const at = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).lastIndexOf(MARKER);
  if (at < from) throw new MmdbFormatError("not a MaxMind DB file: no metadata marker in its last 128 KiB");
  const start = at + MARKER.length;
  const value = new MmdbDecoder(bytes, start, bytes.length).valueAt(0);
  if (typeof value !== "object" || value instanceof Uint8Array || Array.isArray(value))
    throw new MmdbFormatError("the metadata is not a map");
  return { fields: value as Record<string, MmdbValue>, end: at };
}

function metadataNumber(fields: Record<string, MmdbValue>, key: string): number {
  const v = fields[key];
  if (typeof v === "number") return v;
  if (typeof v === "bigint" && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
  throw new MmdbFormatError(`the metadata has no number ${key}`);
}

/** Opens a database from its bytes; throws MmdbFormatError when they are not one this reader can walk. */
export function openMmdb(bytes: Uint8Array): Mmdb {
  const { fields, end } = metadataOf(bytes);
  const major = metadataNumber(fields, "binary_format_major_version");
  if (major !== 2) throw new MmdbFormatError(`binary format version ${major}, not 2`);
  const nodeCount = metadataNumber(fields, "node_count");
  const recordSize = metadataNumber(fields, "record_size");
  if (recordSize !== 24 && recordSize !== 28 && recordSize !== 32)
    throw new MmdbFormatError(`record size ${recordSize}, not 24, 28 or 32`);
  const ipVersion = metadataNumber(fields, "ip_version");
  if (ipVersion !== 4 && ipVersion !== 6) throw new MmdbFormatError(`ip_version ${ipVersion}, not 4 or 6`);
  const nodeBytes = recordSize / 4;
  const treeSize = nodeCount * nodeBytes;
  const dataStart = treeSize + 16;
  if (nodeCount < 1 || dataStart > end)
    throw new MmdbFormatError(`${nodeCount} nodes of ${nodeBytes} bytes do not fit before the metadata`);
  const epoch = fields["build_epoch"];
  const metadata: MmdbMetadata = {
    nodeCount,
    recordSize,
    ipVersion,
    databaseType: typeof fields["database_type"] === "string" ? fields["database_type"] : "",
    builtAt: typeof epoch === "number" || typeof epoch === "bigint" ? Number(epoch) * 1000 : null,
  };
  const data = new MmdbDecoder(bytes, dataStart, end);

  const record = (node: number, right: 0 | 1): number => {
    const at = node * nodeBytes;
    if (recordSize === 24) {
      const o = at + right * 3;
      return bytes[o]! * 0x10000 + bytes[o + 1]! * 0x100 + bytes[o + 2]!;
    }
    if (recordSize === 28) {
      const middle = bytes[at + 3]!;
      const high = right === 0 ? middle >> 4 : middle & 0x0f;
      const o = at + right * 4;
      return high * 0x1000000 + bytes[o]! * 0x10000 + bytes[o + 1]! * 0x100 + bytes[o + 2]!;
    }
    const o = at + right * 4;
    return bytes[o]! * 0x1000000 + bytes[o + 1]! * 0x10000 + bytes[o + 2]! * 0x100 + bytes[o + 3]!;
  };
  /** A record's data offset, or -1 for "no data" (a value < nodeCount is a node). */
  const dataOffset = (value: number): number => {
    if (value === nodeCount) return -1;
    const offset = value - nodeCount - 16;
    if (offset < 0 || dataStart + offset >= end)
      throw new MmdbFormatError(`a tree record points outside the data section (${value})`);
    return offset;
  };

  const bits = ipVersion === 6 ? 128 : 32;
  // Where IPv4 lives in an IPv6 tree: ::/96. Aliases (::ffff:0:0/96, 2002::/16) point to the same node and
  // are skipped by the walk so each IPv4 network comes out once.
  let ipv4Start = 0;
  if (ipVersion === 6) {
    for (let i = 0; i < 96 && ipv4Start < nodeCount; i++) ipv4Start = record(ipv4Start, 0);
  }

  const networks = (visit: (n: MmdbNetwork) => void): void => {
    const path = new Uint8Array(16);
    const v4 = path.subarray(ipVersion === 4 ? 0 : 12, ipVersion === 4 ? 4 : 16);
    // One network object, refilled for each call: a walk yields hundreds of thousands of them.
    const network = { family: 4 as 4 | 6, bytes: path, prefix: 0, data: 0 };
    // A tree visits each node once (aliases skipped); a file whose records share nodes otherwise is
    // bounded here rather than walked exponentially.
    let budget = nodeCount * 2 + 64;
    /** `zeros`: every bit of the path above `depth` within the first 96 is 0 (the IPv4 subtree's prefix). */
    const child = (value: number, depth: number, zeros: boolean): void => {
      if (value < nodeCount) {
        if (depth >= bits) throw new MmdbFormatError(`the search tree is deeper than ${bits} bits`);
        // An alias (::ffff:0:0/96, 2002::/16) leads to the IPv4 subtree again: walked once, at ::/96.
        if (ipVersion === 6 && value === ipv4Start && !(depth === 96 && zeros)) return;
        walk(value, depth, zeros);
        return;
      }
      const offset = dataOffset(value);
      if (offset < 0) return;
      const ipv4 = ipVersion === 4 || (depth >= 96 && zeros);
      network.family = ipv4 ? 4 : 6;
      network.bytes = ipv4 ? v4 : path;
      network.prefix = ipVersion === 6 && ipv4 ? depth - 96 : depth;
      network.data = offset;
      visit(network);
    };
    const walk = (node: number, depth: number, zeros: boolean): void => {
      if (--budget < 0) throw new MmdbFormatError("the search tree's records share nodes: not a tree");
      const byte = depth >> 3;
      const mask = 0x80 >> (depth & 7);
      child(record(node, 0), depth + 1, zeros);
      path[byte]! |= mask;
      child(record(node, 1), depth + 1, zeros && depth >= 96);
      // Cleared again for the parent's other paths.
      path[byte]! &= ~mask;
    };
    walk(0, 0, true);
  };

  const lookup = (address: IpAddress): number | null => {
    if (address.family === 6 && ipVersion === 4) return null;
    const raw = ipaddr.parse(address.text).toByteArray();
    const key = address.family === 4 && ipVersion === 6 ? [...new Array<number>(12).fill(0), ...raw] : raw;
    let node = 0;
    for (let depth = 0; depth < bits; depth++) {
      const bit = (key[depth >> 3]! >> (7 - (depth & 7))) & 1;
      node = record(node, bit as 0 | 1);
      if (node >= nodeCount) {
        const offset = dataOffset(node);
        return offset < 0 ? null : offset;
      }
    }
    throw new MmdbFormatError(`the search tree is deeper than ${bits} bits`);
  };

  return {
    metadata,
    networks,
    lookup,
    field: (offset, path) => data.valueAtPath(offset, path),
  };
}
