// How decisions are printed: one aligned human line, or a JSON object with attacker text under fixed keys.

import { banScopeText, type Decision } from "./decision.js";
import { formatDuration } from "./duration.js";
import { createIsoFormatter } from "./iso-time.js";

// A replay prints thousands of decisions, each with its evidence times.
const iso = createIsoFormatter();
const isoSeconds = (ms: number): string => iso(ms, true);

export function formatDecisionLine(d: Decision): string {
  const what = d.action === "ban" ? "BAN  " : "SPARE";
  const length =
    d.action === "ban" ? (d.expiresAt === null ? "permanent" : formatDuration(d.durationMs)) : "-";
  return `${isoSeconds(d.at)}  ${what}  ${d.target.padEnd(15)}  ${length.padEnd(9)}  ${d.origin}  ${banScopeText(d.scope)}  ${d.reason}\n`;
}

export function decisionToJson(d: Decision): Record<string, unknown> {
  return {
    action: d.action,
    target: d.target,
    origin: d.origin,
    reason: d.reason,
    scope: d.scope,
    at: isoSeconds(d.at),
    durationMs: d.durationMs,
    expiresAt: d.expiresAt === null ? null : isoSeconds(d.expiresAt),
    priorBans: d.priorBans,
    evidence: d.evidence.map((e) => ({
      time: isoSeconds(e.time),
      source: e.source,
      ...(e.lineNo === undefined ? {} : { lineNo: e.lineNo }),
      line: e.line,
    })),
  };
}
