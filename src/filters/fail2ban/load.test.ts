// Loading fail2ban filter files: includes, .local overrides, mode parameters, and located errors.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UserError } from "../../domain/errors.js";
import type { FilterResult } from "../filter.js";
import { loadFilterFile } from "./load.js";

/** Temporary directories of this file, removed at its end. */
const made: string[] = [];
const tempDir = (prefix: string): string => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
};
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

const REF = Date.UTC(2024, 10, 30);
let dir: string;

const write = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

/** A small common.conf in the style of fail2ban's: DEFAULT values, a logtype switch, an after-include. */
const COMMON = `[INCLUDES]
after = common.local

[DEFAULT]
_daemon = \\S*
__pid_re = (?:\\[\\d+\\])
logtype = file
__prefix_line = <lt_<logtype>/__prefix_line>
datepattern = <lt_<logtype>/datepattern>

[lt_file]
__prefix_line = \\s*(?:\\S+\\s+)?%(_daemon)s%(__pid_re)s?:\\s+
datepattern = {^LN-BEG}

[lt_journal]
__prefix_line = \\s*(?:\\S+\\s+)?%(_daemon)s%(__pid_re)s?:\\s+
datepattern = {NONE}
`;

const err = (f: () => unknown): UserError => {
  try {
    f();
  } catch (e) {
    if (e instanceof UserError) return e;
    throw e;
  }
  throw new Error("no error");
};

const host = (r: FilterResult): string | null => (r.status === "matched" ? r.match.address.text : null);

beforeAll(() => {
  dir = tempDir("sw-f2b-load-");
  write("common.conf", COMMON);
  write(
    "pbx.conf",
    `[INCLUDES]
before = common.conf

[Definition]
_daemon = pbx
failregex = ^%(__prefix_line)sauth failed from <HOST>$
            <mdre-<mode>>
mdre-normal =
mdre-ddos = ^%(__prefix_line)sflood from <HOST>$
mode = normal
ignoreregex = ^%(__prefix_line)sauth failed from 10\\.
journalmatch = _SYSTEMD_UNIT=pbx.service
`,
  );
});

describe("loadFilterFile", () => {
  it("reads includes and interpolates the including filter's _daemon into the shared prefix", () => {
    const f = loadFilterFile(join(dir, "pbx.conf"));
    expect(f.name).toBe("pbx");
    expect(f.journalmatch).toBe("_SYSTEMD_UNIT=pbx.service");
    expect(f.failregex).toEqual(["^\\s*(?:\\S+\\s+)?pbx(?:\\[\\d+\\])?:\\s+auth failed from <HOST>$"]);
    const ctx = { referenceTime: REF };
    expect(host(f.match("Nov 21 23:45:38 box pbx[12]: auth failed from 192.0.2.7", ctx))).toBe("192.0.2.7");
    expect(f.match("Nov 21 23:45:38 box other[12]: auth failed from 192.0.2.7", ctx).status).toBe("missed");
    expect(f.match("Nov 21 23:45:38 box pbx[12]: auth failed from 10.1.2.3", ctx)).toEqual({
      status: "ignored",
      regexIndex: 0,
      ignoreIndex: 0,
    });
  });

  it("honours mode from parameters", () => {
    const f = loadFilterFile(join(dir, "pbx.conf"), { vars: { mode: "ddos" } });
    expect(f.failregex).toHaveLength(2);
    const r = f.match("Nov 21 23:45:38 box pbx[12]: flood from 192.0.2.8", { referenceTime: REF });
    expect(r).toMatchObject({ status: "matched", match: { regexIndex: 1 } });
  });

  it("applies a .local override and the after-include of an included file", () => {
    const sub = tempDir("sw-f2b-local-");
    writeFileSync(join(sub, "common.conf"), COMMON);
    writeFileSync(join(sub, "common.local"), "[DEFAULT]\n__pid_re = (?:<\\d+>)\n");
    writeFileSync(
      join(sub, "x.conf"),
      "[INCLUDES]\nbefore = common.conf\n[Definition]\n_daemon = x\nfailregex = ^%(__prefix_line)sbad <HOST>$\n",
    );
    writeFileSync(join(sub, "x.local"), "[Init]\nmode = extra\n[Definition]\n_daemon = xd\n");
    const f = loadFilterFile(join(sub, "x.conf"));
    expect(f.failregex[0]).toBe("^\\s*(?:\\S+\\s+)?xd(?:<\\d+>)?:\\s+bad <HOST>$");
  });

  it("finds includes in searchDirs when not beside the file", () => {
    const lib = tempDir("sw-f2b-lib-");
    const own = tempDir("sw-f2b-own-");
    writeFileSync(join(lib, "common.conf"), COMMON);
    writeFileSync(join(own, "y.conf"), "[INCLUDES]\nbefore = common.conf\n[Definition]\nfailregex = ^%(__prefix_line)sy <HOST>$\n");
    expect(() => loadFilterFile(join(own, "y.conf"))).toThrow(/included file "common.conf" not found/);
    expect(loadFilterFile(join(own, "y.conf"), { searchDirs: [lib] }).failregex[0]).toContain("\\S*");
  });

  it("names file, line and key in errors", () => {
    const missing = err(() => loadFilterFile(write("inc.conf", "[INCLUDES]\nbefore = nope.conf\n[Definition]\nfailregex = <HOST>\n")));
    expect(missing.code).toBe("SW_FILTER_NOT_FOUND");
    expect(missing.location).toMatchObject({ file: join(dir, "inc.conf"), line: 2, key: "before" });

    const bad = err(() =>
      loadFilterFile(write("bad.conf", "[Definition]\nfailregex = ^ok <HOST>$\n            ^bad (?(1)a|b) <HOST>$\n")),
    );
    expect(bad.code).toBe("SW_FILTER_REGEX");
    expect(bad.location).toMatchObject({ file: join(dir, "bad.conf"), line: 3, key: "failregex" });
    expect(bad.message).toMatch(/failregex #2 .*conditional groups/);
    expect(bad.format()).toMatch(/bad\.conf:3: failregex: /);

    const nohost = err(() => loadFilterFile(write("nohost.conf", "[Definition]\nfailregex = ^no host here$\n")));
    expect(nohost.message).toMatch(/no host group/);

    const multi = err(() => loadFilterFile(write("multi.conf", "[Definition]\nfailregex = ^a <HOST><SKIPLINES>b$\n")));
    expect(multi.message).toMatch(/SKIPLINES.*multi-line/);

    const empty = err(() => loadFilterFile(write("empty.conf", "[Definition]\nfailregex =\n")));
    expect(empty.code).toBe("SW_FILTER_SYNTAX");

    const loop = err(() => loadFilterFile(write("loop.conf", "[Definition]\nfailregex = %(a)s\na = %(failregex)s\n")));
    expect(loop.code).toBe("SW_FILTER_INTERPOLATION");
    expect(loop.location.file).toBe(join(dir, "loop.conf"));

    expect(err(() => loadFilterFile(join(dir, "absent.conf"))).code).toBe("SW_FILTER_NOT_FOUND");
  });

  it("names the modes a filter has when asked for another", () => {
    const e = err(() => loadFilterFile(join(dir, "pbx.conf"), { vars: { mode: "extra" } }));
    expect(e.code).toBe("SW_FILTER_SYNTAX");
    expect(e.message).toBe(`mode "extra" is not one of this filter's modes (ddos, normal)`);
    expect(e.location).toMatchObject({ file: join(dir, "pbx.conf"), key: "mode" });
    expect(loadFilterFile(join(dir, "pbx.conf"), { vars: { mode: "ddos" } }).failregex).toHaveLength(2);
  });

  it("reports a bad datepattern at its location", () => {
    const e = err(() =>
      loadFilterFile(write("date.conf", "[Definition]\nfailregex = ^x <HOST>$\ndatepattern = %%Q\n")),
    );
    expect(e.code).toBe("SW_FILTER_REGEX");
    expect(e.message).toMatch(/datepattern: unknown date directive %Q/);
    expect(e.location).toMatchObject({ line: 3, key: "datepattern" });
  });

  it("picks a per-log-format section by a tag naming it in any case, with its {DATE} datepattern", () => {
    // As fail2ban's guacamole.conf and apache-*.conf spell it.
    const f = loadFilterFile(
      write(
        "web.conf",
        `[Definition]
logging = access
failregex = <L_<logging>/failregex>
datepattern = <L_<logging>/datepattern>

[L_access]
failregex = ^<HOST> - \\S+ \\[\\] "POST /login" 401
datepattern = ^[^\\[]*\\[({DATE})
`,
      ),
    );
    expect(f.failregex).toEqual(['^<HOST> - \\S+ \\[\\] "POST /login" 401']);
    const r = f.match('192.0.2.9 - bob [21/Nov/2024:23:45:38 +0000] "POST /login" 401', { referenceTime: REF });
    expect(host(r)).toBe("192.0.2.9");
    expect(r.status === "matched" && r.match.time).toBe(Date.UTC(2024, 10, 21, 23, 45, 38));
  });

  it("refuses a rule that needs several lines at once, saying so where it is written", () => {
    const e = err(() =>
      loadFilterFile(
        write("multi.conf", "[Definition]\nmaxlines = 2\nfailregex = ^=INFO REPORT===\\nFailed authentication from <HOST>$\n"),
      ),
    );
    expect(e.code).toBe("SW_FILTER_REGEX");
    expect(e.message).toMatch(/needs a line break.*multi-line matching is not supported/);
    expect(e.location).toMatchObject({ line: 3, key: "failregex" });
    // A class that merely excludes line breaks is no such rule.
    expect(loadFilterFile(write("single.conf", "[Definition]\nfailregex = ^x [^\\n]* <HOST>$\n")).failregex).toHaveLength(1);
  });

  it("loads an include-less file in a nested directory by absolute path", () => {
    const nested = join(dir, "a", "b");
    mkdirSync(nested, { recursive: true });
    writeFileSync(join(nested, "z.conf"), "[Definition]\nfailregex = ^z <ADDR>$\n");
    expect(host(loadFilterFile(join(nested, "z.conf")).match("z 2001:db8::1", { referenceTime: REF }))).toBe("2001:db8::1");
  });
});
