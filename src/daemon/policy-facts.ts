// What the applied firewall policy's own lists say about one address, for `explain`: the blocklists that hold
// it, the country restriction it falls outside of, and what the configured .mmdb databases say of it.

import type { Config } from "../config/config.js";
import type { IpAddress } from "../domain/address.js";
import { COUNTRY_RESTRICTION } from "../enforce/country-lists.js";
import { asnOf } from "../enforce/geoip/asns.js";
import { askSafely, openKept, openLocator } from "./locate.js";
import type { Located } from "../api/contract.js";
import type { RestrictionFact, FeedFact } from "../api/explain.js";
import { internetServices, servicesScope, type FirewallPolicy } from "../enforce/policy.js";
import { coveringTargets } from "../store/target-key.js";
// The daemon's network bans ride in the policy as blocklists; they are stored decisions, explained as such.
import { isNetworkBanList } from "./compose-firewall.js";

interface Indexed {
  readonly blocklists: readonly { name: string; entries: ReadonlySet<string> }[];
  readonly restrictions: readonly {
    name: string;
    lists: readonly { label: string; entries: ReadonlySet<string> }[];
  }[];
}

// Entries are canonical (as the loaders parse them), so a list holds an address when it holds one of the
// address's covering prefixes: at most 33 (129) lookups instead of a scan of a 100k-entry feed.
const indexes = new WeakMap<FirewallPolicy, Indexed>();

function indexOf(policy: FirewallPolicy): Indexed {
  let ix = indexes.get(policy);
  if (!ix) {
    ix = {
      blocklists: policy.blocklists
        .filter((b) => !isNetworkBanList(b.name))
        .map((b) => ({ name: b.name, entries: new Set(b.entries) })),
      restrictions: (policy.restrictions ?? []).map((r) => ({
        name: r.name,
        lists: r.lists.map((l) => ({ label: l.label, entries: new Set(l.entries) })),
      })),
    };
    indexes.set(policy, ix);
  }
  return ix;
}

export interface PolicyFacts {
  readonly feeds: FeedFact[];
  readonly restrictions: RestrictionFact[];
}

/** Facts of `policy` about `address`; allowlisted addresses are the caller's to weigh (allow wins). */
export function policyFacts(policy: FirewallPolicy | null, address: IpAddress): PolicyFacts {
  if (policy === null) return { feeds: [], restrictions: [] };
  const ix = indexOf(policy);
  const covering = coveringTargets(address.text);
  const hit = (set: ReadonlySet<string>): string | undefined => covering.find((k) => set.has(k));
  const feeds: FeedFact[] = [];
  policy.blocklists.forEach((b) => {
    const list = ix.blocklists.find((x) => x.name === b.name);
    const entry = list && hit(list.entries);
    if (entry !== undefined) feeds.push({ feed: b.name, entry, scope: b.scope });
  });
  const restrictions: RestrictionFact[] = [];
  for (const { restriction, services } of internetServices(policy).restricted) {
    const lists = ix.restrictions.find((x) => x.name === restriction.name)?.lists ?? [];
    if (services.length === 0 || lists.some((l) => hit(l.entries) !== undefined)) continue;
    restrictions.push({
      restriction: restriction.name,
      services,
      lists: restriction.lists.map((l) => l.label),
      scope: servicesScope(policy, services),
    });
  }
  return { feeds, restrictions };
}

/** The policy facts with what the configured databases say of the address. */
export interface LocatedFacts extends PolicyFacts {
  readonly located: Located;
}

/**
 * The facts with what the configured databases say of the address: its country (`firewall.countries.
 * database`), named also in a country restriction that keeps it out, and its AS (the first ASN blocklist's
 * database), named also in an ASN list that holds it (see locate.ts for how long an opened file is kept).
 */
export async function withDatabaseFacts(
  config: Config,
  facts: PolicyFacts,
  address: IpAddress,
): Promise<LocatedFacts> {
  const locate = await openLocator(config);
  const located = locate ? locate(address.text) : {};
  const asnList = config.firewall.blocklists.find((b) => b.asns !== null);
  const feeds = await Promise.all(
    facts.feeds.map(async (f) => {
      const list = config.firewall.blocklists.find((b) => b.name === f.feed);
      if (!list?.asns) return f;
      const own =
        list.file === asnList?.file
          ? (located.asn ?? null)
          : askSafely(await openKept(list.file), asnOf, address);
      return own === null ? f : { ...f, asn: own };
    }),
  );
  return {
    feeds,
    restrictions: facts.restrictions.map((r) =>
      located.country !== undefined && r.restriction === COUNTRY_RESTRICTION
        ? { ...r, located: located.country }
        : r,
    ),
    located,
  };
}
