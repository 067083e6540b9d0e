// fail2ban INI dialect: sections, continuation lines, comments, and errors that point at the line.

import { describe, expect, it } from "vitest";
import { UserError } from "../../domain/errors.js";
import { parseIni } from "./ini.js";

const TEXT = `# a comment
; another comment
[INCLUDES]
before = common.conf
after = x.local

[Definition]
failregex = ^first <HOST>$
            # a commented-out regex inside the list
            ^second <HOST> ; not a comment$

            ^third <HOST>$
ignoreregex =
Mixed_Case : colon form
empty=

[Init]
mode = normal
mode = ddos
`;

describe("parseIni", () => {
  const ini = parseIni(TEXT, "/etc/f.conf");
  const def = ini.sections.get("Definition");

  it("joins indented continuation lines, skipping comment lines and keeping inline ;", () => {
    expect(def?.get("failregex")?.value).toBe("^first <HOST>$\n^second <HOST> ; not a comment$\n\n^third <HOST>$");
    expect(def?.get("failregex")?.line).toBe(8);
    expect(def?.get("failregex")?.file).toBe("/etc/f.conf");
  });

  it("reads empty values, ':' separators and folds key case", () => {
    expect(def?.get("ignoreregex")?.value).toBe("");
    expect(def?.get("mixed_case")?.value).toBe("colon form");
    expect(def?.get("empty")?.value).toBe("");
  });

  it("keeps the last of repeated keys and reads [INCLUDES]", () => {
    expect(ini.sections.get("Init")?.get("mode")?.value).toBe("ddos");
    expect(ini.sections.get("INCLUDES")?.get("before")?.value).toBe("common.conf");
  });

  it("names file and line on syntax errors", () => {
    const err = (() => {
      try {
        parseIni("[Definition]\nfailregex = a\nthis is not a key\n", "/x.conf");
      } catch (e) {
        return e as UserError;
      }
      return null;
    })();
    expect(err?.code).toBe("SW_FILTER_SYNTAX");
    expect(err?.location).toMatchObject({ file: "/x.conf", line: 3 });
    expect(() => parseIni("key = before any section\n", "/y.conf")).toThrow(/before any \[section\]/);
  });
});
