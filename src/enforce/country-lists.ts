// Country allow-lists: per-country CIDR files (ipdeny.com's `<cc>.zone` layout) read into the restriction the
// firewall enforces on the internet's SIP services.
import { parseCidr } from "../domain/address.js";
import { formatBlocklistProblem, parseBlocklist, type ReadText } from "./blocklist-file.js";
import type { AddressFamily, SourceRestriction } from "./policy.js";

/** The kernel sets' base name (`countries4`, `countries6`); the config refuses it as a blocklist name. */
export const COUNTRY_RESTRICTION = "countries";

export interface CountryListsConfig {
  /** Lower-case two-letter codes. */
  readonly allow: readonly string[];
  readonly services: readonly string[];
  /** Path templates holding `{cc}`. */
  readonly files: readonly string[];
}

export interface LoadedCountries {
  /** Null when nothing is restricted: not configured, or left out because a country has no networks. */
  readonly restriction: SourceRestriction | null;
  /** Bad lines (file:line), unreadable files, a family no country lists, a restriction left out. */
  readonly warnings: readonly string[];
}

/**
 * Reads every allowed country's files. A country with no network at all (its files missing, empty or
 * unreadable: a download that has not happened yet) leaves the whole restriction out, with a warning: the
 * services then stay open to every source as without `countries`, rather than closing to that country's
 * customers. Bad lines are reported and skipped, as in blocklists.
 */
export async function loadCountryLists(
  config: CountryListsConfig | null,
  families: readonly AddressFamily[],
  read: ReadText,
): Promise<LoadedCountries> {
  if (config === null) return { restriction: null, warnings: [] };
  const warnings: string[] = [];
  const lists: { label: string; entries: string[] }[] = [];
  const empty: string[] = [];
  for (const cc of config.allow) {
    const entries: string[] = [];
    const unread: string[] = [];
    for (const template of config.files) {
      const file = template.replaceAll("{cc}", cc);
      let text: string;
      try {
        text = await read(file);
      } catch (e) {
        unread.push(`${file} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
        continue;
      }
      const parsed = parseBlocklist(text, file);
      entries.push(...parsed.entries);
      warnings.push(...parsed.problems.map(formatBlocklistProblem));
    }
    if (entries.length === 0)
      empty.push(
        `${cc} (${unread.length > 0 ? `cannot read ${unread.join(", ")}` : "no networks in its files"})`,
      );
    else if (unread.length > 0)
      warnings.push(`firewall.countries: ${cc}: cannot read ${unread.join(", ")}; its other files are used`);
    lists.push({ label: cc, entries });
  }
  const services = config.services.join(", ");
  if (empty.length > 0) {
    warnings.push(
      `firewall.countries: no networks for ${empty.join("; ")}: the country restriction is left out and ${services} stay open to every country`,
    );
    return { restriction: null, warnings };
  }
  for (const family of families) {
    const wanted = family === "ipv4" ? 4 : 6;
    const any = lists.some((l) => l.entries.some((e) => parseCidr(e)?.family === wanted));
    if (!any)
      warnings.push(
        `firewall.countries: no ${family} networks for ${config.allow.join(", ")}: no ${family} source outside the allowlist and zones reaches ${services} (add the ${family} lists to firewall.countries.files)`,
      );
  }
  return {
    restriction: { name: COUNTRY_RESTRICTION, services: [...config.services], lists },
    warnings,
  };
}
