// Parses what nft prints: set members with their timeouts, and the line an error points at.
import { parseIp } from "../../domain/address.js";
import type { ScriptLocation } from "../errors.js";

export interface ListedMember {
  readonly address: string;
  readonly timeoutMs: number | null;
  /** Time left before the kernel removes the member; null when it has no timeout. */
  readonly expiresMs: number | null;
}

const UNIT_MS: Readonly<Record<string, number>> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

/** Parses nft's `1d2h3m4s5ms` durations; null when the text is not one. */
export function parseNftDuration(text: string): number | null {
  const re = /(\d+)(ms|d|h|m|s)/y;
  let total = 0;
  let pos = 0;
  while (pos < text.length) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) return null;
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
    pos = re.lastIndex;
  }
  return pos === 0 ? null : total;
}

/**
 * Reads the members of one set from `nft list set` text output. The JSON output rounds timeouts to whole
 * seconds, too coarse for short bans, hence the text form.
 */
export function parseSetListing(text: string): ListedMember[] {
  const start = text.indexOf("elements = {");
  if (start < 0) return [];
  const end = text.indexOf("}", start);
  const body = text.slice(start + "elements = {".length, end < 0 ? undefined : end);
  const out: ListedMember[] = [];
  for (const raw of body.split(",")) {
    const words = raw
      .trim()
      .split(/\s+/)
      .filter((w) => w.length > 0);
    const ip = words[0] === undefined ? null : parseIp(words[0]);
    if (!ip) continue;
    const after = (key: string): number | null => {
      const i = words.indexOf(key);
      const v = i >= 0 ? words[i + 1] : undefined;
      return v === undefined ? null : parseNftDuration(v);
    };
    out.push({ address: ip.text, timeoutMs: after("timeout"), expiresMs: after("expires") });
  }
  return out;
}

/**
 * The first `file:line:col: Error:` nft reports. The line text comes from nft's own echo of what it read
 * (the line after the error), falling back to our copy of the script when nft printed none.
 */
export function locateNftError(
  stderr: string,
  script: string,
): (ScriptLocation & { message: string }) | null {
  const m = /^[^\n:]*:(\d+):\d+(?:-\d+)?: Error: (.*)$/m.exec(stderr);
  if (!m) return null;
  const line = Number(m[1]);
  const echoed = stderr.slice(m.index + m[0].length + 1).split("\n")[0] ?? "";
  const text = echoed.trim() !== "" && !/^\s*\^/.test(echoed) ? echoed : (script.split("\n")[line - 1] ?? "");
  return { line, text: text.trim(), message: (m[2] as string).trim() };
}
