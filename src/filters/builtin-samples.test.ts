// Runs every built-in filter over its golden sample log (filters/samples/<name>.log) and checks each line.
//
// Sample format: `# expect: {json}` applies to the next log line; `# reference: <ISO time>` sets the
// reference time for year-less dates; `# filter: <spec>` switches the filter spec (e.g. `sshd[mode=aggressive]`)
// for the lines that follow; other `#` lines and blank lines are comments. Every log line needs an expect.

import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { expandFail2banTags } from "./fail2ban/tags.js";
import { translatePythonRegex } from "./fail2ban/translate-regex.js";
import type { FilterResult } from "./filter.js";
import { listBuiltinFilters, resolveFilter } from "./resolve.js";

const SAMPLES_DIR = fileURLToPath(new URL("../../filters/samples/", import.meta.url));

/** Fewest cases a sample file must hold: broad coverage is the point of the golden logs. */
const MIN_CASES: Readonly<Record<string, number>> = { asterisk: 25 };
const DEFAULT_MIN_CASES = 10;

interface Expectation {
  readonly match: boolean;
  readonly host?: string;
  readonly user?: string;
  readonly time?: string;
  readonly kind?: "failure" | "success";
}

interface SampleCase {
  readonly lineNo: number;
  readonly line: string;
  readonly spec: string;
  readonly referenceTime: number;
  readonly expect: Expectation;
}

/** Parses a sample file into cases; format errors are returned as messages naming the line. */
function parseSamples(name: string, text: string): { cases: SampleCase[]; errors: string[] } {
  const cases: SampleCase[] = [];
  const errors: string[] = [];
  let spec = name;
  let referenceTime = Date.UTC(2024, 10, 30);
  let pending: { expect: Expectation; lineNo: number } | null = null;
  const lines = text.split("\n");
  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    const where = `${name}.log:${lineNo}`;
    if (line.trim() === "") return;
    if (line.startsWith("#")) {
      const directive = /^#\s*(expect|reference|filter):\s*(.*)$/.exec(line);
      if (!directive) return;
      const [, key, value = ""] = directive;
      if (key === "expect") {
        if (pending) errors.push(`${where}: expect follows the expect of line ${pending.lineNo} with no log line between`);
        try {
          const parsed = JSON.parse(value) as Expectation;
          if (typeof parsed.match !== "boolean") throw new Error('"match" must be true or false');
          pending = { expect: parsed, lineNo };
        } catch (err) {
          errors.push(`${where}: bad expect JSON: ${(err as Error).message}`);
          pending = null;
        }
      } else if (key === "reference") {
        const t = Date.parse(value.trim());
        if (Number.isNaN(t)) errors.push(`${where}: bad reference time ${JSON.stringify(value)}`);
        else referenceTime = t;
      } else {
        spec = value.trim();
      }
      return;
    }
    if (!pending) {
      errors.push(`${where}: log line has no "# expect:" line before it`);
      return;
    }
    cases.push({ lineNo, line, spec, referenceTime, expect: pending.expect });
    pending = null;
  });
  if (pending) errors.push(`${name}.log: expect on line ${(pending as { lineNo: number }).lineNo} has no log line`);
  return { cases, errors };
}

function describeResult(r: FilterResult): string {
  if (r.status !== "matched") return r.status === "rejected" ? `rejected (${r.why})` : r.status;
  const m = r.match;
  const time = m.time === null ? "null" : new Date(m.time).toISOString();
  return `matched ${m.kind} host=${m.address.text} user=${m.user ?? "-"} time=${time} regex#${m.regexIndex}`;
}

/** Compares one result with its expectation; returns the mismatches as messages. */
function check(c: SampleCase, r: FilterResult): string[] {
  const e = c.expect;
  const got = describeResult(r);
  if (!e.match) return r.status === "matched" ? [`expected no match, got ${got}`] : [];
  if (r.status !== "matched") return [`expected a match, got ${got}`];
  const m = r.match;
  const problems: string[] = [];
  if (e.host !== undefined && m.address.text !== e.host) problems.push(`host: expected ${e.host}`);
  if (e.user !== undefined && m.user !== e.user) problems.push(`user: expected ${JSON.stringify(e.user)}`);
  if ((e.kind ?? "failure") !== m.kind) problems.push(`kind: expected ${e.kind ?? "failure"}`);
  if (e.time !== undefined) {
    const want = Date.parse(e.time);
    if (Number.isNaN(want)) problems.push(`time: bad expected time ${e.time}`);
    else if (m.time !== want) problems.push(`time: expected ${new Date(want).toISOString()}`);
  }
  return problems.map((p) => `${p}; got ${got}`);
}

const builtins = listBuiltinFilters();

describe("built-in filter samples", () => {
  it("has built-in filters", () => {
    expect(builtins.length).toBeGreaterThan(0);
  });

  it("gives the built-in VoIP filters needles for the byte-level scan", () => {
    for (const name of ["asterisk", "freepbx", "freeswitch", "fusionpbx", "kamailio", "sshd"])
      expect(resolveFilter(name).lineNeedles?.length, name).toBeGreaterThan(0);
  });

  for (const name of builtins) {
    it(`${name}: every regex runs on RE2 alone (bounded time, no backtracking fallback)`, () => {
      const f = resolveFilter(name);
      const slow = [...f.failregex, ...f.successregex, ...f.ignoreregex].filter(
        (r) => translatePythonRegex(expandFail2banTags(r)).re2 === null,
      );
      expect(slow, `not RE2-expressible:\n${slow.join("\n")}`).toEqual([]);
    });

    it(`${name}: every sample line matches its expectation`, () => {
      const file = `${SAMPLES_DIR}${name}.log`;
      expect(existsSync(file), `missing sample file filters/samples/${name}.log`).toBe(true);
      const { cases, errors } = parseSamples(name, readFileSync(file, "utf8"));
      const min = MIN_CASES[name] ?? DEFAULT_MIN_CASES;
      if (cases.length < min) errors.push(`${name}.log: ${cases.length} cases, at least ${min} required`);
      const filters = new Map<string, ReturnType<typeof resolveFilter>>();
      for (const c of cases) {
        let filter = filters.get(c.spec);
        if (!filter) {
          filter = resolveFilter(c.spec);
          filters.set(c.spec, filter);
        }
        // The first look offline scans use may only turn down lines that match() misses.
        const may = filter.mayMatch?.(c.line);
        const result = filter.match(c.line, { referenceTime: c.referenceTime });
        if (may === false && result.status !== "missed")
          errors.push(`${name}.log:${c.lineNo} [${c.spec}]: mayMatch said no, match said ${result.status}`);
        // Told which needles the line holds (as the needle scan does), the filter answers the same.
        const needles = filter.lineNeedles;
        if (needles !== undefined) {
          const mask = needles.reduce((m, n, i) => (c.line.includes(n) ? m | (1 << i) : m), 0);
          if (mask === 0 && result.status !== "missed")
            errors.push(`${name}.log:${c.lineNo} [${c.spec}]: holds no needle, match said ${result.status}`);
          const hinted = filter.match(c.line, { referenceTime: c.referenceTime, needles: mask });
          if (JSON.stringify(hinted) !== JSON.stringify(result))
            errors.push(`${name}.log:${c.lineNo} [${c.spec}]: with needles ${JSON.stringify(hinted)}`);
        }
        for (const problem of check(c, result)) errors.push(`${name}.log:${c.lineNo} [${c.spec}]: ${problem}`);
      }
      expect(errors, errors.join("\n")).toEqual([]);
    });
  }
});
