// How decisions are printed: one aligned human line, or a JSON object with attacker text under fixed keys.

import { banScopeText, type Decision } from "../domain/decision.js";
import { formatDuration } from "../domain/duration.js";

// A replay prints thousands of decisions whose times fall on few seconds: each text is made once.
const isoTexts = new Map<number, string>();

let lastMs = NaN;
let lastText = "";

function isoSeconds(ms: number): string {
  // Evidence times come in order: most are the time just asked for.
  if (ms === lastMs) return lastText;
  let text = isoTexts.get(ms);
  if (text === undefined) {
    text = new Date(ms).toISOString().replace(".000Z", "Z");
    if (isoTexts.size >= 4096) isoTexts.clear();
    isoTexts.set(ms, text);
  }
  lastMs = ms;
  lastText = text;
  return text;
}

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
