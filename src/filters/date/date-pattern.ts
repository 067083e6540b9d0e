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
 * Builds the detection regex for one datepattern line. `{^LN-BEG}` anchors at line start allowing up to
 * two non-word characters before the date (the `[` of `[Nov 21 ...]`); a leading `^` anchors exactly;
 * otherwise the date must sit on word boundaries. `{UNB}` drops the boundaries.
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
  } else if (p.startsWith("^")) {
    mode = "caret";
    p = p.slice(1);
  }
  const body = expandDirectives(p);
  const prefix =
    mode === "lnbeg" ? "(?P<_pre>^\\W{0,2})" : mode === "caret" ? "(?P<_pre>^)" : mode === "word" ? "(?P<_pre>^|\\b|\\W)" : "(?P<_pre>)";
  const suffix = mode === "unbounded" ? "" : "(?:\\b|\\W|$)";
  return { python: `${prefix}(?P<_date>${body})${suffix}`, lineStart: mode === "lnbeg" || mode === "caret" };
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
