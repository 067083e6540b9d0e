// Autonomous systems out of an ASN database: the networks of the listed AS numbers (a blocklist of hosting
// providers' networks) and the AS of one address. Reads GeoLite2-ASN / GeoIP2-ISP and DB-IP
// (`autonomous_system_number`) and IPinfo (`asn: "AS13335"`).

import type { IpAddress } from "../../domain/address.js";
import type { Mmdb } from "./mmdb.js";
import { fieldsAt, groupNetworks, type GroupedNetworks, type RecordFields } from "./networks.js";

/** The AS number a record names, as decimal text, or null. */
export function recordAsn(field: RecordFields): string | null {
  const n = field(["autonomous_system_number"]);
  if (typeof n === "number" && Number.isInteger(n) && n > 0) return String(n);
  if (typeof n === "bigint" && n > 0n && n < 2n ** 32n) return String(n);
  const text = field(["asn"]);
  if (typeof text === "string") {
    const m = /^(?:AS)?(\d{1,10})$/i.exec(text);
    if (m && Number(m[1]) > 0 && Number(m[1]) < 2 ** 32) return String(Number(m[1]));
  }
  return null;
}

/** The networks of the AS numbers in `wanted` (decimal text). */
export function databaseAsns(db: Mmdb, wanted: ReadonlySet<string>): GroupedNetworks {
  return groupNetworks(db, recordAsn, wanted);
}

/** The AS number the database puts `address` in, or null. */
export function asnOf(db: Mmdb, address: IpAddress): string | null {
  const fields = fieldsAt(db, address);
  return fields && recordAsn(fields);
}
