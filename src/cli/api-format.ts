// How the control commands print what the daemon answers: times, expiries, tables, and untrusted text as data.

import type { EvidenceView, LinkView, ScopeView } from "../api/contract.js";
import { formatDuration } from "../domain/duration.js";

/**
 * Escapes what could steer a terminal or hide text: C0/C1 controls, line and paragraph separators, bidi
 * overrides and isolates. Log lines are attacker-controlled; a line must print as one inert line.
 */
export function printable(text: string): string {
  return text.replace(
    /[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/gu,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** Attacker-controlled text, quoted and escaped so it reads as data. */
export function quoted(text: string): string {
  return printable(JSON.stringify(text));
}

/** `2026-11-22T13:00:00Z`: the API's ISO time to the second, which is all a reader needs. */
export function shortTime(iso: string): string {
  return iso.replace(/\.\d+Z$/, "Z");
}

/** `until 2026-11-22T13:00:00Z (in 59m)`, or `permanent`. */
export function untilText(expiresAt: string | null, now: number): string {
  if (expiresAt === null) return "permanent";
  const left = Date.parse(expiresAt) - now;
  return `until ${shortTime(expiresAt)} (${left > 0 ? `in ${formatDuration(left)}` : "now"})`;
}

export function scopeText(scope: ScopeView): string {
  if (scope.kind === "all") return "all ports";
  const ports = scope.ports.map((p) => (p.from === p.to ? `${p.from}` : `${p.from}-${p.to}`)).join(",");
  return `${scope.protocols.join("/")} ${ports}`;
}

export function evidenceLine(e: EvidenceView): string {
  const where = e.lineNo === undefined ? e.source : `${e.source}:${e.lineNo}`;
  return `${shortTime(e.time)} ${printable(where)} ${quoted(e.line)}`;
}

/** Left-aligned columns, two spaces apart; the last column is not padded. */
export function table(rows: readonly (readonly string[])[], indent = ""): string {
  const widths: number[] = [];
  for (const row of rows)
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  return rows
    .map(
      (row) =>
        indent +
        row
          .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
          .join("  ")
          .trimEnd() +
        "\n",
    )
    .join("");
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** `ami up since 2026-12-07T08:00:00Z`, or `ami DOWN since … (login refused)`: a link's health. */
export function linkHealthText(p: LinkView & { readonly id: string }): string {
  const since = p.since === null ? (p.up ? "" : " (not connected yet)") : ` since ${shortTime(p.since)}`;
  const why = !p.up && p.lastError !== null ? ` (${printable(p.lastError)})` : "";
  return `${printable(p.id)} ${p.up ? "up" : "DOWN"}${since}${why}`;
}
