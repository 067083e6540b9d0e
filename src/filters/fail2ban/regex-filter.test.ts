// The matching engine: results (matched/ignored/rejected/missed), captures, counters and bounded time.

import { describe, expect, it } from "vitest";
import { UserError } from "../../domain/errors.js";
import type { FilterResult } from "../filter.js";
import { createRegexFilter, type RegexSource } from "./regex-filter.js";

const REF = Date.UTC(2024, 10, 30);
const src = (text: string): RegexSource => ({ text, location: { file: "inline.conf", key: "failregex" } });
const ctx = { referenceTime: REF };

const filter = (defs: { fail: string[]; ignore?: string[]; success?: string[]; pref?: string; date?: string }) =>
  createRegexFilter({
    name: "t",
    failregex: defs.fail.map(src),
    ignoreregex: (defs.ignore ?? []).map(src),
    successregex: (defs.success ?? []).map(src),
    ...(defs.pref === undefined ? {} : { prefregex: src(defs.pref) }),
    ...(defs.date === undefined ? {} : { datepattern: src(defs.date) }),
  });

const addr = (r: FilterResult): string | undefined => (r.status === "matched" ? r.match.address.text : undefined);

describe("createRegexFilter", () => {
  it("reads every host tag form: IPv4, bracketed IPv6, ::ffff: mapped, and rejects host names", () => {
    const f = filter({ fail: ["^fail from <HOST> port \\d+$"] });
    expect(addr(f.match("fail from 192.0.2.1 port 5", ctx))).toBe("192.0.2.1");
    expect(addr(f.match("fail from [2001:DB8::1] port 5", ctx))).toBe("2001:db8::1");
    expect(addr(f.match("fail from 2001:db8::2 port 5", ctx))).toBe("2001:db8::2");
    expect(addr(f.match("fail from ::ffff:192.0.2.3 port 5", ctx))).toBe("192.0.2.3");
    expect(f.match("fail from sip.example.com port 5", ctx)).toMatchObject({ status: "rejected", regexIndex: 0 });
    expect(f.match("fail from 300.1.1.1 port 5", ctx)).toMatchObject({
      status: "rejected",
      why: expect.stringMatching(/not a valid IP/),
    });
  });

  it("supports <ADDR>, <IP4>, <IP6>, <SUBNET>, <F-ID/> and <F-ID> as the identity", () => {
    expect(addr(filter({ fail: ["^a <ADDR>$"] }).match("a 192.0.2.9", ctx))).toBe("192.0.2.9");
    expect(filter({ fail: ["^a <ADDR>$"] }).match("a host.example", ctx).status).toBe("missed");
    expect(addr(filter({ fail: ["^a <IP4>$"] }).match("a 192.0.2.9", ctx))).toBe("192.0.2.9");
    expect(addr(filter({ fail: ["^a <IP6>$"] }).match("a fe80::1", ctx))).toBe("fe80::1");
    expect(addr(filter({ fail: ["^a <SUBNET>$"] }).match("a 192.0.2.0/24", ctx))).toBe("192.0.2.0");
    expect(addr(filter({ fail: ["^id <F-ID/>$"] }).match("id 192.0.2.4", ctx))).toBe("192.0.2.4");
    expect(filter({ fail: ["^id <F-ID>\\w+</F-ID>$"] }).match("id abc", ctx)).toMatchObject({ status: "rejected" });
  });

  it("captures F-USER, F-ALT_USER and F-ID, and reports time from the line or the context", () => {
    const f = filter({ fail: ["^\\s*user <F-USER>\\S+</F-USER> from <HOST> id <F-ID>\\d+</F-ID>$", "^alt <F-ALT_USER>\\S+</F-ALT_USER> <HOST>$"] });
    expect(f.match("2024-11-21 23:45:38 user bob from 192.0.2.1 id 7", ctx)).toEqual({
      status: "matched",
      match: {
        kind: "failure",
        regexIndex: 0,
        address: { family: 4, text: "192.0.2.1" },
        user: "bob",
        failId: "7",
        time: Date.UTC(2024, 10, 21, 23, 45, 38),
      },
    });
    expect(f.match("alt eve 192.0.2.2", { referenceTime: REF, time: 1234 })).toMatchObject({
      match: { regexIndex: 1, user: "eve", time: 1234 },
    });
    expect(f.match("alt eve 192.0.2.2", ctx)).toMatchObject({ match: { time: null } });
  });

  it("strips the date before matching, as fail2ban does", () => {
    const f = filter({ fail: ["^\\[\\]\\s*NOTICE bad <HOST>$"] });
    expect(addr(f.match("[Nov 21 23:45:38] NOTICE bad 192.0.2.5", ctx))).toBe("192.0.2.5");
    // An unbounded date glued to a word: the literal "xbad" exists only once the date is cut out.
    const unb = filter({ fail: ["^xbad <HOST>$"], date: "{UNB}%H:%M:%S" });
    expect(addr(unb.match("x23:45:38bad 192.0.2.6", ctx))).toBe("192.0.2.6");
    const none = filter({ fail: ["^\\[\\]\\s*NOTICE bad <HOST>$"], date: "{NONE}" });
    expect(none.match("[Nov 21 23:45:38] NOTICE bad 192.0.2.5", ctx).status).toBe("missed");
  });

  it("matches failregexes against the prefregex's F-CONTENT, merging captures", () => {
    const f = filter({
      pref: "^\\S+ pbx\\[<F-MLFID>\\d+</F-MLFID>\\]: <F-CONTENT>.+</F-CONTENT>$",
      fail: ["^auth failed for <F-USER>\\w+</F-USER> from <HOST>$"],
    });
    expect(f.match("box pbx[7]: auth failed for al from 192.0.2.6", ctx)).toMatchObject({
      status: "matched",
      match: { user: "al", address: { text: "192.0.2.6" } },
    });
    // The failregex is anchored at the content, so it cannot match the head.
    expect(f.match("box other[7]: auth failed for al from 192.0.2.6", ctx).status).toBe("missed");
    expect(filter({ pref: "^pbx: <F-CONTENT>.+</F-CONTENT>$", fail: ["^x <HOST>$"] }).match("x 192.0.2.1", ctx).status).toBe("missed");
  });

  it("reports which failregex and ignoreregex matched, and keeps per-regex counters", () => {
    const f = filter({
      fail: ["^a <HOST>$", "^b <HOST>$"],
      ignore: ["^nothing$", "^b 10\\."],
      success: ["^ok <HOST>$"],
    });
    expect(f.match("b 10.0.0.1", ctx)).toEqual({ status: "ignored", regexIndex: 1, ignoreIndex: 1 });
    expect(f.match("b 192.0.2.1", ctx)).toMatchObject({ status: "matched", match: { regexIndex: 1, kind: "failure" } });
    expect(f.match("ok 192.0.2.2", ctx)).toMatchObject({ status: "matched", match: { regexIndex: 0, kind: "success" } });
    expect(f.match("ok host.example", ctx)).toMatchObject({ status: "rejected", kind: "success" });
    expect(f.match("nothing", ctx)).toEqual({ status: "missed" });
    expect(f.counters?.()).toEqual({
      lines: 5,
      matched: 2,
      ignored: 1,
      rejected: 1,
      missed: 1,
      timeouts: 0,
      failregexHits: [0, 1],
      successregexHits: [1],
      ignoreregexHits: [0, 1],
    });
  });

  it("prefers a failregex over a successregex matching the same line", () => {
    const f = filter({ fail: ["<HOST> failed"], success: ["^ok <HOST>"] });
    expect(f.match("ok 192.0.2.1 failed", ctx)).toMatchObject({ match: { kind: "failure" } });
  });

  it("treats <F-NOFAIL> matches as not a failure", () => {
    const f = filter({ fail: ["^<F-NOFAIL>Connection from</F-NOFAIL> <HOST>$", "^bad <HOST>$"] });
    expect(f.match("Connection from 192.0.2.1", ctx).status).toBe("missed");
    expect(f.match("bad 192.0.2.1", ctx).status).toBe("matched");
  });

  it("honours (?i) and a case-insensitive prefilter", () => {
    const f = filter({ fail: ["(?i)^AUTH FAILURE from <HOST>$"] });
    expect(addr(f.match("auth failure FROM 192.0.2.1", ctx))).toBe("192.0.2.1");
  });

  it("matches through \\r and U+2028 in attacker text, as RE2 and Python do", () => {
    const f = filter({ fail: ["^Registration from '.*' failed for '<HOST>:\\d+' - Wrong password$"] });
    for (const from of ['"a\rb"<sip:1@x>', '"a\u2028b"<sip:1@x>', '"a\u2029b\u0085"<sip:1@x>'])
      expect(addr(f.match(`Registration from '${from}' failed for '192.0.2.7:5060' - Wrong password`, ctx))).toBe(
        "192.0.2.7",
      );
  });

  it("gives the same answers to short lines (V8) and long lines (RE2)", () => {
    const f = filter({
      fail: ["(?i)^\\[\\]\\s*NOTICE\\[\\d+\\] chan_sip\\.c: Registration from '(?P<user>[^']*)' failed for '<HOST>:\\d+' - Wrong password$"],
      date: "{^LN-BEG}",
    });
    const pad = "x".repeat(3000);
    for (const user of ["bob", pad]) {
      const line = `[Nov 21 23:45:38] notice[1] CHAN_SIP.c: Registration from '${user}' failed for '192.0.2.8:5060' - WRONG password`;
      expect(f.match(line, ctx)).toEqual({
        status: "matched",
        match: { kind: "failure", regexIndex: 0, address: { family: 4, text: "192.0.2.8" }, user, time: new Date(2024, 10, 21, 23, 45, 38).getTime() },
      });
    }
  });

  it("throws located UserErrors for bad regexes", () => {
    const e = (() => {
      try {
        filter({ fail: ["^ok <HOST>$", "^bad (?<=x)+ <HOST>$"] });
      } catch (err) {
        return err as UserError;
      }
      return null;
    })();
    expect(e).toBeInstanceOf(UserError);
    expect(e?.code).toBe("SW_FILTER_REGEX");
    expect(e?.message).toMatch(/failregex #2 .*nothing to repeat/);
    expect(e?.location).toEqual({ file: "inline.conf", key: "failregex" });
  });
});

describe("bounded time", () => {
  it("bounds nested-repetition bait and (?i) bait on the V8 path (lines under 2 KiB)", () => {
    const f = filter({ fail: ["^(?:x+x+)+y <HOST>$", "(?i)^(?:a+)+b <HOST>$"] });
    const t0 = Date.now();
    expect(f.match(`${"x".repeat(1500)} 192.0.2.1`, ctx).status).toBe("missed");
    expect(f.match(`${"A".repeat(1500)}! 192.0.2.1`, ctx).status).toBe("missed");
    expect(addr(f.match("aAB 192.0.2.9", ctx))).toBe("192.0.2.9");
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(f.counters?.()).toMatchObject({ timeouts: 0 });
  });

  // Nested repetition: exponential for a backtracking engine on a near-miss.
  const bait = "a".repeat(40) + "!";
  const huge = "x".repeat(1024 * 1024);

  it("runs ReDoS bait and a 1 MiB line through RE2 without stalling", () => {
    const f = filter({ fail: ["^(a+)+$ <HOST>", "^(?:x+x+)+y <HOST>"] });
    const t0 = Date.now();
    expect(f.match(`${bait} 192.0.2.1`, ctx).status).toBe("missed");
    expect(f.match(huge, ctx).status).toBe("missed");
    expect(f.match(`${huge} 192.0.2.1`, ctx).status).toBe("missed");
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it("gives up on a backtracking regex after its time budget, reports it, and keeps going", () => {
    // The gate (lookahead dropped) is `^x+ from <HOST>`, which the bait passes; the lookahead itself is
    // exponential in JS on a run of x without a y.
    const f = createRegexFilter({
      name: "redos",
      failregex: [src("^(?!(?:x+x+)+y)x+ from <HOST>"), src("^x+ from <HOST> again$")],
      regexTimeoutMs: 20,
    });
    const t0 = Date.now();
    expect(f.match(`${"x".repeat(40)} from 192.0.2.1`, ctx)).toEqual({ status: "missed", timedOut: true });
    // A regex after the one that timed out still gets its chance.
    expect(f.match(`${"x".repeat(40)} from 192.0.2.1 again`, ctx)).toMatchObject({
      status: "matched",
      match: { regexIndex: 1 },
    });
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(f.counters?.()).toMatchObject({ timeouts: 2, missed: 1, matched: 1 });
    // Ordinary lines still match on the JS path after a timeout.
    expect(addr(f.match("xx from 192.0.2.2", ctx))).toBe("192.0.2.2");
  });

  it("keeps a 1 MiB line linear on the gated path", () => {
    const f = filter({ fail: ["^(?!foo)x+ from <HOST>$"] });
    const t0 = Date.now();
    expect(f.match(huge, ctx).status).toBe("missed");
    expect(addr(f.match(`${huge} from 192.0.2.3`, ctx))).toBe("192.0.2.3");
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});
