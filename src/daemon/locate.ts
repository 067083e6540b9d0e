// Where the configured .mmdb databases place addresses: the country (`firewall.countries.database`) and the
// AS (the first ASN blocklist's database). The files are opened once per question (an explain, a batch of
// notifications) and not kept: the daemon holds no database between applies.

import type { Located } from "../api/contract.js";
import type { Config } from "../config/config.js";
import { parseCidr, parseIp } from "../domain/address.js";
import { asnOf } from "../enforce/geoip/asns.js";
import { countryOf } from "../enforce/geoip/countries.js";
import { openMmdb, type Mmdb } from "../enforce/geoip/mmdb.js";
import { readBytesFromDisk, type ReadBytes } from "../enforce/geoip/read-database.js";

/** Where one target (an address, or a network: its first address) is, as far as the databases know. */
export type Locate = (target: string) => Located;

async function openOrNull(file: string | null | undefined, readBytes: ReadBytes): Promise<Mmdb | null> {
  if (!file) return null;
  try {
    return openMmdb(await readBytes(file));
  } catch {
    // Unreadable or not a database: the apply has said so already; a location is a nicety.
    return null;
  }
}

/** Opens the configured databases; null when none is configured (or none can be read). */
export async function openLocator(
  config: Config,
  readBytes: ReadBytes = readBytesFromDisk,
): Promise<Locate | null> {
  const countries = await openOrNull(config.firewall.countries?.database, readBytes);
  const asns = await openOrNull(config.firewall.blocklists.find((b) => b.asns !== null)?.file, readBytes);
  if (countries === null && asns === null) return null;
  return (target) => {
    const cidr = parseCidr(target);
    const ip = cidr && parseIp(cidr.network);
    if (!ip) return {};
    const country = countries && countryOf(countries, ip);
    const asn = asns && asnOf(asns, ip);
    return { ...(country ? { country: country.toUpperCase() } : {}), ...(asn ? { asn } : {}) };
  };
}

/** The locations of `targets` that the databases know, by target. */
export async function locateTargets(
  config: Config,
  targets: readonly string[],
): Promise<ReadonlyMap<string, Located>> {
  const locate = await openLocator(config);
  const out = new Map<string, Located>();
  if (locate === null) return out;
  for (const t of targets) {
    const l = locate(t);
    if (l.country !== undefined || l.asn !== undefined) out.set(t, l);
  }
  return out;
}
