// Decides cheaply, from required literal substrings, which regexes could possibly match a raw line.

import type { ParsedRegex, RegexNode } from "./fail2ban/python-regex.js";

export interface RequiredLiteral {
  readonly text: string;
  /** Compare ignoring ASCII case (the literal sits under an `i` flag). */
  readonly caseInsensitive: boolean;
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
  let best: RequiredLiteral | null = null;
  for (const r of runs) if (r.text.length >= MIN_LITERAL && (best === null || r.text.length > best.text.length)) best = r;
  return best;
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

export interface LiteralPrefilter {
  /**
   * Marks in `out` (one slot per rule) the rules that may match `line`; returns false when none may.
   * Rules without a known literal are always marked.
   */
  candidates(line: string, out: Uint8Array): boolean;
}

/** One entry per rule: its alternatives (any one suffices), or null for "always a candidate". */
export function createLiteralPrefilter(perRule: readonly (readonly RequiredLiteral[] | null)[]): LiteralPrefilter {
  const ids = new Map<string, number>();
  const tests: ((line: string) => boolean)[] = [];
  const ruleIds = perRule.map((alts) => {
    if (alts === null) return null;
    return alts.map((lit) => {
      const key = `${lit.caseInsensitive ? "i" : "s"}:${lit.text}`;
      let id = ids.get(key);
      if (id === undefined) {
        id = tests.length;
        ids.set(key, id);
        if (lit.caseInsensitive) {
          // A plain literal with the i flag scans in linear time; no backtracking is possible.
          const re = new RegExp(lit.text.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&"), "i");
          tests.push((line) => re.test(line));
        } else {
          const text = lit.text;
          tests.push((line) => line.includes(text));
        }
      }
      return id;
    });
  });
  // 0 unknown, 1 absent, 2 present: each literal is searched at most once per line.
  const memo = new Uint8Array(tests.length);
  return {
    candidates(line, out) {
      memo.fill(0);
      let any = false;
      for (let r = 0; r < ruleIds.length; r++) {
        const alts = ruleIds[r];
        let hit = alts === null || alts === undefined;
        if (!hit) {
          for (const id of alts as number[]) {
            let m = memo[id] as number;
            if (m === 0) {
              m = (tests[id] as (l: string) => boolean)(line) ? 2 : 1;
              memo[id] = m;
            }
            if (m === 2) {
              hit = true;
              break;
            }
          }
        }
        out[r] = hit ? 1 : 0;
        any ||= hit;
      }
      return any;
    },
  };
}
