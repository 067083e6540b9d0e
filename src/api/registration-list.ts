// GET /v1/registrations: the live registrations a query asks for, newest seen first, as the API shows them.

import { cidrMatcher, type Cidr } from "../domain/address.js";
import type { RegistrationEntry } from "../domain/registration.js";
import type { RegistrationList, RegistrationView } from "./contract.js";
import { isoTime } from "./views.js";

/** A query, validated: an address or network the registrations are at, a text they contain, how many. */
export interface RegistrationQuery {
  readonly network?: Cidr;
  /** Compared lower-cased with the source, address, user and contact. */
  readonly match?: string;
  readonly limit: number;
}

export function registrationList(
  live: readonly RegistrationEntry[],
  query: RegistrationQuery,
  providers: RegistrationList["providers"],
  /** Until when an address is suspect (not shielded), or null. */
  suspectUntil: (address: string) => number | null = () => null,
): RegistrationList {
  const inNetwork = query.network === undefined ? () => true : cidrMatcher(query.network);
  const text = query.match?.toLowerCase();
  const hits = live.filter(
    (r) =>
      inNetwork(r.address) &&
      (text === undefined ||
        [r.source, r.address.text, r.user, r.contact ?? ""].some((f) => f.toLowerCase().includes(text))),
  );
  // The newest first: a phone that just registered is the one an admin looks for; then by address.
  hits.sort((a, b) => b.seenAt - a.seenAt || a.address.text.localeCompare(b.address.text));
  return {
    total: hits.length,
    registrations: hits.slice(0, query.limit).map((r) => toRegistrationView(r, suspectUntil(r.address.text))),
    providers,
  };
}

function toRegistrationView(r: RegistrationEntry, suspectUntil: number | null): RegistrationView {
  return {
    source: r.source,
    address: r.address.text,
    user: r.user,
    ...(r.contact === undefined ? {} : { contact: r.contact }),
    expiresAt: isoTime(r.expiresAt),
    seenAt: isoTime(r.seenAt),
    ...(suspectUntil === null ? {} : { suspectUntil: isoTime(suspectUntil) }),
  };
}
