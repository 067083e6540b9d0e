// Finds the date in a log line: which text to strip before matching, and the epoch time it names.

import {
  compileBoundedRegex,
  TIMED_OUT,
  type BacktrackSandbox,
  type RegexHit,
  type TimedOut,
} from "../bounded-regex.js";
import { translatePythonRegex } from "../fail2ban/translate-regex.js";
import { timeFromFields } from "./date-fields.js";
import { datePatternRegex, DatePatternError } from "./date-pattern.js";
import { DEFAULT_DATE_PATTERNS } from "./default-date-patterns.js";

export interface DateHit {
  /** UTF-16 range of the date text in the line (what fail2ban removes before matching). */
  readonly start: number;
  readonly end: number;
  /** Epoch ms, or null when the text looked like a date but names no real moment. */
  readonly time: number | null;
}

export interface DateDetector {
  /** False for `{NONE}`: lines are matched as they are. */
  readonly enabled: boolean;
  detect(line: string, referenceTime: number): DateHit | null;
}

interface Template {
  readonly name: string;
  find(line: string): RegexHit | null | TimedOut;
}

/** Named templates fail2ban accepts as a whole datepattern. */
const NAMED: Readonly<Record<string, string>> = {
  EPOCH: "(?P<_pre>^\\W{0,2}|audit\\()(?P<_date>(?P<_ds>\\d{10,11}(?:\\.\\d{3,6})?))(?:\\b|\\W|$)",
  LEPOCH: "(?P<_pre>^\\W{0,2}|audit\\()(?P<_date>(?P<_dL>\\d{13}))(?:\\b|\\W|$)",
  TAI64N: "(?P<_pre>^\\W{0,2})(?P<_date>@(?P<_dT>[0-9a-fA-F]{24}))(?:\\b|\\W|$)",
};
const NAMED_ALIASES: Readonly<Record<string, string>> = {
  EPOCH: "EPOCH",
  "{EPOCH}": "EPOCH",
  LEPOCH: "LEPOCH",
  "{LEPOCH}": "LEPOCH",
  TAI64N: "TAI64N",
  "{TAI64N}": "TAI64N",
};

/**
 * Builds a detector for a filter's `datepattern` value (one pattern per line), or the default list when
 * absent. Throws DatePatternError for patterns that cannot be used. User patterns run through the bounded
 * engine; the defaults are ours and known to be linear, so they run as plain RegExps for speed.
 */
export function createDateDetector(datepattern: string | undefined, sandbox: BacktrackSandbox): DateDetector {
  const lines = (datepattern ?? "")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  if (lines.length === 1 && lines[0]?.toUpperCase() === "{NONE}") {
    return { enabled: false, detect: () => null };
  }
  let templates: Template[];
  if (lines.length === 0) templates = DEFAULT_DATE_PATTERNS.map((p) => trustedTemplate(p));
  else if (lines.length === 1 && lines[0] === "{^LN-BEG}") {
    templates = DEFAULT_DATE_PATTERNS.map((p) => trustedTemplate(p.startsWith("{^LN-BEG}") ? p : `{^LN-BEG}${p}`));
  } else templates = lines.map((p) => userTemplate(p, sandbox));
  return createDetector(templates);
}

function pythonFor(pattern: string): string {
  if (/\{DATE\}/.test(pattern)) throw new DatePatternError("the {DATE} placeholder is not supported");
  const anchored = pattern.startsWith("{^LN-BEG}");
  const rest = anchored ? pattern.slice("{^LN-BEG}".length) : pattern;
  const named = NAMED_ALIASES[rest.toUpperCase()];
  if (named !== undefined) return NAMED[named] as string;
  return datePatternRegex(pattern).python;
}

function trustedTemplate(pattern: string): Template {
  const t = translatePythonRegex(pythonFor(pattern));
  const re = new RegExp(t.js, t.jsFlags);
  return {
    name: pattern,
    find(line) {
      const m = re.exec(line);
      return m === null ? null : { index: m.index, text: m[0], groups: m.groups ?? {} };
    },
  };
}

function userTemplate(pattern: string, sandbox: BacktrackSandbox): Template {
  const re = compileBoundedRegex(translatePythonRegex(pythonFor(pattern)), sandbox);
  return { name: pattern, find: (line) => re.exec(line) };
}

function createDetector(templates: readonly Template[]): DateDetector {
  // Most lines of a file share one format: the last template that won is tried first.
  let last: Template | null = null;
  const locate = (t: Template, line: string): { start: number; end: number; hit: RegexHit } | null => {
    const hit = t.find(line);
    if (hit === null || hit === TIMED_OUT) return null;
    const date = hit.groups._date;
    if (date === undefined) return null;
    const start = hit.index + (hit.groups._pre?.length ?? 0);
    return { start, end: start + date.length, hit };
  };
  const toDate = (found: { start: number; end: number; hit: RegexHit }, ref: number): DateHit => ({
    start: found.start,
    end: found.end,
    time: timeFromFields(found.hit.groups, ref),
  });
  return {
    enabled: true,
    detect(line, referenceTime) {
      if (last !== null) {
        const found = locate(last, line);
        if (found !== null && found.start <= 2) return toDate(found, referenceTime);
      }
      let best: { start: number; end: number; hit: RegexHit } | null = null;
      let bestTemplate: Template | null = null;
      for (const t of templates) {
        const found = locate(t, line);
        if (found === null || (best !== null && found.start >= best.start)) continue;
        best = found;
        bestTemplate = t;
        if (found.start <= 2) break; // nothing can start earlier enough to matter
      }
      if (best === null) return null;
      last = bestTemplate;
      return toDate(best, referenceTime);
    },
  };
}
