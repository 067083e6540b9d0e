// Finds the date in a log line: which text to strip before matching, and the epoch time it names.

import {
  compileBoundedRegex,
  TIMED_OUT,
  type BacktrackSandbox,
  type RegexHit,
  type TimedOut,
} from "../bounded-regex.js";
import { regexFacts } from "../fail2ban/regex-facts.js";
import { timeFromFields } from "./date-fields.js";
import { datePatternRegex } from "./date-pattern.js";
import { DEFAULT_DATE_PATTERNS } from "./default-date-patterns.js";

export interface DateHit {
  /** UTF-16 range of the date text in the line (what fail2ban removes before matching). */
  readonly start: number;
  readonly end: number;
  /** Epoch ms, or null when the text looked like a date but names no real moment, or is empty. */
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
  /**
   * The same regex without captures, sticky: `lastIndex = 0; test(line)` says whether it matches at the
   * line start and where that match ends, allocating nothing. Only for our own (trusted) templates.
   */
  readonly sticky?: RegExp;
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
export function createDateDetector(
  datepattern: string | undefined,
  sandbox: BacktrackSandbox,
  /** Minutes east of UTC of dates that carry no zone (the filter's logtimezone); null: local time. */
  zone: number | null = null,
): DateDetector {
  const lines = (datepattern ?? "")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  if (lines.length === 1 && lines[0]?.toUpperCase() === "{NONE}") {
    return { enabled: false, detect: () => null };
  }
  // A line `{^LN-BEG}` stands for the default formats at the line start, `{DEFAULT}` for all of them (as
  // fail2ban reads them, also among other lines: `^[^\[]*\[({DATE})` then `{^LN-BEG}`).
  const templatesFor = (line: string): Template[] => {
    if (line === LN_BEG)
      return DEFAULT_DATE_PATTERNS.map((p) => trustedTemplate(`${LN_BEG}${unanchored(p)}`));
    if (line.toUpperCase() === "{DEFAULT}") return DEFAULT_DATE_PATTERNS.map((p) => trustedTemplate(p));
    return withDefaultDates(line).map((p) => userTemplate(p, sandbox));
  };
  const templates = lines.length === 0 ? templatesFor("{DEFAULT}") : lines.flatMap(templatesFor);
  return createDetector(templates, zone);
}

const LN_BEG = "{^LN-BEG}";

/** A datepattern without its leading `{^LN-BEG}`. */
function unanchored(pattern: string): string {
  return pattern.startsWith(LN_BEG) ? pattern.slice(LN_BEG.length) : pattern;
}

/** fail2ban's `{DATE}` placeholder (any case, not escaped). */
const DATE_PLACEHOLDER = /(?<!\\)\{DATE\}/gi;

/**
 * A datepattern line with `{DATE}` stands for one pattern per default date format, each put in its place
 * (as fail2ban does: `^[^\[]*\[({DATE})` reads any default format inside the brackets). The named formats
 * (EPOCH, TAI64N) are regexes of their own and are not put in; a format's own `{^LN-BEG}` is dropped, the
 * line's anchoring applies.
 */
function withDefaultDates(pattern: string): string[] {
  // `search` ignores the global flag's lastIndex; `replace` below needs the flag.
  if (pattern.search(DATE_PLACEHOLDER) < 0) return [pattern];
  return DEFAULT_DATE_PATTERNS.filter((d) => NAMED_ALIASES[d.toUpperCase()] === undefined).map((d) => {
    const body = unanchored(d);
    return pattern.replace(DATE_PLACEHOLDER, () => body);
  });
}

function pythonFor(pattern: string): string {
  const named = NAMED_ALIASES[unanchored(pattern).toUpperCase()];
  if (named !== undefined) return NAMED[named] as string;
  return datePatternRegex(pattern).python;
}

function trustedTemplate(pattern: string): Template {
  const python = pythonFor(pattern);
  const t = regexFacts(python);
  const re = new RegExp(t.js, t.jsFlags);
  // Our templates hold no backreference, so dropping the group names changes nothing but the captures.
  const bare = regexFacts(python.replace(/\(\?P<[A-Za-z_]\w*>/g, "(?:"));
  return {
    name: pattern,
    sticky: new RegExp(bare.js, `${bare.jsFlags}y`),
    find(line) {
      const m = re.exec(line);
      return m === null ? null : { index: m.index, text: m[0], groups: m.groups ?? {} };
    },
  };
}

function userTemplate(pattern: string, sandbox: BacktrackSandbox): Template {
  const re = compileBoundedRegex(regexFacts(pythonFor(pattern)), sandbox);
  return { name: pattern, find: (line) => re.exec(line) };
}

function createDetector(templates: readonly Template[], zone: number | null): DateDetector {
  // Most lines of a file share one format: the last template that won is tried first.
  let last: Template | null = null;
  // Most lines also share their date with the line before (a busy PBX logs many lines a second). When
  // the last template matched at the line start, its whole match text `cacheText` and the answer are
  // kept: a line that starts with the same text, on which the template's match (at 0, so leftmost) ends
  // at the same place, is the same match — same captures, same cut and, for the same reference time, the
  // same time (a live source's reference moves: then only the time is computed again).
  let cacheText: string | null = null;
  let cacheFound: { start: number; end: number; hit: RegexHit } | null = null;
  let cacheHit: DateHit | null = null;
  let cacheRef = 0;
  const locate = (t: Template, line: string): { start: number; end: number; hit: RegexHit } | null => {
    const hit = t.find(line);
    if (hit === null || hit === TIMED_OUT) return null;
    const date = hit.groups._date;
    if (date === undefined) return null;
    const start = hit.index + (hit.groups._pre?.length ?? 0);
    return { start, end: start + date.length, hit };
  };
  // An empty date (a pattern such as `^WARNING:()**` that marks lines carrying none) names no time.
  const toDate = (found: { start: number; end: number; hit: RegexHit }, ref: number): DateHit => ({
    start: found.start,
    end: found.end,
    time: found.end === found.start ? null : timeFromFields(found.hit.groups, ref, zone),
  });
  const remember = (t: Template, found: { start: number; end: number; hit: RegexHit }, date: DateHit, ref: number): void => {
    // Only a match the `last` shortcut below would accept again (start <= 2) may be replayed.
    const ok = t.sticky !== undefined && found.hit.index === 0 && found.start <= 2;
    cacheText = ok ? found.hit.text : null;
    cacheFound = ok ? found : null;
    cacheHit = ok ? date : null;
    cacheRef = ref;
  };
  return {
    enabled: true,
    detect(line, referenceTime) {
      if (last !== null) {
        const sticky = last.sticky;
        if (cacheText !== null && sticky !== undefined) {
          sticky.lastIndex = 0;
          if (sticky.test(line) && sticky.lastIndex === cacheText.length && line.startsWith(cacheText)) {
            if (referenceTime !== cacheRef) {
              cacheHit = toDate(cacheFound as { start: number; end: number; hit: RegexHit }, referenceTime);
              cacheRef = referenceTime;
            }
            return cacheHit;
          }
        }
        const found = locate(last, line);
        if (found !== null && found.start <= 2) {
          const date = toDate(found, referenceTime);
          remember(last, found, date, referenceTime);
          return date;
        }
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
      if (best === null || bestTemplate === null) return null;
      last = bestTemplate;
      const date = toDate(best, referenceTime);
      remember(bestTemplate, best, date, referenceTime);
      return date;
    },
  };
}
