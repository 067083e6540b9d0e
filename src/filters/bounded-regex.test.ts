// Bounded regex execution: exact RE2, gated backtracking under a vm timeout, and hostile input.

import { describe, expect, it } from "vitest";
import {
  compileBoundedRegex,
  compileLinearRegExp,
  createBacktrackSandbox,
  linearFallbackWorks,
  LONG_LINE,
  TIMED_OUT,
} from "./bounded-regex.js";

const sandbox = createBacktrackSandbox(20);

describe("compileBoundedRegex", () => {
  it("uses RE2 alone when an exact translation exists", () => {
    const re = compileBoundedRegex({ re2: "^a(?P<n>\\d+)$", gate: "^a(?P<n>\\d+)$", js: "^a(?<n>\\d+)$", jsFlags: "" }, sandbox);
    expect(re.exact).toBe(true);
    expect(re.exec("a42")).toEqual({ index: 0, text: "a42", groups: { n: "42" } });
    expect(re.test("b42")).toBe(false);
  });

  it("runs JS only on lines the gate lets through", () => {
    const re = compileBoundedRegex({ re2: null, gate: "^a\\d+$", js: "^a(?!0)\\d+$", jsFlags: "" }, sandbox);
    expect(re.exact).toBe(false);
    expect(re.test("a12")).toBe(true);
    expect(re.test("a012")).toBe(false); // gate passes, JS refuses
    expect(re.test("b12")).toBe(false); // gate refuses
  });

  it("interrupts catastrophic backtracking and stays usable", () => {
    const re = compileBoundedRegex({ re2: null, gate: "^a+$", js: "^(?=a)(a+)+$", jsFlags: "" }, sandbox);
    const t0 = Date.now();
    // The gate refuses the classic bait (no match possible), so it never reaches JS.
    expect(re.test(`${"a".repeat(40)}!`)).toBe(false);
    const lookahead = compileBoundedRegex({ re2: null, gate: "^a+", js: "^(?!(a+)+b)a+", jsFlags: "" }, sandbox);
    expect(lookahead.exec(`${"a".repeat(40)}!`)).toBe(TIMED_OUT);
    expect(lookahead.exec("aaa")).toMatchObject({ text: "aaa" });
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it("rejects patterns that neither engine accepts at compile time", () => {
    expect(() => compileBoundedRegex({ re2: null, gate: "(", js: "a", jsFlags: "" }, sandbox)).toThrow();
    expect(() => compileBoundedRegex({ re2: null, gate: "a", js: "(", jsFlags: "" }, sandbox)).toThrow();
  });
});

describe("V8's linear-time fallback", () => {
  // Not benchmarks: each bound is seconds where an unprotected backtracking engine would need minutes.
  it("works in this Node: the self-test passes and classic bait returns at once", () => {
    expect(linearFallbackWorks()).toBe(true);
    const re = compileLinearRegExp("^(a+)+$");
    expect(re).not.toBeNull();
    const t0 = Date.now();
    expect(re?.test(`${"a".repeat(40)}!`)).toBe(false);
    expect(re?.test("aaaa")).toBe(true);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it("refuses patterns the linear engine cannot run (they keep RE2 or the vm path)", () => {
    expect(compileLinearRegExp("a(?=b)")).toBeNull();
    expect(compileLinearRegExp("(a)\\1")).toBeNull();
    expect(compileLinearRegExp(null)).toBeNull();
    const re = compileBoundedRegex({ re2: null, gate: "^a+", js: "^(?!(a+)+b)a+", jsFlags: "", linear: "^(?!(a+)+b)a+" }, sandbox);
    expect(re.linear).toBe(false);
    expect(re.exec(`${"a".repeat(40)}!`)).toBe(TIMED_OUT);
  });

  it("runs short lines on V8 and lines longer than LONG_LINE on RE2", () => {
    // Deliberately different patterns, to see which engine answered.
    const re = compileBoundedRegex({ re2: "^a+$", gate: "^a+$", js: "^b+$", jsFlags: "", linear: "^b+$" }, sandbox);
    expect(re.linear).toBe(true);
    expect(re.exact).toBe(true);
    expect(re.test("b".repeat(LONG_LINE))).toBe(true);
    expect(re.test("a".repeat(LONG_LINE))).toBe(false);
    expect(re.test("a".repeat(LONG_LINE + 1))).toBe(true);
    expect(re.exec("a".repeat(LONG_LINE + 1), Buffer.from("a".repeat(LONG_LINE + 1)))).toMatchObject({ index: 0 });
    expect(re.test("b".repeat(LONG_LINE + 1))).toBe(false);
  });

  it("bounds nested repetition on the JS path and 1 MiB lines on RE2", () => {
    const nested = { re2: "^(?:x+x+)+y", gate: "^(?:x+x+)+y", js: "^(?:x+x+)+y", jsFlags: "", linear: "^(?:x+x+)+y" };
    const re = compileBoundedRegex(nested, sandbox);
    expect(re.linear).toBe(true);
    const t0 = Date.now();
    expect(re.test("x".repeat(LONG_LINE))).toBe(false);
    expect(re.test(`${"x".repeat(100)}y`)).toBe(true);
    const spaced = "^(?:\\s*\\S+\\s*)*:$";
    const big = "a ".repeat(1 << 19);
    const re2 = compileBoundedRegex({ re2: spaced, gate: spaced, js: spaced, jsFlags: "", linear: spaced }, sandbox);
    expect(re2.test(big, Buffer.from(big))).toBe(false);
    expect(re2.test(big)).toBe(false);
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});
