// Bounded regex execution: exact RE2, gated backtracking under a vm timeout, and hostile input.

import { describe, expect, it } from "vitest";
import { compileBoundedRegex, createBacktrackSandbox, TIMED_OUT } from "./bounded-regex.js";

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
