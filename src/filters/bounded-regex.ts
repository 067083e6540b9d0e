// Runs a regex in bounded time: V8's own engine with its linear-time fallback on short lines, RE2 on long
// ones, and an RE2 gate plus a JS RegExp under a vm timeout for what neither linear engine can run.
//
// Why V8 first: node-re2 costs ~2.8 µs per exec and ~0.34 µs per test on a PBX log line (a UTF-8 copy
// and a C++ call each time), V8's irregexp ~0.15 µs. Irregexp backtracks, so on its own a hostile line
// could stall it for minutes (/^(a+)+$/ on 30 a's and a "!"). V8 has a remedy built in: with
//   --enable-experimental-regexp-engine-on-excessive-backtracks --regexp-backtracks-before-fallback=N
// an exec that backtracks more than N times is rerun on V8's experimental linear-time (NFA) engine, which
// gives the same result (same leftmost, backtracking-priority semantics, same captures). The fallback
// exists only for regexes that engine can run — no lookaround, no backreferences, no `i` flag, no `u`
// flag — and is decided when the RegExp is constructed. Hence:
//   * the flags are set here, at module load, before any filter RegExp exists (they apply to regexes
//     constructed afterwards, process-wide: other modules' regexes gain the same protection, with the
//     same results);
//   * a pattern may take this path only if `new RegExp(src, "l")` accepts it (the `l` flag asks for the
//     linear engine outright and throws "Cannot be executed in linear time" otherwise);
//   * translate-regex.ts spells `(?i)` as character classes, so that no flag is needed at all.
// The linear engine is O(pattern × line) but with a large constant (a 1 MiB line can take seconds), so
// lines longer than LONG_LINE go to RE2 (linear, in C++) as before. Patterns the probe refuses keep the
// former path: RE2 when it can run them exactly, else an RE2 gate (a superset) and irregexp in a vm
// context with a timeout.
//
// Node documents that changing V8 flags after start-up may do nothing. So the fallback is proved once,
// on first use, by a self-test: the `l` flag must exist (deterministic proof that the flags were taken),
// and a regex that backtracks for minutes without the fallback must answer on bait within SELF_TEST_MS
// (run under a vm timeout, so a failed self-test costs SELF_TEST_MS, not minutes; it normally takes
// ~10 ms, most of it the vm watchdog, and the margin is for a machine under load). When either fails,
// every pattern takes the former path, as if the probe had refused it.

import { createRequire } from "node:module";
import v8 from "node:v8";
import vm from "node:vm";
import type RE2Type from "re2";

// Loaded with require, not import: see domain/ipaddr.ts (Node would lex re2's CommonJS source first).
const RE2 = createRequire(import.meta.url)("re2") as typeof RE2Type;

/** Backtracks one irregexp exec may spend before V8 reruns it on the linear engine (~0.1 ms of work). */
const BACKTRACKS_BEFORE_FALLBACK = 10_000;

v8.setFlagsFromString("--enable-experimental-regexp-engine");
v8.setFlagsFromString("--enable-experimental-regexp-engine-on-excessive-backtracks");
v8.setFlagsFromString(`--regexp-backtracks-before-fallback=${BACKTRACKS_BEFORE_FALLBACK}`);
// Compiled straight to machine code on first use: by default V8 first compiles a regex to bytecode for its
// interpreter and compiles it again, to machine code, on the next exec. Filter regexes run on every
// candidate line, so the bytecode is never worth it, and for the long ones (every address pattern) the two
// compiles cost ~3 ms per regex: measured on the asterisk filter's 28, the first two execs take 80 ms
// with tier-up and 22 ms without, in every thread that matches. Same engine, same results.
v8.setFlagsFromString("--no-regexp-tier-up");

/**
 * Lines longer than this (UTF-16 units) are run by RE2: V8's linear engine is slow per character. PBX log
 * lines are ~100–400 characters.
 */
export const LONG_LINE = 2048;

/** RegExp flag asking for V8's linear engine (exists only with the flags above; lint tools do not know it). */
const LINEAR_FLAG = "l";

/** How long the self-test bait may take; without the fallback it would take minutes. */
const SELF_TEST_MS = 500;

let fallbackProved: boolean | undefined;

/**
 * Whether V8's backtrack-limit fallback to its linear engine works in this process (measured once: see
 * the top of this file). False means every regex uses RE2 or the vm-timeout path.
 */
export function linearFallbackWorks(): boolean {
  fallbackProved ??= selfTest();
  return fallbackProved;
}

function selfTest(): boolean {
  try {
    new RegExp("a", LINEAR_FLAG);
  } catch {
    return false; // the flags were ignored: no linear engine at all
  }
  const ctx = vm.createContext({ ok: false });
  try {
    // Constructed inside the test, after the flags: the limit is fixed when a RegExp is created.
    vm.runInContext(`ok = new RegExp("^(a+)+$").test("${"a".repeat(30)}!") === false`, ctx, {
      timeout: SELF_TEST_MS,
    });
  } catch {
    return false; // timed out: irregexp backtracked without limit
  }
  return (ctx as { ok: boolean }).ok;
}

/** The forms of one pattern; see fail2ban/translate-regex.ts for how they are made. */
export interface BoundedRegexSource {
  /** Exact RE2 pattern, or null when only a backtracking engine can run it. */
  readonly re2: string | null;
  /** RE2 pattern accepting a superset of the lines the regex accepts. */
  readonly gate: string;
  readonly js: string;
  readonly jsFlags: string;
  /** Flagless JS source for V8's linear fallback (same meaning as `re2`), or null/absent. */
  readonly linear?: string | null;
  /** Names of `linear`'s (numbered) capture groups by 1-based index; undefined for unnamed ones. */
  readonly groupNames?: readonly (string | undefined)[];
}

export interface RegexHit {
  /** Start of the whole match (UTF-16 index). */
  readonly index: number;
  readonly text: string;
  /** Named captures; undefined when the group did not take part. */
  readonly groups: Readonly<Record<string, string | undefined>>;
}

/** Returned instead of a result when the backtracking engine ran out of time. */
export const TIMED_OUT = Symbol("timed out");
export type TimedOut = typeof TIMED_OUT;

/**
 * `utf8`, when given, must be `Buffer.from(text)`: RE2 converts a JS string to UTF-8 on every call
 * (~1 µs for a log line, several times the match itself), so a caller testing one line against several
 * RE2 regexes converts it once. Regexes with `linear` set never need it for lines up to LONG_LINE.
 */
export interface BoundedRegex {
  /** True when no backtracking engine without a time bound is involved: the regex cannot time out. */
  readonly exact: boolean;
  /** True when lines up to LONG_LINE run on V8 (test is then no cheaper than exec). */
  readonly linear: boolean;
  test(text: string, utf8?: Buffer): boolean | TimedOut;
  exec(text: string, utf8?: Buffer): RegexHit | null | TimedOut;
}

/**
 * A private JS realm for backtracking regexes. vm's timeout interrupts a runaway RegExp; one sandbox per
 * filter keeps filters independent.
 */
export interface BacktrackSandbox {
  readonly timeoutMs: number;
  compile(source: string, flags: string): SandboxedRegex;
}

export interface SandboxedRegex {
  exec(text: string): RegExpExecArray | null | TimedOut;
}

interface SandboxGlobals {
  re: RegExp | null;
  s: string;
  out: RegExpExecArray | null;
  src: string;
  flags: string;
}

export function createBacktrackSandbox(timeoutMs = 25): BacktrackSandbox {
  let ctx: (SandboxGlobals & vm.Context) | null = null;
  let run: vm.Script | null = null;
  let make: vm.Script | null = null;
  // Created on first use: most filters never need a backtracking regex.
  const context = (): SandboxGlobals & vm.Context => {
    if (ctx === null) {
      ctx = vm.createContext({ re: null, s: "", out: null, src: "", flags: "" }) as SandboxGlobals & vm.Context;
      run = new vm.Script("out = re.exec(s)");
      make = new vm.Script("new RegExp(src, flags)");
    }
    return ctx;
  };
  return {
    timeoutMs,
    compile(source, flags) {
      const c = context();
      c.src = source;
      c.flags = flags;
      // Built inside the sandbox so that its exec runs in the realm the timeout watches.
      const re = (make as vm.Script).runInContext(c) as RegExp;
      // Warmed on the empty subject (bounded work whatever the pattern), so that the first real line's
      // budget is not spent compiling the script and the regex on a busy machine.
      c.re = re;
      c.s = "";
      (run as vm.Script).runInContext(c);
      c.out = null;
      return {
        exec(text) {
          c.re = re;
          c.s = text;
          c.out = null;
          try {
            (run as vm.Script).runInContext(c, { timeout: timeoutMs });
          } catch (e) {
            if ((e as { code?: string }).code === "ERR_SCRIPT_EXECUTION_TIMEOUT") return TIMED_OUT;
            throw e;
          } finally {
            c.s = "";
          }
          const out = c.out;
          c.out = null;
          return out;
        },
      };
    },
  };
}

/** The flagless RegExp for V8's linear fallback, or null when this pattern or process cannot use it. */
export function compileLinearRegExp(source: string | null | undefined): RegExp | null {
  if (source === null || source === undefined || !linearFallbackWorks()) return null;
  try {
    new RegExp(source, LINEAR_FLAG);
  } catch {
    return null; // lookaround, backreference, or too large for the linear engine
  }
  return new RegExp(source);
}

/** Compiles one pattern; throws the engine's error (a SyntaxError) when neither engine accepts it. */
export function compileBoundedRegex(source: BoundedRegexSource, sandbox: BacktrackSandbox): BoundedRegex {
  const slow = compileWithoutLinear(source, sandbox);
  const fast = compileLinearRegExp(source.linear);
  if (fast === null) return slow;
  const toNamedHit = namedHits(source.groupNames ?? []);
  return {
    exact: slow.exact,
    linear: true,
    test: (text, utf8) => (text.length > LONG_LINE ? slow.test(text, utf8) : fast.test(text)),
    exec: (text, utf8) => (text.length > LONG_LINE ? slow.exec(text, utf8) : toNamedHit(fast.exec(text))),
  };
}

/**
 * Null prototype, so that a group called `__proto__` or `toString` is an ordinary key; objects made from
 * it with Object.create keep V8's fast properties (Object.create(null) objects do not).
 */
const GROUPS_PROTO: object = Object.freeze(Object.create(null) as object);

/** Builds hits whose `groups` map names to numbered captures, every name present as V8 would give it. */
function namedHits(groupNames: readonly (string | undefined)[]): (m: RegExpExecArray | null) => RegexHit | null {
  const names: string[] = [];
  const indexes: number[] = [];
  groupNames.forEach((name, i) => {
    if (name !== undefined) {
      names.push(name);
      indexes.push(i + 1);
    }
  });
  if (names.length === 0) return toHit;
  return (m) => {
    if (m === null) return null;
    // Keys added in one fixed order: every hit of this regex shares one hidden class.
    const groups = Object.create(GROUPS_PROTO) as Record<string, string | undefined>;
    for (let k = 0; k < names.length; k++) groups[names[k] as string] = m[indexes[k] as number];
    return { index: m.index, text: m[0], groups };
  };
}

function compileWithoutLinear(source: BoundedRegexSource, sandbox: BacktrackSandbox): BoundedRegex {
  if (source.re2 !== null) {
    const re = new RE2(source.re2, "u");
    return {
      exact: true,
      linear: false,
      test: (text, utf8) => re.test(utf8 ?? text),
      // Captures come back as strings only from a string subject.
      exec: (text) => toHit(re.exec(text)),
    };
  }
  const gate = new RE2(source.gate, "u");
  // Fail at load time, not on the first line, when JS refuses the pattern.
  new RegExp(source.js, source.jsFlags);
  const js = sandbox.compile(source.js, source.jsFlags);
  const exec = (text: string, utf8?: Buffer): RegexHit | null | TimedOut => {
    if (!gate.test(utf8 ?? text)) return null;
    const m = js.exec(text);
    return m === TIMED_OUT ? m : toHit(m);
  };
  return {
    exact: false,
    linear: false,
    test: (text, utf8) => {
      const r = exec(text, utf8);
      return r === TIMED_OUT ? r : r !== null;
    },
    exec,
  };
}

const NO_GROUPS: Readonly<Record<string, string | undefined>> = Object.freeze({});

function toHit(m: RegExpExecArray | null): RegexHit | null {
  if (m === null) return null;
  return { index: m.index, text: m[0], groups: m.groups ?? NO_GROUPS };
}
