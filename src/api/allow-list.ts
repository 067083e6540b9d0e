// GET /v1/allow: every allow entry in force, the admin's own (sipwarden allow) and the config's, as the API
// shows them.

import { parseCidr, type Cidr } from "../domain/address.js";
import type { AllowEntryView, AllowList } from "./contract.js";
import { isoOrNull, isoTime } from "./views.js";

/** A `sipwarden allow` entry (structural: the API does not import the daemon). */
export interface ManualAllowRecord {
  readonly cidr: Cidr;
  readonly addedAt: number;
  readonly expiresAt: number | null;
  /** The fleet node whose admin made it, when not this one. */
  readonly node?: string;
}

/** An entry of the config's allowlist as loaded: its prefix, what was written, and where. */
export interface ConfiguredAllowRecord {
  readonly cidr: Cidr;
  readonly match: { readonly entry: string; readonly detail: string };
}

/** `allowed by hand`, or `allowed by hand on pbx-7` for another node's admin's entry. */
export function byHandText(a: { readonly node?: string }): string {
  return a.node === undefined ? "allowed by hand" : `allowed by hand on ${a.node}`;
}

export interface AllowListParts {
  readonly manual: readonly ManualAllowRecord[];
  readonly configured: readonly ConfiguredAllowRecord[];
  /** The firewall's trusted zones and hosts: their sources are allowlisted as `config` entries. */
  readonly zones: readonly { readonly name: string; readonly sources: readonly string[] }[];
  readonly problems: readonly {
    readonly entry: string;
    readonly where: string;
    readonly message: string;
    readonly at: number;
  }[];
}

export function allowList(parts: AllowListParts): AllowList {
  // A zone's source reads `zone office` rather than `config`: that is where the admin will look for it.
  const zoneOf = new Map<string, string>();
  for (const z of parts.zones)
    for (const s of z.sources) {
      const c = parseCidr(s);
      if (c !== null && !zoneOf.has(c.text)) zoneOf.set(c.text, z.name);
    }
  const manual = [...parts.manual]
    .sort((a, b) => a.addedAt - b.addedAt)
    .map((a): AllowEntryView => ({
      network: a.cidr.text,
      entry: a.cidr.text,
      origin: "manual",
      detail: byHandText(a),
      addedAt: isoTime(a.addedAt),
      expiresAt: isoOrNull(a.expiresAt),
    }));
  const configured = parts.configured.map((c): AllowEntryView => {
    const zone = c.match.detail === "config" ? zoneOf.get(c.cidr.text) : undefined;
    return {
      network: c.cidr.text,
      entry: c.match.entry,
      origin: "config",
      detail: zone === undefined ? c.match.detail : `zone ${zone}`,
      addedAt: null,
      expiresAt: null,
    };
  });
  return {
    entries: [...manual, ...configured],
    problems: parts.problems.map((p) => ({ ...p, at: isoTime(p.at) })),
  };
}
