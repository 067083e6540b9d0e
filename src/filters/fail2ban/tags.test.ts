// fail2ban tag expansion: fixed host tags, F- capture groups, and tags left alone.

import { describe, expect, it } from "vitest";
import { expandFail2banTags } from "./tags.js";

describe("expandFail2banTags", () => {
  it("maps F- tags to lower-case groups, with fail2ban's renames", () => {
    expect(expandFail2banTags("<F-USER>.+</F-USER>")).toBe("(?P<user>.+)");
    expect(expandFail2banTags("<F-ID>\\d+</F-ID> <F-PORT>\\d+</F-PORT>")).toBe("(?P<fid>\\d+) (?P<fport>\\d+)");
    expect(expandFail2banTags("<F-ALT_USER>x</F-ALT_USER><F-MLFFORGET>y</F-MLFFORGET>")).toBe("(?P<alt_user>x)(?P<mlfforget>y)");
  });

  it("leaves unknown tags and unopened closing tags as written", () => {
    expect(expandFail2banTags("<sip:1@x> </F-USER> <\\d+>")).toBe("<sip:1@x> </F-USER> <\\d+>");
  });

  it("expands host tags to ip4/ip6/dns groups", () => {
    const host = expandFail2banTags("<HOST>");
    expect(host).toContain("(?P<ip4>");
    expect(host).toContain("(?P<ip6>");
    expect(host).toContain("(?P<dns>");
    expect(expandFail2banTags("<ADDR>")).not.toContain("(?P<dns>");
  });

  it("refuses <SKIPLINES>", () => {
    expect(() => expandFail2banTags("a<SKIPLINES>b")).toThrow(/multi-line/);
  });
});
