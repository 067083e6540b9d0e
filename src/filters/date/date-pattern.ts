// Turns a fail2ban `datepattern` (regex text with strptime `%X` directives) into a Python regex.

/** Named groups the directives produce; date-fields.ts reads them back. */
export const FIELD_PREFIX = "_d";

const MONTHS_ABBR = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec";
const MONTHS_FULL = "January|February|March|April|May|June|July|August|September|October|November|December";
const DAYS_ABBR = "Mon|Tue|Wed|Thu|Fri|Sat|Sun";
const DAYS_FULL = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday";

/** Directive → [group field, Python regex]. Alternatives are ordered longest first for leftmost-first engines. */
const DIRECTIVES: Readonly<Record<string, readonly [string, string]>> = {
  a: ["a", `(?:${DAYS_FULL}|${DAYS_ABBR})`],
  A: ["a", `(?:${DAYS_FULL}|${DAYS_ABBR})`],
  b: ["b", `(?:${MONTHS_FULL}|${MONTHS_ABBR})`],
  B: ["b", `(?:${MONTHS_FULL}|${MONTHS_ABBR})`],
  h: ["b", `(?:${MONTHS_ABBR})`],
  d: ["d", "(?:3[01]|[12]\\d|0?[1-9]| [1-9])"],
  e: ["d", "(?:3[01]|[12]\\d|0?[1-9]| [1-9])"],
  m: ["m", "(?:1[0-2]|0?[1-9])"],
  y: ["y", "\\d{2}"],
  Y: ["Y", "\\d{4}"],
  H: ["H", "(?:2[0-3]|[01]?\\d)"],
  k: ["H", "(?:2[0-3]|[01]\\d| ?\\d)"],
  I: ["I", "(?:1[0-2]|0?[1-9])"],
  l: ["I", "(?:1[0-2]| ?[1-9])"],
  M: ["M", "[0-5]\\d"],
  S: ["S", "(?:6[01]|[0-5]\\d)"],
  f: ["f", "\\d+"],
  p: ["p", "(?:[AaPp][Mm])"],
  j: ["j", "(?:36[0-6]|3[0-5]\\d|[12]\\d\\d|0?[1-9]\\d|0{0,2}[1-9])"],
  z: ["z", "(?:Z|UTC|GMT|[+-]\\d{2}(?::?\\d{2})?)"],
  Z: ["Z", "(?:[A-Z]{3,5})"],
  s: ["s", "\\d{1,11}"],
};

/** `%Ex?` exact-width forms, as fail2ban spells them. */
const EXACT: Readonly<Record<string, readonly [string, string]>> = {
  Y: ["Y", "(?:19|20)\\d{2}"],
  y: ["y", "\\d{2}"],
  m: ["m", "(?:1[0-2]|0[1-9])"],
  d: ["d", "(?:3[01]|[12]\\d|0[1-9])"],
  H: ["H", "(?:2[0-3]|[01]\\d)"],
  k: ["H", "(?:2[0-3]|[01]\\d)"],
  M: ["M", "[0-5]\\d"],
  S: ["S", "(?:6[01]|[0-5]\\d)"],
};

export interface DatePatternRegex {
  /** Python regex whose group `_date` is the text to strip from the line before matching. */
  readonly python: string;
  /** Anchored at line start (`^` or `{^LN-BEG}`). */
  readonly lineStart: boolean;
}

/** Raised for unknown directives; the loader adds the file location. */
export class DatePatternError extends Error {}

/**
 * Builds the detection regex for one datepattern line, as fail2ban reads it:
 * - `{^LN-BEG}` anchors at line start allowing up to two non-word characters before the date (the `[` of
 *   `[Nov 21 ...]`); a leading `^` anchors exactly; otherwise the date must begin on a word boundary.
 *   `{UNB}` drops the boundaries; `**` at the start or the end of the pattern drops that one.
 * - The date must end on a word boundary unless the pattern ends with `$`, `\b`, `\s` or `**`.
 * - When the pattern holds an unnamed group, that group is the date (what is cut out of the line); the
 *   text around it must match but stays: `^[^\[]*\[(%d/%b/%Y:%H:%M:%S)` cuts only the date. Otherwise
 *   the whole match is.
 */
export function datePatternRegex(pattern: string): DatePatternRegex {
  let p = pattern.trim();
  let mode: "word" | "lnbeg" | "caret" | "unbounded" = "word";
  if (p.startsWith("{^LN-BEG}")) {
    mode = "lnbeg";
    p = p.slice("{^LN-BEG}".length);
  } else if (p.startsWith("{UNB}")) {
    mode = "unbounded";
    p = p.slice("{UNB}".length);
  }
  // `**` markers (fail2ban: "no word boundary here"), after any opening parentheses or before closing ones.
  const boundEnd = mode !== "unbounded" && !NO_WORD_END.test(p);
  const unmarkedStart = p.replace(STAR_START, "$1");
  const starStart = unmarkedStart !== p;
  p = unmarkedStart.replace(STAR_END, "$1");
  if (mode === "word" && starStart) mode = "unbounded";
  else if (mode === "word" && p.startsWith("^")) {
    mode = "caret";
    p = p.slice(1);
  }
  const body = expandDirectives(p);
  // Before the date: the anchoring, then, with a date group, the pattern's text before it (behind
  // fail2ban's look-ahead boundary there: that text may itself begin with a non-word character, `\[(...)`,
  // which a consumed boundary would take).
  const group = dateGroup(body);
  const word = group === null ? "^|\\b|\\W" : "(?=^|\\b|\\W)";
  const start = mode === "lnbeg" ? "^\\W{0,2}" : mode === "caret" ? "^" : mode === "word" ? word : "";
  const pre = `${start}${group?.before ?? ""}`;
  const suffix = `${group?.after ?? ""}${boundEnd ? "(?:\\b|\\W|$)" : ""}`;
  return {
    python: `(?P<_pre>${pre})(?P<_date>${group?.inner ?? body})${suffix}`,
    lineStart: mode === "lnbeg" || mode === "caret",
  };
}

/** fail2ban's "no word boundary at the end": the pattern ends with `$`, `\b`, `\s` or `**`. */
const NO_WORD_END = /(?<!\\)(?:\$\)?|\\b|\\s|\*\*\)*)$/;
const STAR_START = /^(\(*(?:\(\?\w+\))?\(*)\*\*/;
const STAR_END = /(?<!\\)\*\*(\)*)$/;

/**
 * The pattern's first unnamed group, as the text before it, inside it and after it; null when there is
 * none. Throws when it sits inside another group (the text before it could not be told apart).
 */
function dateGroup(body: string): { before: string; inner: string; after: string } | null {
  let depth = 0;
  let open = -1;
  let openDepth = 0;
  let inClass = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === "\\") {
      i++;
      continue;
    }
    if (inClass) {
      if (c === "]") inClass = false;
      continue;
    }
    if (c === "[") {
      inClass = true;
      // A `]` right after `[` or `[^` is a member, not the end.
      if (body[i + 1] === "^") i++;
      if (body[i + 1] === "]") i++;
    } else if (c === "(") {
      if (open < 0 && body[i + 1] !== "?") {
        if (depth !== 0) throw new DatePatternError("the date group must not sit inside another group");
        open = i;
        openDepth = depth;
      }
      depth++;
    } else if (c === ")") {
      depth--;
      if (open >= 0 && depth === openDepth)
        return { before: body.slice(0, open), inner: body.slice(open + 1, i), after: body.slice(i + 1) };
    }
  }
  if (open >= 0) throw new DatePatternError("unbalanced parentheses");
  return null;
}

function expandDirectives(p: string): string {
  let out = "";
  const used = new Set<string>();
  for (let i = 0; i < p.length; i++) {
    const c = p[i] as string;
    if (c === "\\") {
      out += c + (p[i + 1] ?? "");
      i++;
      continue;
    }
    if (c !== "%") {
      out += c;
      continue;
    }
    const d = p[i + 1];
    if (d === "%") {
      out += "%";
      i++;
      continue;
    }
    let spec: readonly [string, string] | undefined;
    if (d === "E" && p[i + 2] === "x") {
      spec = EXACT[p[i + 3] ?? ""];
      if (!spec) throw new DatePatternError(`unknown date directive %Ex${p[i + 3] ?? ""}`);
      i += 3;
    } else {
      spec = DIRECTIVES[d ?? ""];
      if (!spec) throw new DatePatternError(`unknown date directive %${d ?? ""}`);
      i += 1;
    }
    const [field, regex] = spec;
    // A second use of the same field (e.g. `(?:%Y|%y)` spelled twice) only needs to match.
    if (used.has(field)) out += regex;
    else {
      used.add(field);
      out += `(?P<${FIELD_PREFIX}${field}>${regex})`;
    }
  }
  return out;
}
