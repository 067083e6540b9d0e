// Runs a regex in bounded time: RE2 when it can, else an RE2 gate plus a JS RegExp under a vm timeout.

import vm from "node:vm";
import RE2 from "re2";

/** The three forms of one pattern; see fail2ban/translate-regex.ts for how they are made. */
export interface BoundedRegexSource {
  /** Exact RE2 pattern, or null when only a backtracking engine can run it. */
  readonly re2: string | null;
  /** RE2 pattern accepting a superset of the lines the regex accepts. */
  readonly gate: string;
  readonly js: string;
  readonly jsFlags: string;
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
 * regexes converts it once.
 */
export interface BoundedRegex {
  /** True when RE2 alone decides (no backtracking engine, cannot time out). */
  readonly exact: boolean;
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

/** Compiles one pattern; throws the engine's error (a SyntaxError) when neither engine accepts it. */
export function compileBoundedRegex(source: BoundedRegexSource, sandbox: BacktrackSandbox): BoundedRegex {
  if (source.re2 !== null) {
    const re = new RE2(source.re2, "u");
    return {
      exact: true,
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
