// Python regex → RE2 / gate / JS translation, and the patterns refused with a reason.

import RE2 from "re2";
import { describe, expect, it } from "vitest";
import { RegexSyntaxError } from "./python-regex.js";
import { translatePythonRegex } from "./translate-regex.js";

const both = (py: string, line: string): { re2: boolean | null; js: boolean } => {
  const t = translatePythonRegex(py);
  return {
    re2: t.re2 === null ? null : new RE2(t.re2, "u").test(line),
    js: new RegExp(t.js, t.jsFlags).test(line),
  };
};

const refusal = (py: string): string => {
  try {
    translatePythonRegex(py);
  } catch (e) {
    if (e instanceof RegexSyntaxError) return e.message;
    throw e;
  }
  throw new Error(`accepted: ${py}`);
};

describe("translatePythonRegex", () => {
  it("keeps named groups for both engines and backreferences for JS only", () => {
    const t = translatePythonRegex("(?P<a>x+)-(?P=a)");
    expect(t.re2).toBeNull();
    expect(t.re2Why).toMatch(/backreference/);
    expect(t.js).toBe("(?<a>x+)-\\k<a>");
    expect(t.gate).toBe("(?P<a>x+)-(?s:.*)");
    expect(new RegExp(t.js).exec("xx-xx")?.groups?.a).toBe("xx");
    expect(new RegExp(t.js).test("xx-y")).toBe(false);
    expect(new RE2(t.gate, "u").test("xx-y")).toBe(true); // gate over-approximates
  });

  it("drops lookarounds from the gate but keeps them for JS", () => {
    const t = translatePythonRegex('^a(?!b)\\w(?<=c)');
    expect(t.re2).toBeNull();
    expect(t.gate).toBe("^a\\w");
    expect(new RegExp(t.js).test("ac")).toBe(true);
    expect(new RegExp(t.js).test("ab")).toBe(false);
  });

  it("applies an inline (?i) globally wherever it appears, as Python before 3.11 does", () => {
    expect(both("abc(?i)", "ABC")).toEqual({ re2: true, js: true });
    expect(both("(?i)abc", "xAbC")).toEqual({ re2: true, js: true });
  });

  it("turns ((?i)x) and (?:(?i)x) into a scoped flag like fail2ban, and scopes (?i:...)", () => {
    for (const py of ["A((?i)b)C", "A(?:(?i)b)C", "A(?i:b)C"]) {
      expect(both(py, "ABC")).toEqual({ re2: true, js: true });
      expect(both(py, "aBC")).toEqual({ re2: false, js: false });
    }
    // `((?i)b)` loses its capture, so the next group is number 1.
    expect(translatePythonRegex("((?i)b)(c)").groupNames).toEqual([undefined]);
  });

  it("handles scoped flags in the JS translation without JS modifiers", () => {
    const t = translatePythonRegex("(?i:[a-c]x)y(?=z)");
    expect(t.re2).toBeNull();
    const re = new RegExp(t.js, t.jsFlags);
    expect(re.test("BXyz")).toBe(true);
    expect(re.test("BXYz")).toBe(false);
    const s = new RegExp(translatePythonRegex("(?s:a.b)(?=c)").js);
    expect(s.test("a\nbc")).toBe(true);
  });

  it("reads verbose patterns, comments and \\A \\Z", () => {
    expect(both("(?x) a b  # comment\n c", "abc")).toEqual({ re2: true, js: true });
    expect(both("a(?#note)b", "ab")).toEqual({ re2: true, js: true });
    expect(both("\\Aab\\Z", "ab")).toEqual({ re2: true, js: true });
    expect(both("\\Aab\\Z", "abc")).toEqual({ re2: false, js: false });
    expect(both("x[ ]#y", "x #y")).toEqual({ re2: true, js: true });
    // A scope can switch verbose mode off again.
    expect(both("(?x) a (?-x:b c)", "ab c")).toEqual({ re2: true, js: true });
  });

  it("reads Python's literal braces, {,n}, escapes and classes", () => {
    expect(both("a{,2}b", "aab")).toEqual({ re2: true, js: true });
    expect(both("a{x}", "a{x}")).toEqual({ re2: true, js: true });
    expect(both("[]a]+", "]a")).toEqual({ re2: true, js: true });
    expect(both("[\\d\\-.]+x", "1-2.x")).toEqual({ re2: true, js: true });
    expect(both("\\x41\\u0042\\101", "ABA")).toEqual({ re2: true, js: true });
    expect(both("a\\/b\\_c", "a/b_c")).toEqual({ re2: true, js: true });
    expect(both("(\\d)\\1", "11")).toEqual({ re2: null, js: true });
  });

  it("refuses what Python or our engines cannot run, saying why", () => {
    expect(refusal("a++")).toMatch(/possessive/);
    expect(refusal("(?>a)")).toMatch(/atomic/);
    expect(refusal("(?(1)a|b)")).toMatch(/conditional/);
    expect(refusal("(a")).toMatch(/missing \)/);
    expect(refusal("a)")).toMatch(/unbalanced/);
    expect(refusal("*a")).toMatch(/nothing to repeat/);
    expect(refusal("\\q")).toMatch(/bad escape/);
    expect(refusal("(?P<x>a)(?P<x>b)")).toMatch(/redefinition/);
    expect(refusal("(?P=nope)")).toMatch(/unknown group/);
    expect(refusal("(a\\1)")).toMatch(/open group/);
    expect(refusal("[a")).toMatch(/unterminated/);
    expect(refusal("\\N{DIGIT ONE}")).toMatch(/named unicode/);
  });

  it("widens repeats above RE2's limit in the gate only", () => {
    const t = translatePythonRegex("a{2000}");
    expect(t.re2).toBeNull();
    expect(t.gate).toBe("a{1000,}");
    expect(new RegExp(t.js).test("a".repeat(2000))).toBe(true);
  });
});
