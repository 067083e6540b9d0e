// Translates a parsed Python regex into RE2 syntax, a linear-time RE2 gate, and JavaScript syntax.

import {
  parsePythonRegex,
  type ClassItem,
  type ParsedRegex,
  type RegexNode,
  type ScopeFlags,
} from "./python-regex.js";

/** RE2 refuses counted repetitions above this. */
const RE2_MAX_REPEAT = 1000;

export interface TranslatedRegex {
  /** The pattern as written (Python syntax), for reports and errors. */
  readonly python: string;
  readonly parsed: ParsedRegex;
  /** Exact RE2 translation (global flags inlined), or null when RE2 cannot express it. */
  readonly re2: string | null;
  /** Why `re2` is null: the first construct RE2 lacks. */
  readonly re2Why?: string;
  /**
   * RE2 pattern accepting a superset of what the regex accepts (lookarounds dropped, backreferences
   * widened); a line it rejects cannot match. Equal to `re2` when that exists.
   */
  readonly gate: string;
  /** JavaScript RegExp source and flags with the same meaning as the Python pattern. */
  readonly js: string;
  readonly jsFlags: string;
  /**
   * JavaScript source for V8's linear-time fallback, to be compiled with no flags at all, or null when it
   * cannot say exactly what `re2` says. V8's linear engine refuses the `i` flag (and a backtracking `i`
   * regex can run for minutes), so case-insensitivity is spelled out as character classes; `.` and `\s`
   * are spelled as RE2 reads them, so that a line matches the same way whichever engine runs it (long
   * lines go to RE2, see bounded-regex.ts). Whether V8 can run it in linear time is decided there.
   * Its groups are unnamed; `groupNames` names them.
   */
  readonly linear: string | null;
  /** Capture names by 1-based index, as the engines see them (JS and RE2 use the same names). */
  readonly groupNames: readonly (string | undefined)[];
}

type Mode = "re2" | "gate" | "js" | "linear";

class NeedsBacktracking extends Error {}

/** The linear form cannot express this construct exactly; RE2 runs the pattern instead. */
class NotExact extends Error {}

/** Parses and translates; throws RegexSyntaxError (from the parser) for patterns Python would refuse. */
export function translatePythonRegex(python: string): TranslatedRegex {
  const parsed = parsePythonRegex(python);
  const g = parsed.globalFlags;
  const inline = `${g.i ? "i" : ""}${g.m ? "m" : ""}${g.s ? "s" : ""}`;
  const prefix = inline ? `(?${inline})` : "";
  let re2: string | null = null;
  let re2Why: string | undefined;
  try {
    re2 = prefix + new Emitter("re2", parsed).emit(parsed.ast, g);
  } catch (e) {
    if (!(e instanceof NeedsBacktracking)) throw e;
    re2Why = e.message;
  }
  const gate = re2 ?? prefix + new Emitter("gate", parsed).emit(parsed.ast, g);
  // Scoped flags have no JS syntax in Node 20, so the emitter rewrites them; then JS flags must stay off
  // so that the rewrite alone decides (a scoped `(?-i:...)` inside a global `(?i)` included).
  const nativeFlags = !parsed.hasScopedFlags;
  const js = new Emitter("js", parsed, nativeFlags).emit(parsed.ast, nativeFlags ? NO_FLAGS : g);
  const jsFlags = nativeFlags ? `${g.i ? "i" : ""}${g.m ? "m" : ""}${g.s ? "s" : ""}` : "";
  let linear: string | null = null;
  try {
    linear = new Emitter("linear", parsed, false).emit(parsed.ast, g);
  } catch (e) {
    if (!(e instanceof NotExact)) throw e;
  }
  return {
    python,
    parsed,
    re2,
    ...(re2Why === undefined ? {} : { re2Why }),
    gate,
    js,
    jsFlags,
    linear,
    groupNames: parsed.groupNames,
  };
}

const NO_FLAGS: ScopeFlags = { i: false, m: false, s: false };

const META = new Set([..."\\^$.|?*+()[]{}/"]);
const CLASS_META = new Set([..."\\]-^["]);

/** RE2's `\s` (Perl class): narrower than JavaScript's, which adds \v and Unicode spaces. */
const RE2_SPACE = "\\t\\n\\f\\r ";

class Emitter {
  /** JavaScript syntax: the backtracking form (`js`) or the flagless linear form. */
  private readonly jsLike: boolean;
  private readonly linear: boolean;

  constructor(
    private readonly mode: Mode,
    private readonly parsed: ParsedRegex,
    /** JS only: flags are given to RegExp, so scopes need no rewriting. */
    private readonly nativeFlags = true,
  ) {
    this.jsLike = mode === "js" || mode === "linear";
    this.linear = mode === "linear";
  }

  emit(node: RegexNode, f: ScopeFlags): string {
    switch (node.t) {
      case "seq":
        return node.items.map((n) => this.emit(n, f)).join("");
      case "alt":
        return node.branches.map((n) => this.emit(n, f)).join("|");
      case "char":
        return this.char(node.cp, f);
      case "class":
        return this.cls(node.negated, node.items, f);
      case "short":
        if (this.linear && node.c === "s") return `[${RE2_SPACE}]`;
        if (this.linear && node.c === "S") return `[^${RE2_SPACE}]`;
        return `\\${node.c}`;
      case "any":
        // JS's `.` also stops at \r, \u2028 and \u2029: a From header holding one must not hide a failure.
        if (this.linear) return f.s ? "[\\s\\S]" : "[^\\n]";
        return this.mode === "js" && !this.nativeFlags && f.s ? "[\\s\\S]" : ".";
      case "assert":
        return this.assertion(node.kind, f);
      case "group":
        return this.group(node, f);
      case "look":
        if (this.mode === "re2") throw new NeedsBacktracking("lookaround assertions need a backtracking engine");
        if (this.mode === "gate") return "";
        return `(?${node.behind ? "<" : ""}${node.negative ? "!" : "="}${this.emit(node.body, f)})`;
      case "backref":
        if (this.mode === "re2") throw new NeedsBacktracking("backreferences need a backtracking engine");
        if (this.mode === "gate") return "(?s:.*)";
        return this.parsed.groupNames[node.index - 1] !== undefined && !this.linear
          ? `\\k<${this.parsed.groupNames[node.index - 1]}>`
          : `(?:\\${node.index})`;
      case "quant":
        return this.quant(node.body, node.min, node.max, node.lazy, f);
    }
  }

  private group(node: Extract<RegexNode, { t: "group" }>, f: ScopeFlags): string {
    if (node.flagsOn !== undefined || node.flagsOff !== undefined) {
      const on = node.flagsOn ?? "";
      const off = node.flagsOff ?? "";
      const inner: ScopeFlags = {
        i: on.includes("i") || (f.i && !off.includes("i")),
        m: on.includes("m") || (f.m && !off.includes("m")),
        s: on.includes("s") || (f.s && !off.includes("s")),
      };
      const body = this.emit(node.body, inner);
      if (this.jsLike) return `(?:${body})`;
      const re2on = [...on].filter((c) => "ims".includes(c)).join("");
      const re2off = [...off].filter((c) => "ims".includes(c)).join("");
      const spec = re2on + (re2off ? `-${re2off}` : "");
      return spec ? `(?${spec}:${body})` : `(?:${body})`;
    }
    const body = this.emit(node.body, f);
    if (node.index === 0) return `(?:${body})`;
    if (node.name === undefined) return `(${body})`;
    // The linear form numbers its groups: V8 builds a slow dictionary object for named ones on every
    // match, and `groupNames` says which number is which name.
    if (this.linear) return `(${body})`;
    return this.jsLike ? `(?<${node.name}>${body})` : `(?P<${node.name}>${body})`;
  }

  private assertion(kind: "^" | "$" | "A" | "Z" | "b" | "B", f: ScopeFlags): string {
    const rewrite = this.jsLike && !this.nativeFlags;
    switch (kind) {
      case "^":
        return rewrite && f.m ? "(?<![^\\n])" : "^";
      case "$":
        return rewrite && f.m ? "(?![^\\n])" : "$";
      // The linear form never has the m flag, so JS's `^` and `$` are the subject's ends.
      case "A":
        return this.linear ? "^" : this.mode === "js" ? "(?<![\\s\\S])" : "\\A";
      case "Z":
        return this.linear ? "$" : this.mode === "js" ? "(?![\\s\\S])" : "\\z";
      case "b":
        return "\\b";
      case "B":
        return "\\B";
    }
  }

  private quant(body: RegexNode, min: number, max: number, lazy: boolean, f: ScopeFlags): string {
    let inner = this.emit(body, f);
    // Every emitted atom (char, class, group, backreference) is one unit; sequences need a group.
    const atomic = body.t !== "seq" && body.t !== "alt" && body.t !== "quant";
    if (!atomic || inner === "") inner = `(?:${inner})`;
    if (this.linear && isCounted(min, max) && hasCountedRepeat(body) && unrollable(body, min, max)) {
      // V8's linear engine refuses nested counted repeats whose counts multiply past 16 (<IP6> is
      // `(?:[0-9a-fA-F]{1,4}::?|:){1,7}`: 28). Spelled as copies and nested optionals — the textbook
      // expansion, same language, same greedy/lazy preference — the count never multiplies. Only an outer
      // repeat is spelled out: a lone `\d{1,3}` stays as it is (a pattern ten times the size costs
      // irregexp ~1 ms to compile, in every process, for every regex holding an address).
      const opt = lazy ? "??" : "?";
      let tail = max === Infinity ? `${inner}*${lazy ? "?" : ""}` : "";
      for (let k = max === Infinity ? 0 : max - min; k > 0; k--) tail = `(?:${inner}${tail})${opt}`;
      const out = inner.repeat(min) + tail;
      if (out.length > MAX_UNROLLED) throw new NotExact("counted repeats too large to spell out");
      return out;
    }
    let q: string;
    if (min === 0 && max === Infinity) q = "*";
    else if (min === 1 && max === Infinity) q = "+";
    else if (min === 0 && max === 1) q = "?";
    else {
      let lo = min;
      let hi = max;
      if (!this.jsLike && (lo > RE2_MAX_REPEAT || hi > RE2_MAX_REPEAT) && hi !== Infinity) {
        if (this.mode === "re2") throw new NeedsBacktracking(`repeat counts above ${RE2_MAX_REPEAT}`);
        // Gate: widening the upper bound only admits more lines, which a gate may do.
        lo = Math.min(lo, RE2_MAX_REPEAT);
        hi = Infinity;
      } else if (!this.jsLike && lo > RE2_MAX_REPEAT) {
        if (this.mode === "re2") throw new NeedsBacktracking(`repeat counts above ${RE2_MAX_REPEAT}`);
        lo = RE2_MAX_REPEAT;
      }
      q = hi === Infinity ? `{${lo},}` : lo === hi ? `{${lo}}` : `{${lo},${hi}}`;
    }
    return inner + q + (lazy ? "?" : "");
  }

  private char(cp: number, f: ScopeFlags): string {
    if (this.linear && f.i) {
      const variants = asciiFoldVariants(cp);
      if (variants.length > 1) return `[${variants.map((v) => classChar(v)).join("")}]`;
    } else if (this.mode === "js" && !this.nativeFlags && f.i) {
      const variants = caseVariants(cp);
      if (variants.length > 1) return `[${variants.map((v) => classChar(v)).join("")}]`;
    }
    if (cp < 0x20 || cp === 0x7f) return `\\x${cp.toString(16).padStart(2, "0")}`;
    const s = String.fromCodePoint(cp);
    if (META.has(s)) return `\\${s}`;
    if (this.jsLike && cp > 0xffff) return `(?:${s})`;
    return s;
  }

  private cls(negated: boolean, items: readonly ClassItem[], f: ScopeFlags): string {
    const parts: string[] = [];
    for (const it of items) {
      if (it.t === "short") {
        if (this.linear && (it.c === "s" || it.c === "S")) {
          if (it.c === "s") parts.push(RE2_SPACE);
          // RE2's \S inside a larger class has no JS class spelling without the u flag.
          else if (items.length === 1) return `[${negated ? "" : "^"}${RE2_SPACE}]`;
          else throw new NotExact("\\S inside a character class");
          continue;
        }
        parts.push(`\\${it.c}`);
        continue;
      }
      if (this.jsLike && (it.lo > 0xffff || it.hi > 0xffff)) {
        if (this.linear) throw new NotExact("astral range in a character class");
        // Without the u flag JS classes hold UTF-16 units; astral ranges in PBX filters are not worth it.
        parts.push("\\uD800-\\uDFFF");
        continue;
      }
      parts.push(it.lo === it.hi ? classChar(it.lo) : `${classChar(it.lo)}-${classChar(it.hi)}`);
      if (this.linear && f.i) {
        // µ (U+00B5) is the first cased character past ASCII; folding beyond it is left to RE2.
        if (it.hi >= 0xb5) throw new NotExact("case-insensitive non-ASCII range");
        for (const [lo, hi] of swappedCaseRanges(it.lo, it.hi))
          parts.push(lo === hi ? classChar(lo) : `${classChar(lo)}-${classChar(hi)}`);
        if (it.lo <= 0x6b && it.hi >= 0x6b) parts.push(classChar(KELVIN));
        if (it.lo <= 0x4b && it.hi >= 0x4b) parts.push(classChar(KELVIN));
        if (it.lo <= 0x73 && it.hi >= 0x73) parts.push(classChar(LONG_S));
        if (it.lo <= 0x53 && it.hi >= 0x53) parts.push(classChar(LONG_S));
      } else if (this.mode === "js" && !this.nativeFlags && f.i) {
        for (const [lo, hi] of swappedCaseRanges(it.lo, it.hi))
          parts.push(lo === hi ? classChar(lo) : `${classChar(lo)}-${classChar(hi)}`);
      }
    }
    return `[${negated ? "^" : ""}${parts.join("")}]`;
  }
}

/** V8's linear engine replicates counted repeats up to 16 times; larger counts stay as they are. */
const MAX_LINEAR_COUNT = 16;
/** Longest linear source worth handing to V8; past this RE2 runs the pattern. */
const MAX_UNROLLED = 20_000;

/** A repeat other than `?`, `*` and `+`. */
function isCounted(min: number, max: number): boolean {
  return !(min <= 1 && (max === 1 || max === Infinity));
}

function hasCountedRepeat(n: RegexNode): boolean {
  return someNode(n, (x) => x.t === "quant" && isCounted(x.min, x.max));
}

/**
 * Whether `body{min,max}` may be spelled as copies: no capture (copies would duplicate it), cannot match
 * empty (JS's empty-iteration check would then tell the forms apart), counts V8 would accept.
 */
function unrollable(body: RegexNode, min: number, max: number): boolean {
  if (min > MAX_LINEAR_COUNT || (max !== Infinity && max > MAX_LINEAR_COUNT)) return false;
  return !someNode(body, (x) => x.t === "group" && x.index > 0) && !canBeEmpty(body);
}

/** Whether `n` or a node inside it passes `test`. */
function someNode(n: RegexNode, test: (n: RegexNode) => boolean): boolean {
  if (test(n)) return true;
  switch (n.t) {
    case "group":
    case "quant":
    case "look":
      return someNode(n.body, test);
    case "seq":
      return n.items.some((x) => someNode(x, test));
    case "alt":
      return n.branches.some((x) => someNode(x, test));
    default:
      return false;
  }
}

function canBeEmpty(n: RegexNode): boolean {
  switch (n.t) {
    case "char":
    case "class":
    case "short":
    case "any":
      return false;
    case "group":
      return canBeEmpty(n.body);
    case "seq":
      return n.items.every(canBeEmpty);
    case "alt":
      return n.branches.some(canBeEmpty);
    case "quant":
      return n.min === 0 || canBeEmpty(n.body);
    default:
      return true; // assertions, lookarounds, backreferences
  }
}

/** The two non-ASCII characters whose simple case folding reaches an ASCII letter (k and s). */
const KELVIN = 0x212a;
const LONG_S = 0x17f;

/**
 * What `(?i)` makes a character match, as RE2 folds it (simple case folding). Exact for ASCII; any
 * other cased character is left to RE2.
 */
function asciiFoldVariants(cp: number): number[] {
  if (cp === KELVIN) return [0x4b, 0x6b, KELVIN];
  if (cp === LONG_S) return [0x53, 0x73, LONG_S];
  if (cp >= 0xb5) {
    const s = String.fromCodePoint(cp);
    if (s.toLowerCase() !== s || s.toUpperCase() !== s) throw new NotExact("case-insensitive non-ASCII letter");
    return [cp];
  }
  const lower = cp | 0x20;
  if (lower < 0x61 || lower > 0x7a) return [cp];
  const out = [lower - 32, lower];
  if (lower === 0x6b) out.push(KELVIN);
  if (lower === 0x73) out.push(LONG_S);
  return out;
}

function classChar(cp: number): string {
  if (cp < 0x20 || cp === 0x7f) return `\\x${cp.toString(16).padStart(2, "0")}`;
  const s = String.fromCodePoint(cp);
  return CLASS_META.has(s) ? `\\${s}` : s;
}

function caseVariants(cp: number): number[] {
  const s = String.fromCodePoint(cp);
  const set = new Set([cp, s.toLowerCase().codePointAt(0) as number, s.toUpperCase().codePointAt(0) as number]);
  return [...set];
}

/** ASCII letters of a range, case-swapped; enough for the ASCII words PBX filters spell. */
function swappedCaseRanges(lo: number, hi: number): [number, number][] {
  const out: [number, number][] = [];
  const overlap = (a: number, b: number): [number, number] | null => {
    const l = Math.max(lo, a);
    const h = Math.min(hi, b);
    return l <= h ? [l, h] : null;
  };
  const lower = overlap(0x61, 0x7a);
  if (lower) out.push([lower[0] - 32, lower[1] - 32]);
  const upper = overlap(0x41, 0x5a);
  if (upper) out.push([upper[0] + 32, upper[1] + 32]);
  return out;
}
