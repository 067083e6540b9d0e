// Countries out of a geolocation database: the networks of the allowed countries (the country allow-list's
// lists) and the country of one address (`explain`). Reads the layouts in use: GeoLite2/GeoIP2 and DB-IP
// (`country.iso_code`, else `registered_country.iso_code`) and IPinfo (`country_code`, or `country` as a code).

import type { IPv6 } from "ipaddr.js";
import ipaddr from "../../domain/ipaddr.js";
import type { IpAddress } from "../../domain/address.js";
import type { Mmdb, MmdbNetwork } from "./mmdb.js";
import type { MmdbValue } from "./mmdb-data.js";

const CODE = /^[A-Za-z]{2}$/;

function field(value: MmdbValue | undefined, key: string): MmdbValue | undefined {
  if (typeof value !== "object" || value === null || value instanceof Uint8Array || Array.isArray(value))
    return undefined;
  return (value as Record<string, MmdbValue>)[key];
}

function code(value: MmdbValue | undefined): string | null {
  return typeof value === "string" && CODE.test(value) ? value.toLowerCase() : null;
}

/** The lower-case country code a record names, or null (an anycast network, a record of another kind). */
export function recordCountry(record: MmdbValue): string | null {
  return (
    code(field(field(record, "country"), "iso_code")) ??
    code(field(field(record, "registered_country"), "iso_code")) ??
    code(field(record, "country_code")) ??
    code(field(record, "country"))
  );
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

export interface DatabaseCountries {
  /** Canonical CIDRs (a bare address for a full-length prefix) by lower-case country code, for the asked ones. */
  readonly networks: ReadonlyMap<string, readonly string[]>;
  /** Networks of the tree with data, counted over every country. */
  readonly total: number;
  /** Networks whose record names no country. */
  readonly unnamed: number;
}

/** The networks of the countries in `wanted` (lower-case codes); one record decoded once however many networks share it. */
export function databaseCountries(db: Mmdb, wanted: ReadonlySet<string>): DatabaseCountries {
  const byRecord = new Map<number, string | null>();
  const networks = new Map<string, string[]>([...wanted].map((cc) => [cc, []]));
  let total = 0;
  let unnamed = 0;
  db.networks((n) => {
    if (ipv4Mapped(n)) return;
    total++;
    let cc = byRecord.get(n.data);
    if (cc === undefined) {
      cc = recordCountry(db.record(n.data));
      byRecord.set(n.data, cc);
    }
    if (cc === null) {
      unnamed++;
      return;
    }
    networks.get(cc)?.push(networkText(n));
  });
  return { networks, total, unnamed };
}

/** The country the database places `address` in, or null. */
export function countryOf(db: Mmdb, address: IpAddress): string | null {
  const offset = db.lookup(address);
  return offset === null ? null : recordCountry(db.record(offset));
}
