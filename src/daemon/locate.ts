// Where the configured .mmdb databases place addresses: the country (`firewall.countries.database`) and the
// AS (the first ASN blocklist's database), for explain, the bans list and notifications. An opened file is
// kept while it is asked about (the dashboard lists the bans every 5 s) and dropped a minute after the last
// question, or at once when the file has been replaced.

import type { Located } from "../api/contract.js";
import type { Config } from "../config/config.js";
import { parseCidr, parseIp, type IpAddress } from "../domain/address.js";
import { asnOf } from "../enforce/geoip/asns.js";
import { countryOf } from "../enforce/geoip/countries.js";
import { openMmdb, type Mmdb } from "../enforce/geoip/mmdb.js";
import { stat } from "node:fs/promises";
import { readBytesFromDisk, type ReadBytes } from "../enforce/geoip/read-database.js";

/** Where one target (an address, or a network: its first address) is, as far as the databases know. */
export type Locate = (target: string) => Located;

/** How long an opened database is kept after the last question about it. */
const KEEP_MS = 60_000;
const kept = new Map<string, { identity: string; db: Mmdb; drop: NodeJS.Timeout }>();

async function openOrNull(file: string | null | undefined, readBytes: ReadBytes): Promise<Mmdb | null> {
  if (!file) return null;
  try {
    if (readBytes !== readBytesFromDisk) return openMmdb(await readBytes(file));
    const s = await stat(file);
    const identity = `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}`;
    const hit = kept.get(file);
    if (hit) clearTimeout(hit.drop);
    const db = hit?.identity === identity ? hit.db : openMmdb(await readBytes(file));
    const drop = setTimeout(() => kept.delete(file), KEEP_MS);
    drop.unref();
    kept.set(file, { identity, db, drop });
    return db;
  } catch {
    // Unreadable or not a database: the apply has said so already; a location is a nicety.
    kept.delete(file);
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
  // A damaged file can fail one lookup (a record pointing outside its data): that address is not placed.
  const safely = (db: Mmdb | null, ask: (db: Mmdb, ip: IpAddress) => string | null, ip: IpAddress) => {
    try {
      return db && ask(db, ip);
    } catch {
      return null;
    }
  };
  return (target) => {
    const cidr = parseCidr(target);
    const ip = cidr && parseIp(cidr.network);
    if (!ip) return {};
    const country = safely(countries, countryOf, ip);
    const asn = safely(asns, asnOf, ip);
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
