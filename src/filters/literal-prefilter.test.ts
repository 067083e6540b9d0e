// Required-literal extraction and the cheap per-line candidate test built from it.

import { describe, expect, it } from "vitest";
import { parsePythonRegex } from "./fail2ban/python-regex.js";
import { expandFail2banTags } from "./fail2ban/tags.js";
import { createLiteralPrefilter, lineNeedles, requiredChars, requiredLiterals } from "./literal-prefilter.js";

const lits = (py: string): string[] | null =>
  requiredLiterals(parsePythonRegex(expandFail2banTags(py)))?.map((l) => (l.caseInsensitive ? `i:${l.text}` : l.text)) ??
  null;

describe("requiredLiterals", () => {
  it("takes the longest required run, not crossing optional parts, and splits where a date may have been", () => {
    expect(lits("^\\S+ Registration from '[^']*' failed for '<HOST>(:\\d+)?' - Wrong password$")).toEqual([
      "Registration from",
    ]);
    expect(lits("^\\[\\]\\s*NOTICE x")).toEqual(["NOTICE x"]);
    expect(lits("^(?:Host )?<HOST> failed")).toEqual(["failed"]);
    expect(lits("a(?:bcdef)?g")).toBeNull();
    expect(lits("x{3}yz")).toEqual(["xxxyz"]);
    // Twice required: a line needs two occurrences.
    const twice = requiredLiterals(parsePythonRegex("^.* from '.*\\(callid: .*\\(callid: "));
    expect(twice).toEqual([{ text: "(callid:", caseInsensitive: false, count: 2 }]);
    const p = createLiteralPrefilter([twice]);
    expect(p.begin("a (callid: x) b") && p.may(0)).toBe(false);
    expect(p.begin("a (callid: x (callid: y") && p.may(0)).toBe(true);
    // A literal required twice beats a longer one required once: far fewer lines hold it twice.
    expect(requiredLiterals(parsePythonRegex('^SecurityEv=".*?Remote=".*?Remote="'))).toEqual([
      { text: "Remote=", caseInsensitive: false, count: 2 },
    ]);
    expect(lits('^SecurityEventXYZ=".*?Remote=".*?Remote="')).toEqual(["SecurityEventXYZ="]);
  });

  it("counts repeated literals as non-overlapping occurrences, as `lit[\\s\\S]*?lit` would", () => {
    for (const [text, count] of [
      ["aba", 2],
      ["aaa", 2],
      ["xx", 3],
    ] as const) {
      const p = createLiteralPrefilter([[{ text, caseInsensitive: false, count }]]);
      const re = new RegExp(Array<string>(count).fill(text).join("[\\s\\S]*?"));
      for (const line of ["", "a", "ab", "aba", "abab", "ababa", "abababa", "aaa", "aaaa", "aaaaa", "aaaaaa", "xx", "xxx", "xxxxx", "xxxxxx", "xx-xx-xx", "axxbxx"]) {
        expect(p.begin(line) && p.may(0), `${text}×${count} in ${line}`).toBe(re.test(line));
      }
    }
  });

  it("gives one literal per top-level branch, or none when a branch has none", () => {
    expect(lits("^foo <HOST>|^barbaz x")).toEqual(["foo", "barbaz x"]);
    expect(lits("^foo <HOST>|^\\d+")).toBeNull();
  });

  it("marks literals under (?i) as case-insensitive", () => {
    expect(lits("(?i)Auth Failure <HOST>")).toEqual(["i:auth failure"]);
    expect(lits("x(?i:Abc)defg")).toEqual(["i:xabcdefg"]);
  });
});

describe("createLiteralPrefilter", () => {
  it("marks rules whose literal occurs, and rules without literal always", () => {
    const p = createLiteralPrefilter([
      [{ text: "failed for", caseInsensitive: false }],
      [{ text: "wrong", caseInsensitive: true }],
      null,
    ]);
    const out = new Uint8Array(3);
    expect(p.candidates("x failed for y", out)).toBe(true);
    expect([...out]).toEqual([1, 0, 1]);
    const q = createLiteralPrefilter([[{ text: "failed for", caseInsensitive: false }], [{ text: "wrong", caseInsensitive: true }]]);
    const o2 = new Uint8Array(2);
    expect(q.candidates("WRONG password", o2)).toBe(true);
    expect([...o2]).toEqual([0, 1]);
    expect(q.candidates("nothing here", o2)).toBe(false);
  });
});

describe("requiredChars", () => {
  const chars = (py: string): string => String.fromCharCode(...requiredChars(parsePythonRegex(py)));
  it("keeps characters every match holds: not optional ones, only those shared by all branches", () => {
    expect(chars("^ab(?:c)?d+[e]f*")).toBe("abde");
    expect(chars("x(?:yz|zy)|zx")).toBe("xz");
    expect(chars("(?i)Ab-c")).toBe("-");
    expect(chars("a(?i:b)C")).toBe("Ca");
  });
});

describe("two-stage prefilter", () => {
  const lit = (text: string, caseInsensitive = false) => [{ text, caseInsensitive }];
  it("answers per rule after begin, whichever key characters sampling picks", () => {
    const rules = [lit("failed for"), lit("wrong", true), lit("Rejecting")];
    const chars = [[..."failed for'"], [], [..."Rejcting"]].map((cs) => cs.map((c) => c.charCodeAt(0)));
    const p = createLiteralPrefilter(rules, chars);
    const lines = ["x failed for 'y'", "WRONG pass", "nothing", "Rejecting x", "failed fo'r"];
    const expected = [
      [true, false, false],
      [false, true, false],
      [false, false, false],
      [false, false, true],
      [false, false, false],
    ];
    // Thousands of lines so that the keys are chosen again from samples several times.
    for (let round = 0; round < 3000; round++) {
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i] as string;
        const any = p.begin(line);
        const per = [0, 1, 2].map((r) => any && p.may(r));
        expect(per).toEqual(expected[i]);
        expect(any || !expected[i]?.some(Boolean)).toBe(true);
      }
    }
  });

  it("lets the Kelvin sign and long s through a case-insensitive literal, as RE2 folds them", () => {
    const p = createLiteralPrefilter([lit("kiss", true)]);
    expect(p.begin("\u212aiß") && p.may(0)).toBe(false);
    expect(p.begin("\u212ai\u017fs") && p.may(0)).toBe(true);
  });
});

describe("lineNeedles", () => {
  const cs = (text: string) => ({ text, caseInsensitive: false });
  it("keeps every rule's literals, minus those that hold a shorter one", () => {
    expect(lineNeedles([[cs("failed for")], [cs("failed"), cs("Registration from")], [cs("failed")]])).toEqual([
      "failed",
      "Registration from",
    ]);
  });
  it("has none when a rule has no literal or a case-insensitive one", () => {
    expect(lineNeedles([[cs("failed")], null])).toBeUndefined();
    expect(lineNeedles([[cs("failed")], [{ text: "auth", caseInsensitive: true }]])).toBeUndefined();
  });
  it("remembers the memo of a line asked about again, as a copy", () => {
    const p = createLiteralPrefilter([[cs("needle")]]);
    const line = "a line with a needle in it";
    expect(p.begin(line.slice(2)) && p.may(0)).toBe(true);
    expect(p.begin(`${"a line with a needle in it".slice(2)}`) && p.may(0)).toBe(true);
    expect(p.begin("no such thing") && p.may(0)).toBe(false);
  });
});
