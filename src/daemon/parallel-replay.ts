// The filtering half of `sipwarden replay` for one byte range of a log (a worker's share): every line
// through every jail's filter, keeping only what reaches the pipeline (matched and rejected results).
// Detection stays on the main thread, fed these results in file order.

import type { OffenseKind } from "../domain/offense.js";
import type { Filter, FilterMatch, FilterResult, MatchContext } from "../filters/filter.js";
import { scanLines } from "../sources/chunk-lines.js";
import { scanNeedleLines } from "../sources/needle-lines.js";
import { jailNeedles } from "./jail-needles.js";

export interface ReplayJob {
  /** One filter spec per jail, in the config's order. */
  readonly specs: readonly string[];
  readonly path: string;
  readonly from: number;
  readonly to: number;
  readonly maxLineLength: number;
  readonly referenceTime: number;
}

/**
 * Column-wise, one entry per (line, jail) with a matched or rejected result, in line then jail order, in
 * typed arrays and one string: a worker's answer crosses threads as a few copies, not 100k objects.
 */
export interface ReplayPart {
  lines: number;
  count: number;
  lineNo: Int32Array;
  jail: Int32Array;
  /** Bits: MATCHED, SUCCESS, IPV6, HAS_USER, HAS_FAIL_ID, NO_TIME. */
  flags: Uint8Array;
  regexIndex: Int32Array;
  time: Float64Array;
  /** Per entry, FIELDS strings in `strings`: the line, the address, user, failId, why (rejected). */
  strings: string;
  /** End offset in `strings` of each field (the start is the previous end). */
  ends: Int32Array;
}

const MATCHED = 1;
const SUCCESS = 2;
const IPV6 = 4;
const HAS_USER = 8;
const HAS_FAIL_ID = 16;
const NO_TIME = 32;
const FIELDS = 5;

export const MISSED: FilterResult = Object.freeze({ status: "missed" });

export function scanReplayRange(filters: readonly Filter[], job: ReplayJob): ReplayPart {
  const lineNos: number[] = [];
  const jails: number[] = [];
  const flags: number[] = [];
  const regexIndexes: number[] = [];
  const times: number[] = [];
  // Joined as they come: a few big strings cost the collector less than one per field.
  const joined: string[] = [];
  let pending: string[] = [];
  let pendingSize = 0;
  const ends: number[] = [];
  let at = 0;
  const str = (t: string): void => {
    pending.push(t);
    pendingSize += t.length;
    at += t.length;
    ends.push(at);
    if (pendingSize >= 1 << 16) {
      joined.push(pending.join(""));
      pending = [];
      pendingSize = 0;
    }
  };
  const ctx = { referenceTime: job.referenceTime };
  // With needles, each filter is told which of its own the line holds; lines holding none are skipped.
  const together = jailNeedles(filters, job.maxLineLength);
  const hinted = filters.map(() => ({ referenceTime: job.referenceTime, needles: 0 }));
  let mask: number | undefined;
  const range = { maxLineLength: job.maxLineLength, from: job.from, to: job.to };
  const onLine = (text: string, lineNo: number): void => {
    for (let j = 0; j < filters.length; j++) {
      let c: MatchContext = ctx;
      if (mask !== undefined && together !== undefined) {
        const h = hinted[j] as { referenceTime: number; needles: number };
        h.needles = together.mine(mask, j);
        c = h;
      }
      const r = (filters[j] as Filter).match(text, c);
      if (r.status === "matched") {
        const m = r.match;
        lineNos.push(lineNo);
        jails.push(j);
        flags.push(
          MATCHED |
            (m.kind === "success" ? SUCCESS : 0) |
            (m.address.family === 6 ? IPV6 : 0) |
            (m.user === undefined ? 0 : HAS_USER) |
            (m.failId === undefined ? 0 : HAS_FAIL_ID) |
            (m.time === null ? NO_TIME : 0),
        );
        regexIndexes.push(m.regexIndex);
        times.push(m.time ?? 0);
        str(text);
        str(m.address.text);
        str(m.user ?? "");
        str(m.failId ?? "");
        str("");
      } else if (r.status === "rejected") {
        lineNos.push(lineNo);
        jails.push(j);
        flags.push(r.kind === "success" ? SUCCESS : 0);
        regexIndexes.push(r.regexIndex);
        times.push(0);
        str(text);
        str("");
        str("");
        str("");
        str(r.why);
      }
    }
  };
  const { lines } =
    together === undefined
      ? scanLines(job.path, range, onLine)
      : scanNeedleLines(job.path, together.needles, range, (text, lineNo, m) => {
          mask = m;
          onLine(text, lineNo);
        });
  return {
    lines,
    count: lineNos.length,
    lineNo: Int32Array.from(lineNos),
    jail: Int32Array.from(jails),
    flags: Uint8Array.from(flags),
    regexIndex: Int32Array.from(regexIndexes),
    time: Float64Array.from(times),
    strings: joined.join("") + pending.join(""),
    ends: Int32Array.from(ends),
  };
}

/** The text of line of entry `i`. */
export function partText(part: ReplayPart, i: number): string {
  return field(part, i, 0);
}

function field(part: ReplayPart, i: number, f: number): string {
  const k = i * FIELDS + f;
  return part.strings.slice(k === 0 ? 0 : (part.ends[k - 1] as number), part.ends[k] as number);
}

/** The result entry `i` of a part stands for, as the filter returned it. */
export function partResult(part: ReplayPart, i: number): FilterResult {
  const flags = part.flags[i] as number;
  const kind: OffenseKind = flags & SUCCESS ? "success" : "failure";
  const regexIndex = part.regexIndex[i] as number;
  if (!(flags & MATCHED)) {
    const why = field(part, i, 4);
    return kind === "failure"
      ? { status: "rejected", regexIndex, why }
      : { status: "rejected", regexIndex, why, kind };
  }
  const address = { family: flags & IPV6 ? 6 : 4, text: field(part, i, 1) } as const;
  const time = flags & NO_TIME ? null : (part.time[i] as number);
  const user = flags & HAS_USER ? field(part, i, 2) : undefined;
  const failId = flags & HAS_FAIL_ID ? field(part, i, 3) : undefined;
  // The same object shapes the filter builds (see regex-filter.ts).
  let match: FilterMatch;
  if (user === undefined)
    match =
      failId === undefined
        ? { kind, regexIndex, address, time }
        : { kind, regexIndex, address, failId, time };
  else
    match =
      failId === undefined
        ? { kind, regexIndex, address, user, time }
        : { kind, regexIndex, address, user, failId, time };
  return { status: "matched", match };
}
