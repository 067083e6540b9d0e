// Date detection: the default format list, datepattern templates, anchoring, and what gets cut out.

import { describe, expect, it } from "vitest";
import { createBacktrackSandbox } from "../bounded-regex.js";
import { createDateDetector } from "./date-detector.js";

const REF = Date.UTC(2024, 10, 30, 12);
const sandbox = createBacktrackSandbox();

/** Detects with a fresh detector; returns the ISO time and the line with the date cut out. */
const detect = (pattern: string | undefined, line: string): { iso: string | null; rest: string } | null => {
  const hit = createDateDetector(pattern, sandbox).detect(line, REF);
  if (hit === null) return null;
  return {
    iso: hit.time === null ? null : new Date(hit.time).toISOString(),
    rest: line.slice(0, hit.start) + line.slice(hit.end),
  };
};

describe("default date detection", () => {
  const cases: [string, string, string][] = [
    ["2024-11-21 23:45:38 x", "2024-11-21T23:45:38.000Z", " x"],
    ["2024-11-21T23:45:38.123456+01:00 x", "2024-11-21T22:45:38.123Z", " x"],
    ["2024-11-21 23:45:38,789 x", "2024-11-21T23:45:38.789Z", " x"],
    ["[Nov 21 23:45:38] NOTICE[1] x", "2024-11-21T23:45:38.000Z", "[] NOTICE[1] x"],
    ["Nov 21 23:45:38 host x", "2024-11-21T23:45:38.000Z", " host x"],
    ["Nov  1 03:04:05 host x", "2024-11-01T03:04:05.000Z", " host x"],
    ["[2024-11-21 23:45:38.123] x", "2024-11-21T23:45:38.123Z", "[] x"],
    ["2024-11-21 23:45:38.123456 [WARNING] sofia.c:1 x", "2024-11-21T23:45:38.123Z", " [WARNING] sofia.c:1 x"],
    ["1732232738 x", "2024-11-21T23:45:38.000Z", " x"],
    ["1732232738.250 x", "2024-11-21T23:45:38.250Z", " x"],
    ['192.0.2.1 - - [21/Nov/2024:23:45:38 +0000] "GET /"', "2024-11-21T23:45:38.000Z", '192.0.2.1 - - [] "GET /"'],
    ["Thu Nov 21 23:45:38 2024 x", "2024-11-21T23:45:38.000Z", " x"],
    ["@40000000673fc6220ee6b280 x", "2024-11-21T23:45:38.250Z", " x"],
    ["21/11/2024 23:45:38 x", "2024-11-21T23:45:38.000Z", " x"],
    // A zone name in front (monit), read as an offset.
    ["[PDT Nov 21 16:45:38] error : x", "2024-11-21T23:45:38.000Z", "[] error : x"],
    ["[CEST Aug  6 10:14:52] error : x", "2024-08-06T08:14:52.000Z", "[] error : x"],
    ["[+0100 Nov 21 23:45:38] x", "2024-11-21T22:45:38.000Z", "[] x"],
    // MySQL 5, <mm/dd/yy@time>, ASSP.
    ["241121  0:04:00 [Warning] x", "2024-11-21T00:04:00.000Z", " [Warning] x"],
    ["<11/21/24@23:45:38> x", "2024-11-21T23:45:38.000Z", " x"],
    ["Nov-21-24 23:45:38 x", "2024-11-21T23:45:38.000Z", " x"],
  ];
  for (const [line, iso, rest] of cases) {
    it(`reads ${JSON.stringify(line)}`, () => {
      expect(detect(undefined, line)).toEqual({ iso, rest });
    });
  }

  it("prefers a date at the line start over an earlier template elsewhere", () => {
    expect(detect(undefined, "Nov 21 23:45:38 pbx: at 2024-01-02 03:04:05")?.iso).toBe("2024-11-21T23:45:38.000Z");
  });

  it("with {^LN-BEG} ignores dates away from the line start", () => {
    expect(detect("{^LN-BEG}", "x 2024-11-21 23:45:38")).toBeNull();
    expect(detect("{^LN-BEG}", "[2024-11-21 23:45:38] x")?.rest).toBe("[] x");
    expect(detect(undefined, "x 2024-11-21 23:45:38")?.rest).toBe("x ");
  });

  it("keeps the last template and still finds another format", () => {
    const d = createDateDetector(undefined, sandbox);
    expect(d.detect("2024-11-21 23:45:38 a", REF)?.time).toBe(Date.UTC(2024, 10, 21, 23, 45, 38));
    expect(d.detect("Nov 22 01:02:03 b", REF)?.time).toBe(Date.UTC(2024, 10, 22, 1, 2, 3));
    expect(d.detect("no date here", REF)).toBeNull();
  });

  it("reuses the previous line's date only when the match is the same", () => {
    const d = createDateDetector(undefined, sandbox);
    const at = (line: string, ref = REF): [number, number, string | null] | null => {
      const h = d.detect(line, ref);
      return h === null ? null : [h.start, h.end, h.time === null ? null : new Date(h.time).toISOString()];
    };
    expect(at("[Nov 21 23:45:38] NOTICE a")).toEqual([1, 16, "2024-11-21T23:45:38.000Z"]);
    expect(at("[Nov 21 23:45:38] NOTICE b")).toEqual([1, 16, "2024-11-21T23:45:38.000Z"]);
    // Same start, longer match: the fraction and the year belong to the date.
    expect(at("[Nov 21 23:45:38.250] c")).toEqual([1, 20, "2024-11-21T23:45:38.250Z"]);
    expect(at("[Nov 21 23:45:38 2023] d")).toEqual([1, 21, "2023-11-21T23:45:38.000Z"]);
    expect(at("[Nov 21 23:45:38] e")).toEqual([1, 16, "2024-11-21T23:45:38.000Z"]);
    expect(at("Nov 21 23:45:38 f")).toEqual([0, 15, "2024-11-21T23:45:38.000Z"]);
    // A new reference time recomputes the year of a year-less date.
    expect(at("Nov 21 23:45:38 g", Date.UTC(2026, 0, 5))).toEqual([0, 15, "2025-11-21T23:45:38.000Z"]);
    expect(at("x [Nov 21 23:45:38] h")?.[0]).toBe(3);
  });

  it("does not stall on a 1 MiB line", () => {
    const t0 = Date.now();
    expect(createDateDetector(undefined, sandbox).detect("9".repeat(1 << 20), REF)).toBeNull();
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});

describe("datepattern", () => {
  it("reads strptime directives and literal %%", () => {
    expect(detect("^%Y%m%d %H%M%S%%", "20241121 234538% x")).toEqual({ iso: "2024-11-21T23:45:38.000Z", rest: " x" });
    expect(detect("%d.%m.%y %I:%M:%S %p", "t=21.11.24 11:45:38 PM x")?.iso).toBe("2024-11-21T23:45:38.000Z");
    expect(detect("%j/%Y %H:%M", "326/2024 23:45 x")?.iso).toBe("2024-11-21T23:45:00.000Z");
    expect(detect("%B %d %Y %H:%M:%S %Z", "November 21 2024 23:45:38 UTC")?.iso).toBe("2024-11-21T23:45:38.000Z");
    expect(detect("%a, %d %b %Y %H:%M:%S %z", "Thu, 21 Nov 2024 23:45:38 -0130")?.iso).toBe("2024-11-22T01:15:38.000Z");
    expect(detect("%s", "ts 1732232738 x")?.iso).toBe("2024-11-21T23:45:38.000Z");
  });

  it("anchors with {^LN-BEG} and ^, and honours word boundaries otherwise", () => {
    expect(detect("{^LN-BEG}%H:%M:%S", "[23:45:38] x")?.rest).toBe("[] x");
    expect(detect("^%H:%M:%S", "[23:45:38] x")).toBeNull();
    expect(detect("%H:%M:%S", "a123:45:38 x")).toBeNull();
    expect(detect("{UNB}%H:%M:%S", "a23:45:38 x")?.rest).toBe("a x");
  });

  it("tries several patterns, one per line, and knows Epoch, LEPOCH, TAI64N and {NONE}", () => {
    expect(detect("^%Y-%m-%d\n^%d/%m/%Y", "21/11/2024 x")?.iso).toBe("2024-11-21T00:00:00.000Z");
    expect(detect("Epoch", "1732232738 x")?.iso).toBe("2024-11-21T23:45:38.000Z");
    expect(detect("{^LN-BEG}EPOCH", "[1732232738] x")?.rest).toBe("[] x");
    expect(detect("LEPOCH", "1732232738123 x")?.iso).toBe("2024-11-21T23:45:38.123Z");
    expect(detect("TAI64N", "@40000000673fc62200000000 x")?.rest).toBe(" x");
    expect(createDateDetector("{NONE}", sandbox).enabled).toBe(false);
  });

  it("refuses unknown directives, a date group inside another group and unbalanced parentheses", () => {
    expect(() => createDateDetector("%Q", sandbox)).toThrow(/unknown date directive %Q/);
    expect(() => createDateDetector("^(?:x(%H:%M:%S))", sandbox)).toThrow(/inside another group/);
    expect(() => createDateDetector("^x(%H:%M:%S", sandbox)).toThrow(/unbalanced/);
  });

  it("reads {DATE} as each default format in its place", () => {
    // fail2ban's apache-*.conf, recidive.conf, murmur.conf and tine20.conf spell their dates so.
    const clf = '192.0.2.1 - - [21/Nov/2024:23:45:38 +0000] "GET /"';
    expect(detect("^[^\\[]*\\[({DATE})", clf)).toEqual({ iso: "2024-11-21T23:45:38.000Z", rest: '192.0.2.1 - - [] "GET /"' });
    const recidive = "2024-11-21 23:45:38,123 fail2ban.actions [811]: NOTICE [sshd] Ban 192.0.2.1";
    expect(detect("^{DATE}", recidive)).toEqual({
      iso: "2024-11-21T23:45:38.123Z",
      rest: " fail2ban.actions [811]: NOTICE [sshd] Ban 192.0.2.1",
    });
    expect(detect("^<W>{DATE}", "<W>2024-11-21 23:45:38.021 1 => <1:(-1)> Rejected connection")?.rest).toBe(
      // No group: as in fail2ban, the whole match is the date, marker included.
      " 1 => <1:(-1)> Rejected connection",
    );
    expect(detect("^{date}", "Nov 21 23:45:38 host x")?.iso).toBe("2024-11-21T23:45:38.000Z");
    // Anchored as the line says: a date further on is not taken.
    expect(detect("^{DATE}", "x 2024-11-21 23:45:38")).toBeNull();
    // An escaped placeholder is literal text.
    expect(detect("^\\{DATE\\}", "{DATE} x")?.rest).toBe(" x");
  });

  it("cuts out only the pattern's unnamed group, the date, and matches the text around it", () => {
    const p = "^(?:=[^=]+={3,} )?(%ExY(?P<_sep>[-/.])%m(?P=_sep)%d[T ]%H:%M:%S(?:[.,]%f)?(?:\\s*%z)?)";
    expect(detect(p, "=INFO REPORT==== 2024-11-21 23:45:38 ===")).toEqual({
      iso: "2024-11-21T23:45:38.000Z",
      rest: "=INFO REPORT====  ===",
    });
    expect(detect(p, "2024/11/21 23:45:38 x")?.rest).toBe(" x");
    // The separator must repeat (a backreference): 2024-11/21 is no date.
    expect(detect(p, "2024-11/21 23:45:38 x")).toBeNull();
    // Escaped and bracketed parentheses, and flag groups, are not the date group.
    expect(detect("^\\((%H:%M:%S)\\)", "(12:00:01) x")?.rest).toBe("() x");
    expect(detect("^[(](%H:%M:%S)[)]", "(12:00:01) x")?.rest).toBe("() x");
    expect(detect("^x[]](%H:%M:%S)", "x]12:00:01 y")?.rest).toBe("x] y");
    expect(detect("^(?i)ts=(%H:%M:%S)", "TS=12:00:01 y")?.rest).toBe("TS= y");
    // An empty group: the line has its marker and no date to cut.
    expect(detect("^I\\(()**", "I(<0.1.0>:ejabberd_c2s:1) : x")).toEqual({ iso: null, rest: "I(<0.1.0>:ejabberd_c2s:1) : x" });
  });

  it("reads {^LN-BEG} and {DEFAULT} among other lines as the default formats", () => {
    // fail2ban's apache-badbots.conf: a {DATE} line, then the defaults at the line start.
    const p = "^[^\\[]*\\[({DATE})\n{^LN-BEG}";
    expect(detect(p, '192.0.2.1 - - [21/Nov/2024:23:45:38 +0000] "GET /"')?.rest).toBe('192.0.2.1 - - [] "GET /"');
    expect(detect(p, "2024-11-21 23:45:38 x")?.rest).toBe(" x");
    expect(detect(p, "x 2024-11-21 23:45:38")).toBeNull();
    expect(detect("^x=(%H)\n{DEFAULT}", "y 2024-11-21 23:45:38")?.rest).toBe("y ");
  });

  it("drops a word boundary marked ** and adds none after $, \\b or \\s", () => {
    expect(detect("%H:%M:%S", "23:45:38x rest")).toBeNull();
    expect(detect("%H:%M:%S**", "23:45:38x rest")?.rest).toBe("x rest");
    expect(detect("**%H:%M:%S", "a23:45:38 x")?.rest).toBe("a x");
    expect(detect("^%H:%M:%S\\s", "23:45:38 x")?.rest).toBe("x");
    expect(detect("^WARNING:()**", "WARNING: Authentication attempt")).toEqual({
      iso: null,
      rest: "WARNING: Authentication attempt",
    });
  });
});
