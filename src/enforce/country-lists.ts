// Country allow-lists: per-country CIDR files (ipdeny.com's `<cc>.zone` layout) and a geolocation database
// (GeoLite2/DB-IP/IPinfo `.mmdb`) read into the restriction the firewall enforces on the internet's SIP services.
import { readFile } from "node:fs/promises";
import { formatBlocklistProblem, parseBlocklist, type ReadText } from "./blocklist-file.js";
import type { IpAddress } from "../domain/address.js";
import { countryOf, databaseCountries } from "./geoip/countries.js";
import { MmdbFormatError, openMmdb, type MmdbMetadata } from "./geoip/mmdb.js";
import type { AddressFamily, SourceRestriction } from "./policy.js";

/** The kernel sets' base name (`countries4`, `countries6`); the config refuses it as a blocklist name. */
export const COUNTRY_RESTRICTION = "countries";

export interface CountryListsConfig {
  /** Lower-case two-letter codes. */
  readonly allow: readonly string[];
  readonly services: readonly string[];
  /** Path templates holding `{cc}`. */
  readonly files: readonly string[];
  /** A `.mmdb` file whose networks of each allowed country join the files' ones; null: none. */
  readonly database?: string | null;
}

export type ReadBytes = (file: string) => Promise<Uint8Array>;

/** The database a restriction was read from: `check` and the daemon's log name it. */
export interface CountryDatabase {
  readonly file: string;
  readonly metadata: MmdbMetadata;
  /** Networks of the tree with data, over every country. */
  readonly networks: number;
}

export interface LoadedCountries {
  /** Null when nothing is restricted: not configured, or left out because a country has no networks. */
  readonly restriction: SourceRestriction | null;
  /** Bad lines (file:line), unreadable files, a family no country lists, a restriction left out. */
  readonly warnings: readonly string[];
  /** The database read, or null (none configured, or unreadable: then a warning says why). */
  readonly database: CountryDatabase | null;
}

const errorCode = (e: unknown): string => (e as NodeJS.ErrnoException).code ?? String(e);

/** The allowed countries' networks out of the database, or a warning saying why there are none. */
async function readDatabase(
  file: string,
  allow: readonly string[],
  readBytes: ReadBytes,
): Promise<
  { networks: ReadonlyMap<string, readonly string[]>; info: CountryDatabase } | { problem: string }
> {
  let bytes: Uint8Array;
  try {
    bytes = await readBytes(file);
  } catch (e) {
    return { problem: `cannot read ${file} (${errorCode(e)})` };
  }
  try {
    const db = openMmdb(bytes);
    const got = databaseCountries(db, new Set(allow));
    return { networks: got.networks, info: { file, metadata: db.metadata, networks: got.total } };
  } catch (e) {
    if (e instanceof MmdbFormatError) return { problem: `${file}: ${e.message}` };
    throw e;
  }
}

/**
 * The country the database places `address` in, read from the file now (explain's question, rare enough
 * not to keep the database in memory); null when it names none or cannot be read.
 */
export async function databaseCountryOf(
  file: string,
  address: IpAddress,
  readBytes: ReadBytes = (f) => readFile(f),
): Promise<string | null> {
  try {
    return countryOf(openMmdb(await readBytes(file)), address);
  } catch {
    return null;
  }
}

/**
 * Reads every allowed country's networks: from the database when one is configured, and from its files. A country with no network at all (its files missing, empty or
 * unreadable: a download that has not happened yet) leaves the whole restriction out, with a warning: the
 * services then stay open to every source as without `countries`, rather than closing to that country's
 * customers. Bad lines are reported and skipped, as in blocklists.
 */
export async function loadCountryLists(
  config: CountryListsConfig | null,
  families: readonly AddressFamily[],
  read: ReadText,
  readBytes: ReadBytes = (f) => readFile(f),
): Promise<LoadedCountries> {
  if (config === null) return { restriction: null, warnings: [], database: null };
  const warnings: string[] = [];
  const lists: { label: string; entries: string[] }[] = [];
  const empty: string[] = [];
  const db = config.database ? await readDatabase(config.database, config.allow, readBytes) : null;
  const dbProblem = db && "problem" in db ? db.problem : null;
  if (dbProblem) warnings.push(`firewall.countries.database: ${dbProblem}`);
  const database = db && "info" in db ? db : null;
  for (const cc of config.allow) {
    const entries: string[] = [...(database?.networks.get(cc) ?? [])];
    const unread: string[] = [];
    for (const template of config.files) {
      const file = template.replaceAll("{cc}", cc);
      let text: string;
      try {
        text = await read(file);
      } catch (e) {
        unread.push(`${file} (${errorCode(e)})`);
        continue;
      }
      const parsed = parseBlocklist(text, file);
      entries.push(...parsed.entries);
      warnings.push(...parsed.problems.map(formatBlocklistProblem));
    }
    if (entries.length === 0) {
      const why = [
        ...(dbProblem ? ["the database cannot be used"] : []),
        ...(unread.length > 0 ? [`cannot read ${unread.join(", ")}`] : []),
      ];
      empty.push(
        `${cc} (${why.length > 0 ? why.join("; ") : `no networks in its ${database ? "database or files" : "files"}`})`,
      );
    } else if (unread.length > 0)
      warnings.push(`firewall.countries: ${cc}: cannot read ${unread.join(", ")}; its other files are used`);
    lists.push({ label: cc, entries });
  }
  const services = config.services.join(", ");
  const info = database?.info ?? null;
  if (empty.length > 0) {
    warnings.push(
      `firewall.countries: no networks for ${empty.join("; ")}: the country restriction is left out and ${services} stay open to every country`,
    );
    return { restriction: null, warnings, database: info };
  }
  for (const family of families) {
    // Entries are canonical CIDRs: an IPv6 one holds a colon, an IPv4 one never does.
    const v6 = family === "ipv6";
    if (!lists.some((l) => l.entries.some((e) => e.includes(":") === v6)))
      warnings.push(
        `firewall.countries: no ${family} networks for ${config.allow.join(", ")}: no ${family} source outside the allowlist and zones reaches ${services} (add the ${family} lists to firewall.countries.files)`,
      );
  }
  return {
    restriction: { name: COUNTRY_RESTRICTION, services: [...config.services], lists },
    warnings,
    database: info,
  };
}
