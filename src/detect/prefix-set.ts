// Longest-prefix lookup of an address among many IPs and CIDRs, without scanning them one by one.

import ipaddr from "../domain/ipaddr.js";
import type { Cidr, IpAddress } from "../domain/address.js";

export interface PrefixSet<T> {
  /** Adds a prefix; the first value added for an identical prefix is kept. */
  add(cidr: Cidr, value: T): void;
  /** The value of the longest prefix containing `address`, or null. */
  lookup(address: IpAddress): T | null;
  /**
   * The value of a prefix sharing an address with `network`: one containing it, else one inside it (the
   * latter by a scan of the longer prefixes of its family: for the rare network question, not per line).
   */
  overlapping(network: Cidr): T | null;
  readonly size: number;
}

/**
 * One hash table per (family, prefix length), keyed by the masked network; a lookup probes only the
 * lengths in use, longest first: O(distinct lengths) instead of O(entries). Host entries are the
 * full-length table, so an exact-IP match is one Map probe.
 */
export function createPrefixSet<T>(): PrefixSet<T> {
  // IPv4 networks as unsigned 32-bit numbers; IPv6 as bigint.
  const v4 = new Map<number, Map<number, T>>();
  const v6 = new Map<number, Map<bigint, T>>();
  let v4Lengths: number[] = [];
  let v6Lengths: number[] = [];
  let size = 0;

  function add(cidr: Cidr, value: T): void {
    if (cidr.family === 4) {
      const key = maskV4(v4Number(cidr.network), cidr.prefix);
      let table = v4.get(cidr.prefix);
      if (!table) {
        table = new Map();
        v4.set(cidr.prefix, table);
        v4Lengths = [...v4.keys()].sort((a, b) => b - a);
      }
      if (!table.has(key)) {
        table.set(key, value);
        size++;
      }
      return;
    }
    const key = maskV6(v6Number(cidr.network), cidr.prefix);
    let table = v6.get(cidr.prefix);
    if (!table) {
      table = new Map();
      v6.set(cidr.prefix, table);
      v6Lengths = [...v6.keys()].sort((a, b) => b - a);
    }
    if (!table.has(key)) {
      table.set(key, value);
      size++;
    }
  }

  function lookup(address: IpAddress): T | null {
    if (address.family === 4) {
      if (v4Lengths.length === 0) return null;
      const n = v4Number(address.text);
      for (const len of v4Lengths) {
        const hit = v4.get(len)?.get(maskV4(n, len));
        if (hit !== undefined) return hit;
      }
      return null;
    }
    if (v6Lengths.length === 0) return null;
    const n = v6Number(address.text);
    for (const len of v6Lengths) {
      const hit = v6.get(len)?.get(maskV6(n, len));
      if (hit !== undefined) return hit;
    }
    return null;
  }

  function overlapping(network: Cidr): T | null {
    const { prefix, network: text } = network;
    return network.family === 4
      ? overlapIn(v4, v4Lengths, maskV4(v4Number(text), prefix), prefix, maskV4)
      : overlapIn(v6, v6Lengths, maskV6(v6Number(text), prefix), prefix, maskV6);
  }

  return {
    add,
    lookup,
    overlapping,
    get size() {
      return size;
    },
  };
}

/** An entry of `tables` containing the masked network `n` of length `prefix`, or inside it. */
function overlapIn<K, T>(
  tables: ReadonlyMap<number, ReadonlyMap<K, T>>,
  lengths: readonly number[],
  n: K,
  prefix: number,
  mask: (key: K, len: number) => K,
): T | null {
  for (const len of lengths) {
    const table = tables.get(len) as ReadonlyMap<K, T>;
    if (len <= prefix) {
      const hit = table.get(mask(n, len));
      if (hit !== undefined) return hit;
    } else for (const [key, value] of table) if (mask(key, prefix) === n) return value;
  }
  return null;
}

function v4Number(text: string): number {
  // Canonical dotted quad (the domain parser guarantees it), so a split is enough.
  const [a, b, c, d] = text.split(".").map(Number) as [number, number, number, number];
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

function maskV4(n: number, len: number): number {
  return len === 0 ? 0 : (n & (0xffffffff << (32 - len))) >>> 0;
}

const V6_ALL = (1n << 128n) - 1n;

function v6Number(text: string): bigint {
  let n = 0n;
  for (const part of ipaddr.IPv6.parse(text).parts) n = (n << 16n) | BigInt(part);
  return n;
}

function maskV6(n: bigint, len: number): bigint {
  return len === 0 ? 0n : n & ((V6_ALL << BigInt(128 - len)) & V6_ALL);
}
