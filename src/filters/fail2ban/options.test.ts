// Option interpolation across sections and files: %(x)s, %(sec/x)s, %(known/x)s, <tag>, cycles.

import { describe, expect, it } from "vitest";
import { UserError } from "../../domain/errors.js";
import { parseIni } from "./ini.js";
import { createOptionResolver } from "./options.js";

const common = parseIni(
  `[DEFAULT]
_daemon = \\S*
__pid_re = (?:\\[\\d+\\])
logtype = file
__prefix_line = <lt_<logtype>/__prefix_line>
[lt_file]
__prefix_line = \\s*%(_daemon)s%(__pid_re)s?:\\s+
[lt_journal]
__prefix_line = \\s*J:
`,
  "/f/common.conf",
);

const filter = parseIni(
  `[Definition]
_daemon = asterisk
pct = 100%%
failregex = ^%(__prefix_line)sfail <HOST>$
mdre-normal = ^normal <HOST>$
mdre-ddos = ^ddos <HOST>$
modal = %(mdre-<mode>)s
tagged = <mdre-<mode>>
mode = normal
[lt_journal]
__prefix_line = %(known/__prefix_line)sX:
`,
  "/f/asterisk.conf",
);

const err = (f: () => unknown): UserError => {
  try {
    f();
  } catch (e) {
    if (e instanceof UserError) return e;
    throw e;
  }
  throw new Error("no error");
};

describe("createOptionResolver", () => {
  it("interpolates across sections and files, DEFAULT seeing the Definition's values", () => {
    const o = createOptionResolver([common, filter]);
    expect(o.get("Definition", "failregex")).toBe("^\\s*asterisk(?:\\[\\d+\\])?:\\s+fail <HOST>$");
    expect(o.get("Definition", "pct")).toBe("100%");
  });

  it("resolves <mode> inside %()s names and tags, and parameters override", () => {
    const o = createOptionResolver([common, filter]);
    expect(o.get("Definition", "modal")).toBe("^normal <HOST>$");
    expect(o.get("Definition", "tagged")).toBe("^normal <HOST>$");
    const d = createOptionResolver([common, filter], { mode: "ddos" });
    expect(d.get("Definition", "modal")).toBe("^ddos <HOST>$");
    expect(d.get("Definition", "tagged")).toBe("^ddos <HOST>$");
  });

  it("gives [Init] precedence for Definition lookups", () => {
    const init = parseIni("[Init]\nmode = ddos\n", "/f/asterisk.local");
    expect(createOptionResolver([common, filter, init]).get("Definition", "modal")).toBe("^ddos <HOST>$");
  });

  it("reads %(known/x)s as the value from earlier files", () => {
    const o = createOptionResolver([common, filter], { logtype: "journal" });
    expect(o.get("lt_journal", "__prefix_line")).toBe("\\s*J:X:");
    expect(o.get("Definition", "failregex")).toBe("^\\s*J:X:fail <HOST>$");
  });

  it("leaves regex tags and unknown tags alone", () => {
    const f = parseIni("[Definition]\nx = <HOST> <F-USER>u</F-USER> <\\d+> <sip:a@<HOST>>\n", "/f/a.conf");
    expect(createOptionResolver([f]).get("Definition", "x")).toBe("<HOST> <F-USER>u</F-USER> <\\d+> <sip:a@<HOST>>");
  });

  it("reports cycles with file, line and key", () => {
    const f = parseIni("[Definition]\na = x%(b)s\nb = y%(c)s\nc = %(a)s\n", "/f/loop.conf");
    const e = err(() => createOptionResolver([f]).get("Definition", "a"));
    expect(e.code).toBe("SW_FILTER_INTERPOLATION");
    expect(e.message).toMatch(/circular reference: a -> b -> c -> a/);
    expect(e.location).toMatchObject({ file: "/f/loop.conf", line: 4, key: "c" });
    const t = parseIni("[Definition]\na = <b>\nb = <a>\n", "/f/tags.conf");
    expect(err(() => createOptionResolver([t]).get("Definition", "a")).message).toMatch(/circular/);
  });

  it("reports undefined references and stray % signs", () => {
    const f = parseIni("[Definition]\na = %(nope)s\nb = 50%\n", "/f/bad.conf");
    const e = err(() => createOptionResolver([f]).get("Definition", "a"));
    expect(e.message).toMatch(/%\(nope\)s refers to an option that is not defined/);
    expect(e.location).toMatchObject({ file: "/f/bad.conf", line: 2, key: "a" });
    expect(err(() => createOptionResolver([f]).get("Definition", "b")).message).toMatch(/write %%/);
  });
});
