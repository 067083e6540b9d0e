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
import { readFile, stat } from "node:fs/promises";

/** Where one target (an address, or a network: its first address) is, as far as the databases know. */
export type Locate = (target: string) => Located;

/** How long an opened database is kept after the last question about it. */
const KEEP_MS = 60_000;
const kept = new Map<string, { identity: string; db: Mmdb; drop: NodeJS.Timeout }>();

/** The database at `file`, opened or kept from an earlier question; null when it cannot be read or is not one. */
export async function openKept(file: string | null | undefined): Promise<Mmdb | null> {
  if (!file) return null;
  try {
    const s = await stat(file);
    const identity = `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}`;
    const hit = kept.get(file);
    if (hit) clearTimeout(hit.drop);
    const db = hit?.identity === identity ? hit.db : openMmdb(await readFile(file));
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

/** What `ask` reads of `ip` in `db`; null when it says nothing, or a damaged file fails the lookup. */
export function askSafely(
  db: Mmdb | null,
  ask: (db: Mmdb, ip: IpAddress) => string | null,
  ip: IpAddress,
): string | null {
  try {
    return db && ask(db, ip);
  } catch {
    return null;
  }
}

/** Opens the configured databases; null when none is configured (or none can be read). */
export async function openLocator(config: Config): Promise<Locate | null> {
  const countries = await openKept(config.firewall.countries?.database);
  const asns = await openKept(config.firewall.blocklists.find((b) => b.asns !== null)?.file);
  if (countries === null && asns === null) return null;
  return (target) => {
    const cidr = parseCidr(target);
    const ip = cidr && parseIp(cidr.network);
    if (!ip) return {};
    const country = askSafely(countries, countryOf, ip);
    const asn = askSafely(asns, asnOf, ip);
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
