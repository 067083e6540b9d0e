// Countries out of a geolocation database: the networks of the allowed countries (the country allow-list's
// lists) and the country of one address (`explain`). Reads the layouts in use: GeoLite2/GeoIP2 and DB-IP
// (`country.iso_code`, else `registered_country.iso_code`) and IPinfo (`country_code`, or `country` as a code).

import type { IpAddress } from "../../domain/address.js";
import type { Mmdb } from "./mmdb.js";
import type { MmdbValue } from "./mmdb-data.js";
import { fieldsAt, groupNetworks, type GroupedNetworks, type RecordFields } from "./networks.js";

const CODE = /^[A-Za-z]{2}$/;

function code(value: MmdbValue | undefined): string | null {
  return typeof value === "string" && CODE.test(value) ? value.toLowerCase() : null;
}

/** The lower-case country code a record names, or null (an anycast network, a record of another kind). */
export function recordCountry(field: RecordFields): string | null {
  return (
    code(field(["country", "iso_code"])) ??
    code(field(["registered_country", "iso_code"])) ??
    code(field(["country_code"])) ??
    code(field(["country"]))
  );
}

/** The networks of the countries in `wanted` (lower-case codes). */
export function databaseCountries(db: Mmdb, wanted: ReadonlySet<string>): GroupedNetworks {
  return groupNetworks(db, recordCountry, wanted);
}

/** The country the database places `address` in, or null. */
export function countryOf(db: Mmdb, address: IpAddress): string | null {
  const fields = fieldsAt(db, address);
  return fields && recordCountry(fields);
}
