// Filter specs: built-in names, paths, fail2ban's name[key=value] parameters, and unknown names.

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { UserError } from "../domain/errors.js";
import { BUILTIN_FILTER_DIR, listBuiltinFilters, parseFilterSpec, resolveFilter } from "./resolve.js";

const dir = mkdtempSync(join(tmpdir(), "sw-resolve-"));
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
