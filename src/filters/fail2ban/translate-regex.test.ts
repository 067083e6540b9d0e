// Python regex → RE2 / gate / JS translation, and the patterns refused with a reason.

import RE2 from "re2";
import { describe, expect, it } from "vitest";
import { compileLinearRegExp } from "../bounded-regex.js";
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

describe("the linear form (V8's linear-time fallback, no flags)", () => {
  const linear = (py: string): RegExp => {
    const re = compileLinearRegExp(translatePythonRegex(py).linear);
    if (re === null) throw new Error(`no linear form for ${py}`);
    return re;
  };

  it("spells (?i) and (?i:...) as character classes, matching both cases as RE2 does", () => {
    const t = translatePythonRegex("(?i)^auth failed for (?P<user>[a-z]+)$");
    expect(t.linear).toBe("^[Aa][Uu][Tt][Hh] [Ff][Aa][Ii][Ll][Ee][Dd] [Ff][Oo][Rr] ([a-zA-Z\u212a\u017f]+)$");
    const re = linear("(?i)^auth failed for (?P<user>[a-z]+)$");
    expect(re.flags).toBe("");
    for (const line of ["auth failed for bob", "AUTH FAILED FOR BOB", "Auth Failed For Bob", "auth failed for \u212aim"])
      expect([line, re.test(line)]).toEqual([line, new RE2(t.re2 as string, "u").test(line)]);
    const scoped = linear("^x(?i:Ab)y$");
    expect(["xaby", "xABy", "XABy", "xABY"].map((l) => scoped.test(l))).toEqual([true, true, false, false]);
  });

  it("keeps (?i) ReDoS bait bounded (the i flag itself would disable the fallback)", () => {
    const re = linear("(?i)^(x+x+)+y$");
    const t0 = Date.now();
    expect(re.test(`${"X".repeat(40)}!`)).toBe(false);
    expect(re.test("xXxY")).toBe(true);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it("reads `.` and \\s as RE2 does, so a \\r or U+2028 in attacker text cannot hide a line", () => {
    const re = linear("^from '.*' failed for (?P<ip>\\S+)$");
    expect(re.exec("from 'a\rb\u2028c' failed for 192.0.2.1")?.[1]).toBe("192.0.2.1");
    expect(re.test("from 'a\nb' failed for x")).toBe(false);
    expect(linear("^a\\sb$").test("a\vb")).toBe(false); // RE2's \s has no \v
    expect(linear("(?s)^a.b$").test("a\nb")).toBe(true);
    expect(linear("\\Ax\\Z").test("x")).toBe(true);
  });

  it("spells nested counted repeats out so that V8 accepts them (as in <IP6>)", () => {
    const re = linear("^(?:[0-9a-f]{1,4}::?|:){1,7}[0-9a-f]{1,4}$");
    expect(re.test("2001:db8::1")).toBe(true);
    expect(re.test("1:2:3:4:5:6:7:8")).toBe(true);
    expect(re.test("1:2:3:4:5:6:7:8:9")).toBe(false);
    expect(re.test("12345::1")).toBe(false);
    expect(linear("^a{2,3}?").exec("aaa")?.[0]).toBe("aa");
    expect(linear("^(?:ab){2,}$").test("ababab")).toBe(true);
  });

  it("spells out only the outer repeat: a repeat holding no counted repeat stays as written", () => {
    // The inner {1,4} is kept in each copy of the outer {1,7}; a lone \d{1,3} is kept whole.
    const ip6 = translatePythonRegex("^(?:[0-9a-f]{1,4}::?|:){1,7}$").linear as string;
    expect(ip6.match(/\{1,4\}/g)).toHaveLength(7);
    expect(ip6).not.toContain("{1,7}");
    expect(translatePythonRegex("^\\d{1,3}(?:x){2,}$").linear).toBe("^\\d{1,3}(?:x){2,}$");
    const quad = linear("^(?:\\d{1,3}\\.){3}\\d{1,3}$");
    expect(quad.test("192.168.10.200")).toBe(true);
    expect(quad.test("1922.168.10.200")).toBe(false);
  });

  it("has no linear form where it could not mean exactly what RE2 means", () => {
    expect(translatePythonRegex("(?i)straße").linear).toBeNull();
    expect(translatePythonRegex("(?i)[à-ÿ]").linear).toBeNull();
    expect(translatePythonRegex("[\\Sx]").linear).toBeNull();
    expect(translatePythonRegex("[😀-😂]").linear).toBeNull();
    expect(translatePythonRegex("a(?=b)").linear).not.toBeNull(); // expressible; V8 then refuses to run it linearly
    expect(compileLinearRegExp(translatePythonRegex("a(?=b)").linear)).toBeNull();
  });
});
