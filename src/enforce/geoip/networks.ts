// A database's networks grouped by what their records say (a country, an autonomous system): the walk
// decodes each record once however many networks share it, and writes each network as canonical CIDR text.

import type { IPv6 } from "ipaddr.js";
import ipaddr from "../../domain/ipaddr.js";
import type { IpAddress } from "../../domain/address.js";
import type { Mmdb, MmdbNetwork } from "./mmdb.js";
import type { MmdbValue } from "./mmdb-data.js";

/** One record's fields by path (map keys): read from the file as asked, or from a decoded value. */
export type RecordFields = (path: readonly string[]) => MmdbValue | undefined;

/** The fields of the record of the network holding `address`, or null when none does. */
export function fieldsAt(db: Mmdb, address: IpAddress): RecordFields | null {
  const offset = db.lookup(address);
  return offset === null ? null : (path) => db.field(offset, path);
}

/** The fields of a decoded record (tests, and a record already at hand). */
export function fieldsOf(record: MmdbValue): RecordFields {
  return (path) => {
    let v: MmdbValue | undefined = record;
    for (const key of path) {
      if (typeof v !== "object" || v === null || v instanceof Uint8Array || Array.isArray(v))
        return undefined;
      v = (v as Record<string, MmdbValue>)[key];
    }
    return v;
  };
}

function networkText(n: MmdbNetwork): string {
  if (n.family === 4) {
    const b = n.bytes;
    const address = `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
    return n.prefix === 32 ? address : `${address}/${n.prefix}`;
  }
  const address = (ipaddr.fromByteArray(Array.from(n.bytes)) as IPv6).toRFC5952String();
  return n.prefix === 128 ? address : `${address}/${n.prefix}`;
}

/** ::ffff:0:0/96 holds IPv4 again (mapped addresses); its networks are the IPv4 ones, already listed. */
function ipv4Mapped(n: MmdbNetwork): boolean {
  if (n.family !== 6 || n.prefix < 96) return false;
  for (let i = 0; i < 10; i++) if (n.bytes[i] !== 0) return false;
  return n.bytes[10] === 0xff && n.bytes[11] === 0xff;
}

export interface GroupedNetworks {
  /** Canonical CIDRs (a bare address for a full-length prefix) by key, for the wanted keys only. */
  readonly networks: ReadonlyMap<string, readonly string[]>;
  /** Networks of the tree with data. */
  readonly total: number;
  /** Networks whose record has no key. */
  readonly unnamed: number;
}

/** The networks whose record's key (`keyOf`) is one of `wanted`. */
export function groupNetworks(
  db: Mmdb,
  keyOf: (record: RecordFields) => string | null,
  wanted: ReadonlySet<string>,
): GroupedNetworks {
  const byRecord = new Map<number, string | null>();
  const networks = new Map<string, string[]>([...wanted].map((k) => [k, []]));
  let total = 0;
  let unnamed = 0;
  db.networks((n) => {
    if (ipv4Mapped(n)) return;
    total++;
    let key = byRecord.get(n.data);
    if (key === undefined) {
      const data = n.data;
      key = keyOf((path) => db.field(data, path));
      byRecord.set(n.data, key);
    }
    if (key === null) unnamed++;
    else networks.get(key)?.push(networkText(n));
  });
  return { networks, total, unnamed };
}
