// Filter specs: built-in names, paths, fail2ban's name[key=value] parameters, and unknown names.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { UserError } from "../domain/errors.js";
import { userErrorText } from "../domain/testing/user-error-text.js";
import {
  BUILTIN_FILTER_DIR,
  INLINE_FILTER_NAME,
  listBuiltinFilters,
  parseFilterSpec,
  resolveFilter,
  resolveFilterOrRegex,
} from "./resolve.js";

const dir = mkdtempSync(join(tmpdir(), "sw-resolve-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(
  join(dir, "mine.conf"),
  "[Definition]\nfailregex = ^<mdre-<mode>> <HOST>$\nmdre-normal = normal\nmdre-ddos = ddos\nmode = normal\n",
);

describe("resolveFilter", () => {
  it("finds the built-in filter directory at the package root", () => {
    expect(BUILTIN_FILTER_DIR).toMatch(/[/\\]filters$/);
    expect(BUILTIN_FILTER_DIR).not.toMatch(/src[/\\]filters$/);
    expect(Array.isArray(listBuiltinFilters())).toBe(true);
  });

  it("loads by name from searchDirs, and by path", () => {
    expect(resolveFilter("mine", { searchDirs: [dir] }).failregex).toEqual(["^normal <HOST>$"]);
    const byPath = resolveFilter(join(dir, "mine.conf"));
    expect(byPath.name).toBe("mine");
  });

  it("passes name[key=value] parameters", () => {
    expect(resolveFilter("mine[mode=ddos]", { searchDirs: [dir] }).failregex).toEqual(["^ddos <HOST>$"]);
    expect(resolveFilter(`${join(dir, "mine.conf")}[mode="ddos"]`).failregex).toEqual(["^ddos <HOST>$"]);
  });

  it("says which filters exist when a name is unknown", () => {
    const e = (() => {
      try {
        resolveFilter("no-such-filter");
      } catch (err) {
        return err as UserError;
      }
      return null;
    })();
    expect(e).toBeInstanceOf(UserError);
    expect(e?.code).toBe("SW_FILTER_NOT_FOUND");
    const names = listBuiltinFilters().filter((n) => n !== "common");
    if (names.length > 0) expect(e?.message).toContain(names[0]);
    expect(() => resolveFilter("./nope/x.conf")).toThrow(/no filter file/);
  });
});

describe("resolveFilterOrRegex (test-filter's argument)", () => {
  const ctx = { referenceTime: Date.UTC(2026, 10, 22) };
  const refusal = (spec: string): Promise<string> =>
    userErrorText(Promise.resolve().then(() => resolveFilterOrRegex(spec)));

  it("takes a failregex in place of a filter, as fail2ban-regex does, told apart by its host tag", () => {
    const f = resolveFilterOrRegex("Registration from '.*' failed for '<HOST>(?::\\d+)?' - Wrong password");
    expect(f.name).toBe(INLINE_FILTER_NAME);
    expect(f.failregex).toEqual(["Registration from '.*' failed for '<HOST>(?::\\d+)?' - Wrong password"]);
    const r = f.match(
      "[Nov 21 23:45:38] NOTICE[1] chan_sip.c: Registration from '<sip:1@x>' failed for '192.0.2.9:5060' - Wrong password",
      ctx,
    );
    expect(r).toMatchObject({ status: "matched", match: { address: { text: "192.0.2.9" } } });
    expect(resolveFilterOrRegex("session opened for <F-ID>\\S+</F-ID>").failregex).toHaveLength(1);
  });

  it("still reads names and paths, and says a regex needs <HOST> when a name is unknown", async () => {
    expect(resolveFilterOrRegex("mine[mode=ddos]", { searchDirs: [dir] }).failregex).toEqual(["^ddos <HOST>$"]);
    expect(await refusal("failed for")).toMatch(
      /^no filter named "failed for"; .*; or give a failregex, with <HOST> where the address is \[SW_FILTER_NOT_FOUND\]$/,
    );
    expect(await refusal("failed (for <HOST>")).toMatch(
      /^failregex: failregex #1 "failed \(for <HOST>": .*\[SW_FILTER_REGEX\]$/,
    );
    expect(await refusal("<SKIPLINES>from <HOST>")).toMatch(
      /SKIPLINES.*\[SW_FILTER_REGEX\]$/,
    );
  });
});

describe("logtimezone (a log's dates in another zone than the host's)", () => {
  const line =
    "[Nov 21 23:45:38] NOTICE[1] chan_sip.c: Registration from '<sip:1@x>' failed for '192.0.2.9:5060' - Wrong password";
  const timeOf = (spec: string): number | null | undefined => {
    const r = resolveFilter(spec).match(line, { referenceTime: Date.UTC(2026, 11, 7) });
    return r.status === "matched" ? r.match.time : undefined;
  };

  it("reads dates without a zone in the zone a filter parameter or the filter file names", () => {
    // Tests run with TZ=UTC: local time is UTC.
    expect(timeOf("asterisk")).toBe(Date.UTC(2026, 10, 21, 23, 45, 38));
    expect(timeOf("asterisk[logtimezone=-0500]")).toBe(Date.UTC(2026, 10, 22, 4, 45, 38));
    expect(timeOf("asterisk[logtimezone=UTC+2]")).toBe(Date.UTC(2026, 10, 21, 21, 45, 38));
    const file = join(dir, "zoned.conf");
    writeFileSync(file, "[INCLUDES]\nbefore = asterisk.conf\n[Init]\nlogtimezone = +0100\n");
    expect(timeOf(file)).toBe(Date.UTC(2026, 10, 21, 22, 45, 38));
  });

  it("refuses a zone it cannot place, where it was written", () => {
    expect(() => resolveFilter("asterisk[logtimezone=Europe/Berlin]")).toThrow(
      expect.objectContaining({ code: "SW_FILTER_SYNTAX", message: expect.stringMatching(/^"Europe\/Berlin" is not a zone/) }),
    );
    const file = join(dir, "badzone.conf");
    writeFileSync(file, "[Definition]\nfailregex = ^from <HOST>$\n[Init]\nlogtimezone = CET\n");
    expect(() => resolveFilter(file)).toThrow(
      expect.objectContaining({ location: expect.objectContaining({ file, line: 4, key: "logtimezone" }) }),
    );
  });
});

describe("parseFilterSpec", () => {
  it("splits parameters, with quoted values holding commas", () => {
    expect(parseFilterSpec("sshd")).toEqual({ target: "sshd", vars: {} });
    expect(parseFilterSpec('sshd[mode=aggressive, x="a, b", y = 2]')).toEqual({
      target: "sshd",
      vars: { mode: "aggressive", x: "a, b", y: "2" },
    });
    expect(() => parseFilterSpec("sshd[=oops]")).toThrow(/cannot parse filter parameters/);
  });
});
