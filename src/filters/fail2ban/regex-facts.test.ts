import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { BUILTIN_FILTER_DIR, listBuiltinFilters, resolveFilter } from "../resolve.js";
import {
  deriveRegexFacts,
  parseRegexFacts,
  recordRegexFacts,
  regexFacts,
  serializeRegexFacts,
  useRegexFactsTable,
  type RegexFacts,
} from "./regex-facts.js";

afterEach(() => useRegexFactsTable(undefined));

/** What the build script records: every regex of every built-in filter, in each of its modes. */
function recordBuiltins(): Map<string, RegexFacts> {
  const seen = recordRegexFacts();
  for (const name of listBuiltinFilters()) {
    const text = readFileSync(join(BUILTIN_FILTER_DIR, `${name}.conf`), "utf8");
    const modes = [...text.matchAll(/^mdre-([\w-]+)\s*=/gm)].map((m) => m[1]);
    for (const spec of [name, ...modes.map((m) => `${name}[mode=${m}]`)]) resolveFilter(spec);
  }
  useRegexFactsTable(null);
  return seen;
}

describe("regex facts table", () => {
  it("records the built-in filters' regexes and their date formats, and reads them back unchanged", () => {
    const seen = recordBuiltins();
    const texts = [...seen.keys()];
    // failregexes with their host groups, and the default date formats (named groups of the date fields).
    expect(texts.some((t) => t.includes("Registration from"))).toBe(true);
    expect(texts.some((t) => t.includes("(?P<_date>"))).toBe(true);
    // An unnamed group (undefined in groupNames, null in JSON), a case-insensitive literal, no literal.
    for (const t of ["^(\\d+) (?P<host>\\S+) x$", "(?i)^login failed <HOST>$", "^<HOST>$"]) seen.set(t, deriveRegexFacts(t));
    const back = parseRegexFacts(serializeRegexFacts(seen));
    expect(back.size).toBe(seen.size);
    for (const [text, facts] of seen) {
      expect(back.get(text)).toEqual(deriveRegexFacts(text));
      expect(back.get(text)?.groupNames).toStrictEqual(facts.groupNames);
    }
    expect(back.get("^(\\d+) (?P<host>\\S+) x$")?.groupNames).toStrictEqual([undefined, "host"]);
  });

  it("answers from the table when it holds the text, and derives what it lacks", () => {
    const text = "^failed for <HOST>$";
    const real = deriveRegexFacts(text);
    // A marked entry proves the answer came from the table.
    const marked = { ...real, js: `${real.js}(?:marked)?` };
    useRegexFactsTable(new Map([[text, marked]]));
    expect(regexFacts(text)).toBe(marked);
    expect(regexFacts("^other <HOST>$")).toEqual(deriveRegexFacts("^other <HOST>$"));
  });

  it("filters loaded through the table match as filters loaded without it", () => {
    const seen = recordBuiltins();
    const lines = [
      "[Nov 21 23:45:38] NOTICE[1234] chan_sip.c: Registration from '<sip:100@192.0.2.1>' failed for '198.51.100.7:5060' - Wrong password",
      "[2024-11-21 23:45:38.123] SECURITY[4242] res_security_log.c: SecurityEvent=\"InvalidPassword\",EventTV=\"2024-11-21T23:45:38.123+0000\",Severity=\"Error\",Service=\"PJSIP\",EventVersion=\"2\",AccountID=\"100\",SessionID=\"abc\",LocalAddress=\"IPV4/UDP/192.0.2.1/5060\",RemoteAddress=\"IPV6/UDP/2001:db8::7/5060\",Challenge=\"x\",ReceivedChallenge=\"x\",ReceivedHash=\"y\"",
      "[Nov 21 23:45:38] VERBOSE[1234] pbx.c: nothing to see",
    ];
    const ctx = { referenceTime: Date.UTC(2024, 10, 22) };
    useRegexFactsTable(null);
    const without = lines.map((l) => resolveFilter("asterisk").match(l, ctx));
    useRegexFactsTable(parseRegexFacts(serializeRegexFacts(seen)));
    const withTable = lines.map((l) => resolveFilter("asterisk").match(l, ctx));
    expect(withTable).toEqual(without);
    expect(without.map((r) => r.status)).toEqual(["matched", "matched", "missed"]);
  });
});
