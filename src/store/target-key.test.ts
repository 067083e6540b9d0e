// Canonical target keys and the covering networks explain looks up.
import { describe, expect, it } from "vitest";
import { canonicalTarget, coveringTargets } from "./target-key.js";

describe("coveringTargets", () => {
  it("lists an IPv4 address and all 32 networks containing it, narrowest first", () => {
    const keys = coveringTargets("198.51.100.7");
    expect(keys).toHaveLength(33);
    expect(keys.slice(0, 3)).toEqual(["198.51.100.7", "198.51.100.6/31", "198.51.100.4/30"]);
    expect(keys).toContain("198.51.100.0/24");
    expect(keys[32]).toBe("0.0.0.0/0");
  });

  it("lists 129 keys for an IPv6 address, in canonical text", () => {
    const keys = coveringTargets("2001:DB8:0:0:1::7");
    expect(keys).toHaveLength(129);
    expect(keys[0]).toBe("2001:db8::1:0:0:7");
    expect(keys).toContain("2001:db8::/64");
    expect(keys[128]).toBe("::/0");
  });

  it("starts a CIDR query at its own prefix", () => {
    expect(coveringTargets("192.0.2.0/30")).toEqual([
      "192.0.2.0/30",
      "192.0.2.0/29",
      ...coveringTargets("192.0.2.0/29").slice(1),
    ]);
    expect(coveringTargets("10.0.0.0/8")).toHaveLength(9);
  });
});

describe("canonicalTarget", () => {
  it("clears host bits and reduces IPv4-mapped IPv6", () => {
    expect(canonicalTarget("10.1.2.3/8").text).toBe("10.0.0.0/8");
    expect(canonicalTarget("::ffff:192.0.2.1").text).toBe("192.0.2.1");
  });

  it("throws on anything that is not an address (a bug upstream)", () => {
    expect(() => canonicalTarget("example.com")).toThrow(/invalid decision target/);
    expect(() => canonicalTarget("192.0.2.1/33")).toThrow();
  });
});
