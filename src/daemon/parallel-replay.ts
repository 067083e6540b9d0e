// The filtering half of `sipwarden replay` for one byte range of a log (a worker's share): every line
// through every jail's filter, keeping only what reaches the pipeline (matched and rejected results).
// Detection stays on the main thread, fed these results in file order.

import type { OffenseKind } from "../domain/offense.js";
import type { Filter, FilterResult } from "../filters/filter.js";
import { decodeLine, scanLines } from "../sources/chunk-lines.js";

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
 * Column-wise, one entry per (line, jail) with a matched or rejected result, in line then jail order.
 * `user`/`failId` are null when absent.
 */
export interface ReplayPart {
  lines: number;
  lineNo: number[];
  jail: number[];
  matched: boolean[];
  kind: OffenseKind[];
  regexIndex: number[];
  family: (4 | 6)[];
  address: string[];
  time: (number | null)[];
  user: (string | null)[];
  failId: (string | null)[];
  why: string[];
  text: string[];
}

export const MISSED: FilterResult = Object.freeze({ status: "missed" });

export function scanReplayRange(filters: readonly Filter[], job: ReplayJob): ReplayPart {
  const part: ReplayPart = {
    lines: 0,
    lineNo: [],
    jail: [],
    matched: [],
    kind: [],
    regexIndex: [],
    family: [],
    address: [],
    time: [],
    user: [],
    failId: [],
    why: [],
    text: [],
  };
  const ctx = { referenceTime: job.referenceTime };
  const cap = job.maxLineLength;
  const pass = new Uint8Array(filters.length);
  const { lines } = scanLines(job.path, { maxLineLength: cap, from: job.from, to: job.to }, (bytes, start, end, lineNo) => {
    let any = false;
    for (let j = 0; j < filters.length; j++) {
      const f = filters[j] as Filter;
      const ok = f.mayMatchBytes === undefined || f.mayMatchBytes(bytes, start, end);
      pass[j] = ok ? 1 : 0;
      any ||= ok;
    }
    if (!any) return;
    const text = decodeLine(bytes, start, end, cap);
    for (let j = 0; j < filters.length; j++) {
      if (pass[j] === 0) continue;
      const r = (filters[j] as Filter).match(text, ctx);
      if (r.status === "matched") {
        const m = r.match;
        push(part, lineNo, j, true, m.kind, m.regexIndex, text);
        part.family.push(m.address.family);
        part.address.push(m.address.text);
        part.time.push(m.time);
        part.user.push(m.user ?? null);
        part.failId.push(m.failId ?? null);
        part.why.push("");
      } else if (r.status === "rejected") {
        push(part, lineNo, j, false, r.kind ?? "failure", r.regexIndex, text);
        part.family.push(4);
        part.address.push("");
        part.time.push(null);
        part.user.push(null);
        part.failId.push(null);
        part.why.push(r.why);
      }
    }
  });
  part.lines = lines;
  return part;
}

function push(
  part: ReplayPart,
  lineNo: number,
  jail: number,
  matched: boolean,
  kind: OffenseKind,
  regexIndex: number,
  text: string,
): void {
  part.lineNo.push(lineNo);
  part.jail.push(jail);
  part.matched.push(matched);
  part.kind.push(kind);
  part.regexIndex.push(regexIndex);
  part.text.push(text);
}

/** The result entry `i` of a part stands for, as the filter returned it. */
export function partResult(part: ReplayPart, i: number): FilterResult {
  const kind = part.kind[i] as OffenseKind;
  const regexIndex = part.regexIndex[i] as number;
  if (!part.matched[i]) {
    const why = part.why[i] as string;
    return kind === "failure" ? { status: "rejected", regexIndex, why } : { status: "rejected", regexIndex, why, kind };
  }
  const user = part.user[i];
  const failId = part.failId[i];
  return {
    status: "matched",
    match: {
      kind,
      regexIndex,
      address: { family: part.family[i] as 4 | 6, text: part.address[i] as string },
      ...(user === null || user === undefined ? {} : { user }),
      ...(failId === null || failId === undefined ? {} : { failId }),
      time: part.time[i] ?? null,
    },
  };
}
