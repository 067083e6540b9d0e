// Composes the answer to "why is this address blocked (or not)?" from facts the daemon looks up; pure.

import type { IpAddress } from "../domain/address.js";
import type { ExplainReason, ExplainResult, Located, ScopeView, Verdict } from "./contract.js";
import { isoOrNull, toEvidenceView, toHistoryEntry, type DecisionRecord } from "./views.js";

/** An allowlist entry matching the address (config, file, resolved name, or a runtime allow). */
export interface AllowFact {
  /** Canonical IP/CIDR or the DNS name as written. */
  readonly entry: string;
  /** `config`, `/etc/sipwarden/allow.txt:3`, `manual`. */
  readonly origin: string;
  readonly detail: string;
  /** Epoch ms; null: until removed; absent: not applicable (config entries). */
  readonly expiresAt?: number | null;
}

/** A feed set holding the address that is not stored as a decision (large lists live only in kernel sets). */
export interface FeedFact {
  readonly feed: string;
  /** The IP/CIDR of the list that covers the address. */
  readonly entry: string;
  readonly scope?: ScopeView;
  readonly expiresAt?: number | null;
  /** The autonomous system (decimal) the feed's ASN database puts the address in, for a list of ASNs' networks. */
  readonly asn?: string;
}

/** Services open only to some sources (a country allow-list) whose lists do not hold the address. */
export interface RestrictionFact {
  /** The restriction's name (`countries`). */
  readonly restriction: string;
  readonly services: readonly string[];
  /** Its lists' labels (country codes). */
  readonly lists: readonly string[];
  readonly scope: ScopeView;
  /** Where the geolocation database places the address (upper-case code), when one is configured and knows. */
  readonly located?: string;
}

/** A live registration from the address: it spares the address from one account's failures. */
export interface RegistrationFact {
  /** `kamailio`, `ami`, `esl`, `log`. */
  readonly source: string;
  /** e.g. `2 live registrations: 1001, 1002`. */
  readonly detail: string;
}

/** A trusted network or trunk from the config: never banned. */
export interface TrustedZoneFact {
  readonly name: string;
  readonly entry: string;
}

export interface ExplainFacts {
  readonly address: IpAddress;
  /** Bans in force on the address or a network containing it, newest first (DecisionLookup.active). */
  readonly active: readonly DecisionRecord[];
  /** Past decisions, newest first (DecisionLookup.past). */
  readonly past: readonly DecisionRecord[];
  readonly allow: readonly AllowFact[];
  readonly feeds?: readonly FeedFact[];
  readonly restrictions?: readonly RestrictionFact[];
  readonly registrations?: readonly RegistrationFact[];
  readonly trustedZones?: readonly TrustedZoneFact[];
  readonly located?: Located;
}

export function explainAddress(facts: ExplainFacts): ExplainResult {
  const trusted = (facts.trustedZones ?? []).map((z): ExplainReason => ({
    kind: "trusted-zone",
    origin: "config",
    detail: `trusted zone ${z.name} (${z.entry}) is never banned`,
    target: z.entry,
  }));
  const allow = facts.allow.map((a): ExplainReason => ({
    kind: "allowlist",
    origin: a.origin,
    detail: a.detail,
    target: a.entry,
    ...(a.expiresAt === undefined ? {} : { expiresAt: isoOrNull(a.expiresAt) }),
  }));
  const bans = facts.active
    .filter((d) => d.action === "ban")
    .map((d): ExplainReason => ({
      kind: d.origin.startsWith("feed:") ? "feed" : "decision",
      origin: d.origin,
      detail: d.reason,
      target: d.target,
      scope: d.scope,
      expiresAt: isoOrNull(d.expiresAt),
      evidence: d.evidence.map(toEvidenceView),
    }));
  const feeds = (facts.feeds ?? []).map((f): ExplainReason => ({
    kind: "feed",
    origin: `feed:${f.feed}`,
    detail: `listed by feed ${f.feed} (${f.entry}${f.asn === undefined ? "" : `, AS${f.asn}`})`,
    target: f.entry,
    ...(f.scope === undefined ? {} : { scope: f.scope }),
    ...(f.expiresAt === undefined ? {} : { expiresAt: isoOrNull(f.expiresAt) }),
  }));
  const restrictions = (facts.restrictions ?? []).map((r): ExplainReason => ({
    kind: "restriction",
    origin: `restriction:${r.restriction}`,
    detail: `${r.services.join(", ")} ${r.services.length > 1 ? "are" : "is"} open only to ${r.restriction} ${r.lists.join(", ")}, and no list of theirs holds this address${r.located === undefined ? "" : ` (the geolocation database places it in ${r.located})`}`,
    scope: r.scope,
  }));
  const registrations = (facts.registrations ?? []).map((r): ExplainReason => ({
    kind: "registration",
    origin: r.source,
    detail: r.detail,
  }));
  // Allow entries and trusted zones win over every ban and feed, in the kernel as here.
  const allowed = trusted.length + allow.length > 0;
  const blocked = bans.length + feeds.length + restrictions.length > 0;
  const verdict: Verdict = allowed ? "allowed" : blocked ? "blocked" : "not-blocked";
  return {
    address: facts.address.text,
    verdict,
    because: [...trusted, ...allow, ...bans, ...feeds, ...restrictions, ...registrations],
    history: facts.past.map(toHistoryEntry),
    ...(facts.located && (facts.located.country ?? facts.located.asn) !== undefined
      ? { located: facts.located }
      : {}),
  };
}
