// Reads Kamailio's `ul.dump` JSON-RPC result (usrloc, 5.x) into registry entries.

import { parseIp } from "../domain/address.js";
import type { RegistrationInput } from "./registry.js";
import { sipUriHost } from "./sip-uri.js";

/*
 * The shape, as Kamailio 5.6 answers (checked against a live 5.6.3):
 *   { "Domains": [ { "Domain": { "Domain": "location", "Size": 1024,
 *       "AoRs": [ { "Info": { "AoR": "alice", "HashID": n,
 *         "Contacts": [ { "Contact": { "Address": "sip:alice@192.168.1.23:5060", "Expires": 300,
 *           "Received": "sip:203.0.113.5:40412" | "[not set]", "Socket": "udp:…", "User-Agent": "…", … } } ] } } ],
 *       "Stats": {…} } } ] }
 * `Expires` is seconds from now, or "permanent", "expired", "deleted". The AoR is `user` or `user@domain`
 * (use_domain). Older releases put the domain objects directly in `result`; both are read.
 */

export interface KamailioDumpOptions {
  /**
   * Use the Contact host when `Received` is not set. Default true: Kamailio sets `Received` (with
   * `fix_nated_register`) only for clients it detected behind NAT, and for the others the Contact host is
   * the source address. It is what the client wrote, though, so turn this off to trust `Received` only.
   */
  readonly contactFallback?: boolean;
  /** Lifetime given to permanent (static) contacts; refreshed by every poll. */
  readonly permanentLifetimeMs: number;
}

export interface KamailioDumpResult {
  readonly entries: Omit<RegistrationInput, "source">[];
  /** Contacts skipped: expired/deleted, no usable address, malformed. */
  readonly skipped: number;
}

/** Null when `result` is not a ul.dump answer at all (so the caller keeps its last good set). */
export function parseUlDump(
  result: unknown,
  now: number,
  options: KamailioDumpOptions,
): KamailioDumpResult | null {
  const domains = domainList(result);
  if (!domains) return null;
  const entries: Omit<RegistrationInput, "source">[] = [];
  let skipped = 0;
  for (const d of domains) {
    const domain = unwrap(d, "Domain");
    const aors = domain?.AoRs;
    if (!Array.isArray(aors)) continue;
    for (const a of aors) {
      const info = unwrap(a, "Info");
      const aor = typeof info?.AoR === "string" ? info.AoR : undefined;
      const contacts = info?.Contacts;
      if (!aor || !Array.isArray(contacts)) continue;
      const user = aor.includes("@") ? aor.slice(0, aor.indexOf("@")) : aor;
      for (const c of contacts) {
        const contact = unwrap(c, "Contact");
        const entry = contact ? readContact(contact, user, now, options) : null;
        if (entry) entries.push(entry);
        else skipped++;
      }
    }
  }
  return { entries, skipped };
}

function readContact(
  c: Record<string, unknown>,
  user: string,
  now: number,
  options: KamailioDumpOptions,
): Omit<RegistrationInput, "source"> | null {
  const uri = typeof c.Address === "string" ? c.Address : undefined;
  const received = typeof c.Received === "string" ? sipUriHost(c.Received) : null;
  let address = received !== null && parseIp(received) ? received : undefined;
  if (address === undefined && options.contactFallback !== false && uri !== undefined) {
    const host = sipUriHost(uri);
    if (host !== null && parseIp(host)) address = host;
  }
  if (address === undefined) return null;
  let expiresAt: number;
  if (typeof c.Expires === "number" && c.Expires > 0) expiresAt = now + c.Expires * 1000;
  else if (c.Expires === "permanent") expiresAt = now + options.permanentLifetimeMs;
  else return null;
  return uri ? { address, user, contact: uri, expiresAt } : { address, user, expiresAt };
}

function domainList(result: unknown): unknown[] | null {
  if (Array.isArray(result)) return result;
  if (typeof result === "object" && result !== null) {
    const d = (result as Record<string, unknown>).Domains;
    if (Array.isArray(d)) return d;
    if ("Domain" in result) return [result];
  }
  return null;
}

/** `{ "Domain": {...} }` → the inner object; tolerates the inner object given directly. */
function unwrap(value: unknown, key: string): Record<string, unknown> | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const inner = (value as Record<string, unknown>)[key];
  if (typeof inner === "object" && inner !== null) return inner as Record<string, unknown>;
  return value as Record<string, unknown>;
}
