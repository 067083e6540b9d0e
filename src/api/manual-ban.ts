// The decisions a manual ban and an imported one record: every port, origin `manual`, for the asked length
// or the default; an import (or another node's ban) for the time the other tool's ban has left.

import type { Cidr } from "../domain/address.js";
import type { Decision, DecisionOrigin } from "../domain/decision.js";
import type { ImportBansResult } from "./contract.js";
import type { ControlBan, ControlImport } from "./services.js";

/** `priorBans`: earlier bans of the target, as the caller counts them. */
export function manualBanDecision(
  { target, forMs, reason }: ControlBan,
  now: number,
  defaultBanMs: number,
  priorBans: number,
): Decision {
  const durationMs = forMs === undefined ? defaultBanMs : forMs;
  return {
    action: "ban",
    target: target.text,
    origin: "manual",
    reason: reason ?? "banned by hand",
    scope: { kind: "all" },
    at: now,
    durationMs: durationMs ?? 0,
    expiresAt: durationMs === null ? null : now + durationMs,
    priorBans,
    evidence: [],
  };
}

/** How far ahead of this host's clock an imported ban may start (clocks differ by a little). */
const FUTURE_SLACK_MS = 60_000;

/** What the daemon knows about a target an import names. */
export interface ImportFacts {
  /** The allow entry that covers it (allow wins over every ban), or null. */
  protector(target: Cidr): string | null;
  /** The registered customer at this address (a NAT'd office fail2ban banned), or null. */
  registered(target: Cidr): string | null;
  /** The end of the longest ban in force on exactly this target: a time, null (permanent), or undefined (none). */
  bannedUntil(target: Cidr): number | null | undefined;
}

/** Per target, the end of its longest ban among `decisions` (null: permanent): ImportFacts.bannedUntil's table. */
export function banEnds(decisions: readonly Decision[]): Map<string, number | null> {
  const ends = new Map<string, number | null>();
  for (const d of decisions) {
    if (d.action !== "ban") continue;
    const seen = ends.get(d.target);
    if (seen === null) continue;
    ends.set(
      d.target,
      d.expiresAt === null || seen === undefined ? d.expiresAt : Math.max(seen, d.expiresAt),
    );
  }
  return ends;
}

/** The decisions an import records, and each ban left out with why; one per target (the longest). */
export function importedBanDecisions(
  bans: readonly ControlImport[],
  now: number,
  facts: ImportFacts,
  /** What the decisions record as their origin: `manual` for an import, `fleet:<node>` for another node's. */
  origin: DecisionOrigin = "manual",
): { decisions: Decision[]; skipped: ImportBansResult["skipped"] } {
  const skipped: { target: string; why: string }[] = [];
  const chosen = new Map<string, ControlImport>();
  /** Whether a ban ending at `a` outlasts one ending at `b` (null: permanent, which nothing outlasts). */
  const longer = (a: number | null, b: number | null): boolean => b !== null && (a === null || a > b);
  for (const b of bans) {
    const target = b.target.text;
    // A ban dated after now (a clock ahead, a bad row) would be kept as if decided then.
    const wrong =
      b.at > now + FUTURE_SLACK_MS
        ? "its ban starts in the future (the other host's clock?)"
        : b.expiresAt !== null && b.expiresAt <= now
          ? "its ban is over"
          : null;
    if (wrong !== null) {
      skipped.push({ target, why: wrong });
      continue;
    }
    const spared = facts.protector(b.target) ?? facts.registered(b.target);
    if (spared !== null) {
      skipped.push({ target, why: `spared: ${spared}` });
      continue;
    }
    const until = facts.bannedUntil(b.target);
    if (until !== undefined && !longer(b.expiresAt, until)) {
      skipped.push({ target, why: "already banned as long or longer" });
      continue;
    }
    const seen = chosen.get(target);
    if (seen === undefined || longer(b.expiresAt, seen.expiresAt)) chosen.set(target, b);
  }
  const decisions = [...chosen.values()].map((b): Decision => ({
    action: "ban",
    target: b.target.text,
    origin,
    reason: b.reason,
    scope: { kind: "all" },
    at: b.at,
    durationMs: b.expiresAt === null ? 0 : b.expiresAt - b.at,
    expiresAt: b.expiresAt,
    priorBans: b.priorBans,
    evidence: b.evidence,
  }));
  return { decisions, skipped };
}
