// Which allowlist entry texts are accepted, and as what.

import { describe, expect, it } from "vitest";
import { parseAllowlistEntry } from "./allowlist-entry.js";

describe("parseAllowlistEntry", () => {
  it.each([
    ["203.0.113.1", "ip"],
    ["[2001:db8::1]", "ip"],
    ["10.0.0.0/8", "cidr"],
    ["2001:db8::/32", "cidr"],
    ["pbx.example.com", "dns"],
    ["PBX.Example.com.", "dns"],
    ["localhost", "dns"],
    ["file:/etc/sipwarden/allow.txt", "file"],
  ])("%s is %s", (input, kind) => {
    expect(parseAllowlistEntry(input)?.kind).toBe(kind);
  });

  it("normalizes names", () => {
    expect(parseAllowlistEntry("PBX.Example.com.")).toEqual({ kind: "dns", name: "pbx.example.com" });
  });

  it.each([
    "",
    "1.2.3.999",
    "1.2.3",
    "0x7f.1",
    "a_b.example",
    "fe80::1%eth0",
    "-x.example.com",
    "10.0.0.0/x",
    "file:",
  ])("refuses %j", (input) => {
    expect(parseAllowlistEntry(input)).toBeNull();
  });
});
