// Required-literal extraction and the cheap per-line candidate test built from it.

import { describe, expect, it } from "vitest";
import { parsePythonRegex } from "./fail2ban/python-regex.js";
import { expandFail2banTags } from "./fail2ban/tags.js";
import { createLiteralPrefilter, requiredLiterals } from "./literal-prefilter.js";

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
