// Decides cheaply, from required literal substrings, which regexes could possibly match a raw line.

import type { ParsedRegex, RegexNode } from "./fail2ban/python-regex.js";

export interface RequiredLiteral {
  readonly text: string;
  /** Compare ignoring ASCII case (the literal sits under an `i` flag). */
  readonly caseInsensitive: boolean;
  /**
   * How many times, at distinct places, a match holds it (default 1): `.*\(callid: .*\(callid: ` needs
   * two. Each required run is its own stretch of the match, so equal runs are separate occurrences.
   */
  readonly count?: number;
}

/** Shorter literals occur in too many lines to be worth checking. */
const MIN_LITERAL = 3;

/**
 * Literals of which at least one must occur in any line the regex matches, or null when none is known.
 *
 * The regex is matched against the line with its date cut out, but the literal is searched in the raw
 * line, so a literal must not span the place where a date was. Dates sit between non-word characters (or
 * at the line start), so runs are split between any two adjacent non-word characters: `[]` in
 * `^\[\]\s*NOTICE` is two pieces, neither long enough to use.
 */
export function requiredLiterals(parsed: ParsedRegex): readonly RequiredLiteral[] | null {
  const top = parsed.ast;
  const branches = top.t === "alt" ? top.branches : [top];
  const out: RequiredLiteral[] = [];
  for (const b of branches) {
    const best = bestLiteral(b, parsed.globalFlags.i);
    if (best === null) return null;
    out.push(best);
  }
  return out;
}

function bestLiteral(node: RegexNode, ci: boolean): RequiredLiteral | null {
  const runs: RequiredLiteral[] = [];
  let text = "";
  let runCi = false;
  const flush = (): void => {
    for (const raw of splitAtDateHoles(text)) {
      // Still required once trimmed, and much faster to search: V8's substring search keys on the first
      // character, and a leading space occurs everywhere in a log line.
      const piece = raw.trim();
      runs.push({ text: runCi ? piece.toLowerCase() : piece, caseInsensitive: runCi });
    }
    text = "";
    runCi = false;
  };
  const walk = (n: RegexNode, fi: boolean): void => {
    switch (n.t) {
      case "char": {
        text += String.fromCodePoint(n.cp);
        if (fi && /[a-zA-Z]/.test(String.fromCodePoint(n.cp))) runCi = true;
        return;
      }
      case "class":
        if (!n.negated && n.items.length === 1 && n.items[0]?.t === "range" && n.items[0].lo === n.items[0].hi) {
          walk({ t: "char", cp: n.items[0].lo }, fi);
          return;
        }
        flush();
        return;
      case "seq":
        for (const it of n.items) walk(it, fi);
        return;
      case "group": {
        if (n.body.t === "alt") {
          flush();
          return;
        }
        const on = n.flagsOn ?? "";
        const off = n.flagsOff ?? "";
        walk(n.body, on.includes("i") || (fi && !off.includes("i")));
        return;
      }
      case "quant":
        if (n.min === 0) {
          flush();
          return;
        }
        if (n.min === n.max && n.body.t === "char") {
          for (let k = 0; k < n.min; k++) walk(n.body, fi);
          return;
        }
        // At least one copy is required, but what follows need not be adjacent to the first.
        flush();
        walk(n.body, fi);
        flush();
        return;
      case "assert":
        return; // takes no characters, so it cannot split a run
      default:
        flush();
    }
  };
  walk(node, ci);
  flush();
  // The most characters a line must hold: a literal required twice (an ignoreregex that finds a structure
  // repeated) counts twice, and rules out far more lines than a longer one required once.
  let best: RequiredLiteral | null = null;
  let bestScore = 0;
  for (const r of runs) {
    if (r.text.length < MIN_LITERAL) continue;
    const count = runs.filter((o) => o.text === r.text && o.caseInsensitive === r.caseInsensitive).length;
    const score = r.text.length * count;
    if (score > bestScore) {
      best = count > 1 ? { ...r, count } : r;
      bestScore = score;
    }
  }
  return best;
}

/**
 * Case-sensitive substrings of which every line some rule may match holds one: each rule's literal
 * alternatives, minus any that holds a shorter one. Undefined when a rule has no literal or only a
 * case-insensitive one.
 */
export function lineNeedles(perRule: readonly (readonly RequiredLiteral[] | null)[]): readonly string[] | undefined {
  const all = new Set<string>();
  for (const alts of perRule) {
    if (alts === null) return undefined;
    for (const lit of alts) {
      if (lit.caseInsensitive) return undefined;
      all.add(lit.text);
    }
  }
  const list = [...all];
  return list.filter((n) => !list.some((m) => m !== n && n.includes(m)));
}

const WORD = /[A-Za-z0-9_]/;

function splitAtDateHoles(s: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 1; i < s.length; i++) {
    if (!WORD.test(s[i - 1] as string) && !WORD.test(s[i] as string)) {
      out.push(s.slice(start, i));
      start = i;
    }
  }
  if (s.length > 0) out.push(s.slice(start));
  return out;
}

/**
 * Characters (UTF-16 code units of the BMP) that occur in every line the regex matches. Unlike literals,
 * a character needs no care about the cut-out date: the matched text is the raw line minus one stretch,
 * so each of its characters is in the raw line too. Letters under `i` are left out (either case would do).
 */
export function requiredChars(parsed: ParsedRegex): readonly number[] {
  const walk = (n: RegexNode, ci: boolean): Set<number> => {
    switch (n.t) {
      case "char":
        return n.cp <= 0xffff && !(ci && isCased(n.cp)) ? new Set([n.cp]) : new Set();
      case "class": {
        const only = n.items.length === 1 ? n.items[0] : undefined;
        if (!n.negated && only?.t === "range" && only.lo === only.hi) return walk({ t: "char", cp: only.lo }, ci);
        return new Set();
      }
      case "seq": {
        const out = new Set<number>();
        for (const it of n.items) for (const c of walk(it, ci)) out.add(c);
        return out;
      }
      case "alt": {
        // Only what every branch requires.
        let out: Set<number> | undefined;
        for (const b of n.branches) {
          const mine = walk(b, ci);
          const prev: Set<number> | undefined = out;
          out = prev === undefined ? mine : new Set([...prev].filter((c) => mine.has(c)));
        }
        return out ?? new Set<number>();
      }
      case "group": {
        const on = n.flagsOn ?? "";
        const off = n.flagsOff ?? "";
        return walk(n.body, on.includes("i") || (ci && !off.includes("i")));
      }
      case "quant":
        return n.min === 0 ? new Set() : walk(n.body, ci);
      default:
        return new Set();
    }
  };
  return [...walk(parsed.ast, parsed.globalFlags.i)].sort((a, b) => a - b);
}

function isCased(cp: number): boolean {
  if (cp === 0x212a || cp === 0x17f) return true; // fold onto k and s
  const s = String.fromCharCode(cp);
  return s.toLowerCase() !== s || s.toUpperCase() !== s;
}

export interface LiteralPrefilter {
  /**
   * Starts a line. Returns false when no rule may match it; otherwise `may(r)` answers per rule, for
   * this line, until the next `begin`.
   */
  begin(line: string): boolean;
  /** Whether rule `r` may match the line given to the last `begin` (its key character and literal occur). */
  may(r: number): boolean;
  /**
   * Marks in `out` (one slot per rule) the rules that may match `line`; returns false when none may.
   * Rules without a known literal or character are always marked.
   */
  candidates(line: string, out: Uint8Array): boolean;
}

/**
 * Rough order of how often a character occurs in log lines, commonest first; characters not listed are
 * rarer still. Only the first choice of key characters depends on it: sampling corrects it (see below).
 */
const COMMON =
  " etaoinsrhldcumfpgwybvkxjqz0123456789.:-/[]()=,_\"@ETAOINSRHLDCUMFPGWYBVKXJQZ<>';!?#$%&*+\\^`{|}~";

/**
 * RegExp source for one literal, without flags. Under `i` an ASCII letter becomes its case pair (plus the
 * Kelvin sign or long s, which RE2 folds onto k and s), and any other cased character matches anything:
 * a prefilter may let too much through, never too little.
 */
function literalSource(lit: RequiredLiteral): string {
  let out = "";
  for (const ch of lit.text) {
    const lower = ch.toLowerCase();
    const upper = ch.toUpperCase();
    if (!lit.caseInsensitive || lower === upper) out += ch.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&");
    else if (ch.charCodeAt(0) >= 0x80) out += "[\\s\\S]";
    else if (lower === "k") out += "[kK\\u212A]";
    else if (lower === "s") out += "[sS\\u017F]";
    else out += `[${lower}${upper}]`;
  }
  return out;
}

export function rarity(c: number): number {
  const i = COMMON.indexOf(String.fromCharCode(c));
  return i < 0 ? COMMON.length : i;
}

/** Key characters considered per rule: its rarest required ones (each costs a search per sample). */
const KEY_CANDIDATES = 24;
/** Share of lines assumed to hold a literal key before any sample: literals of 3+ characters are rare. */
const LITERAL_PRIOR = 0.05;
/** Stage two (literal searches, date) on a line that holds a key, in units of one key search. */
const LATER_COST = 5;
/** One line in SAMPLE_EVERY is sampled for how often each candidate character occurs. */
const SAMPLE_EVERY = 256;
/** Keys are chosen again after this many samples, and the counts halved (recent lines weigh more). */
const SAMPLES_PER_CHOICE = 32;

/**
 * One entry per rule: its literal alternatives (any one suffices), or null for "no literal known"; and,
 * optionally, its required characters (see requiredChars).
 *
 * Stages, because a benign line must cost little: searching a log line for a dozen literals costs
 * ~0.2 µs whichever way (an alternation RegExp scans every position; `includes` once per literal), while
 * a single-character `indexOf` is cheaper and can stand for several rules. So each rule has a key: one of
 * its required characters; a few rare keys cover all rules (`'` alone covers most Asterisk rules).
 * `begin` searches the keys (most benign PBX lines stop there); `may` then searches a rule's own literal
 * lazily, so a caller asking in rule order pays, on a line matching the first rule, for one literal.
 * Which character is the key is learnt from a sample of the lines (one in SAMPLE_EVERY), since what is
 * rare depends on the log (`V` is rare in English but starts every VERBOSE line); answers never depend on
 * the choice.
 */
export function createLiteralPrefilter(
  perRule: readonly (readonly RequiredLiteral[] | null)[],
  perRuleChars: readonly (readonly number[])[] = [],
): LiteralPrefilter {
  const ids = new Map<string, number>();
  const tests: ((line: string) => boolean)[] = [];
  const ruleLits = perRule.map((alts) => {
    if (alts === null) return null;
    return alts.map((lit) => {
      const count = lit.count ?? 1;
      const key = `${lit.caseInsensitive ? "i" : "s"}${count}:${lit.text}`;
      let id = ids.get(key);
      if (id === undefined) {
        id = tests.length;
        ids.set(key, id);
        if (lit.caseInsensitive) {
          // Classes and plain characters only (repeated `count` times with anything between): scans in
          // linear time, no backtracking is possible beyond one pass per occurrence.
          const one = literalSource(lit);
          const re = new RegExp(count > 1 ? Array<string>(count).fill(one).join("[\\s\\S]*?") : one);
          tests.push((line) => re.test(line));
        } else if (count > 1) {
          // `count` non-overlapping occurrences: taking each leftmost one after the previous leaves the most
          // room for the rest, so this answers as `text[\s\S]*?text…` would, without a regex.
          const text = lit.text;
          tests.push((line) => {
            let from = 0;
            for (let k = 0; k < count; k++) {
              const at = line.indexOf(text, from);
              if (at < 0) return false;
              from = at + text.length;
            }
            return true;
          });
        } else {
          const text = lit.text;
          tests.push((line) => line.includes(text));
        }
      }
      return id;
    });
  });
  const rules = perRule.length;
  // Candidate keys per rule: its rarest required characters (by COMMON) and its case-sensitive literals
  // (searched once; a literal only rules that share it need). A rule without any has key -1.
  const keyIds = new Map<string, number>();
  const chars: string[] = [];
  const priors: number[] = [];
  const keyId = (text: string, prior: number): number => {
    let id = keyIds.get(text);
    if (id === undefined) {
      id = chars.length;
      keyIds.set(text, id);
      chars.push(text);
      priors.push(prior);
    }
    return id;
  };
  const ruleCandidates = Array.from({ length: rules }, (_, r) => [
    ...[...(perRuleChars[r] ?? [])]
      .sort((a, b) => rarity(b) - rarity(a) || a - b)
      .slice(0, KEY_CANDIDATES)
      .map((c) => keyId(String.fromCharCode(c), 1 - rarity(c) / (COMMON.length + 1))),
    ...(perRule[r] ?? []).filter((l) => !l.caseInsensitive).map((l) => keyId(l.text, LITERAL_PRIOR)),
  ]);
  // The rules each key candidate would cover.
  const keyRules: number[][] = chars.map(() => []);
  ruleCandidates.forEach((cands, r) => {
    for (const c of cands) if (!(keyRules[c] as number[]).includes(r)) (keyRules[c] as number[]).push(r);
  });
  const ruleKey = new Int32Array(rules);
  // Sampled lines holding each key, and the number of samples, both halved at each choice (recent lines
  // weigh more). Until there are samples, the rarity prior stands in for the share of lines.
  const seen = new Float64Array(chars.length);
  let sampled = 0;
  let keys: number[] = [];
  let keyless = false;
  /**
   * Weighted set cover, greedily: few keys, each rare, together covering every rule. Every key is one
   * search on every line, and a line holding any key pays for the literal searches of stage two, so a
   * key costs 1 + LATER_COST × (share of lines holding it), shared among the rules it covers.
   */
  const chooseKeys = (): void => {
    const share = (c: number): number => (sampled >= 1 ? (seen[c] as number) / sampled : (priors[c] as number));
    const cost = (c: number): number => 1 + LATER_COST * share(c);
    const uncovered = new Uint8Array(rules);
    let left = 0;
    keyless = false;
    for (let r = 0; r < rules; r++) {
      if ((ruleCandidates[r] as number[]).length > 0) {
        uncovered[r] = 1;
        left++;
      } else keyless = true;
    }
    const chosen = new Set<number>();
    while (left > 0) {
      let best = -1;
      let bestScore = Infinity;
      for (let c = 0; c < chars.length; c++) {
        if (chosen.has(c)) continue;
        let covers = 0;
        for (const r of keyRules[c] as number[]) covers += uncovered[r] as number;
        const score = covers === 0 ? Infinity : cost(c) / covers;
        if (score < bestScore) {
          bestScore = score;
          best = c;
        }
      }
      chosen.add(best);
      for (const r of keyRules[best] as number[]) {
        left -= uncovered[r] as number;
        uncovered[r] = 0;
      }
    }
    for (let r = 0; r < rules; r++) {
      let key = -1;
      for (const c of ruleCandidates[r] as number[]) if (chosen.has(c) && (key < 0 || cost(c) < cost(key))) key = c;
      ruleKey[r] = key;
    }
    keys = [...chosen].sort((a, b) => cost(a) - cost(b));
    for (let c = 0; c < seen.length; c++) seen[c] = (seen[c] as number) / 2;
    sampled /= 2;
  };
  chooseKeys();

  // Per-line memo, reset by bumping `line`'s generation instead of clearing arrays.
  let gen = 0;
  const keyGen = new Uint32Array(chars.length);
  const keyHit = new Uint8Array(chars.length);
  const litGen = new Uint32Array(tests.length);
  const litHit = new Uint8Array(tests.length);
  let current = "";
  let countdown = SAMPLE_EVERY;
  let samples = 0;

  const keyPresent = (k: number): boolean => {
    if (keyGen[k] !== gen) {
      keyGen[k] = gen;
      keyHit[k] = current.indexOf(chars[k] as string) >= 0 ? 1 : 0;
    }
    return keyHit[k] === 1;
  };
  const literalPresent = (id: number): boolean => {
    if (litGen[id] !== gen) {
      litGen[id] = gen;
      litHit[id] = (tests[id] as (l: string) => boolean)(current) ? 1 : 0;
    }
    return litHit[id] === 1;
  };

  let started = false;
  const begin = (line: string): boolean => {
    // The same text again (a caller's copy of the line it just asked about): the memo still holds.
    if (line === current && gen !== 0) return started;
    started = start(line);
    return started;
  };
  const start = (line: string): boolean => {
    current = line;
    gen = (gen + 1) >>> 0;
    if (gen === 0) {
      // Wrapped: stale stamps could equal the new generation.
      keyGen.fill(0);
      litGen.fill(0);
      gen = 1;
    }
    if (--countdown === 0 && chars.length > 0) {
      countdown = SAMPLE_EVERY;
      sampled++;
      for (let c = 0; c < chars.length; c++) if (line.includes(chars[c] as string)) seen[c] = (seen[c] as number) + 1;
      if (++samples === SAMPLES_PER_CHOICE) {
        samples = 0;
        chooseKeys();
      }
    }
    if (keyless) return true;
    for (let i = 0; i < keys.length; i++) if (keyPresent(keys[i] as number)) return true;
    return false;
  };

  const may = (r: number): boolean => {
    const k = ruleKey[r] as number;
    if (k >= 0 && !keyPresent(k)) return false;
    const alts = ruleLits[r];
    if (alts === null || alts === undefined) return true;
    for (let i = 0; i < alts.length; i++) if (literalPresent(alts[i] as number)) return true;
    return false;
  };

  return {
    begin,
    may,
    candidates(line, out) {
      let any = false;
      const started = begin(line);
      for (let r = 0; r < rules; r++) {
        const hit = started && may(r);
        out[r] = hit ? 1 : 0;
        any ||= hit;
      }
      return any;
    },
  };
}
