// Country allow-lists: per-country CIDR files (ipdeny.com's `<cc>.zone` layout) and a geolocation database
// (GeoLite2/DB-IP/IPinfo `.mmdb`) read into the restriction the firewall enforces on the internet's SIP services.
import { errorCode } from "../domain/errors.js";
import { formatBlocklistProblem, parseBlocklist, type ReadText } from "./blocklist-file.js";
import { databaseCountries } from "./geoip/countries.js";
import { readBytesFromDisk, readDatabase, type DatabaseInfo, type ReadBytes } from "./geoip/read-database.js";
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

/** The database a restriction was read from. */
export type CountryDatabase = DatabaseInfo;

export interface LoadedCountries {
  /** Null when nothing is restricted: not configured, or left out because a country has no networks. */
  readonly restriction: SourceRestriction | null;
  /** Bad lines (file:line), unreadable files, a family no country lists, a restriction left out. */
  readonly warnings: readonly string[];
  /** The database read, or null (none configured, or unreadable: then a warning says why). */
  readonly database: CountryDatabase | null;
}

/**
 * Reads every allowed country's networks: from the database when one is configured, and from its files. A
 * country with no network at all (its files missing, empty or unreadable, a database not there yet) leaves
 * the whole restriction out, with a warning: the services then stay open to every source as without
 * `countries`, rather than closing to that country's customers. Bad lines are reported and skipped, as in
 * blocklists.
 */
export async function loadCountryLists(
  config: CountryListsConfig | null,
  families: readonly AddressFamily[],
  read: ReadText,
  readBytes: ReadBytes = readBytesFromDisk,
): Promise<LoadedCountries> {
  if (config === null) return { restriction: null, warnings: [], database: null };
  const warnings: string[] = [];
  const lists: { label: string; entries: string[] }[] = [];
  const empty: string[] = [];
  const allow = new Set(config.allow);
  const db = config.database
    ? await readDatabase(config.database, (d) => databaseCountries(d, allow), readBytes)
    : null;
  const dbProblem = db && "problem" in db ? db.problem : null;
  if (dbProblem) warnings.push(`firewall.countries.database: ${config.database}: ${dbProblem}`);
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
        `firewall.countries: no ${family} networks for ${config.allow.join(", ")}: no ${family} source outside the allowlist and zones reaches ${services} (${database ? `the database holds none for them; add ${family} lists to firewall.countries.files` : `add the ${family} lists to firewall.countries.files`})`,
      );
  }
  return {
    restriction: { name: COUNTRY_RESTRICTION, services: [...config.services], lists },
    warnings,
    database: info,
  };
}
