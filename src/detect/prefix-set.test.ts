// Longest-prefix lookup checked against the domain's cidrContains.

import { describe, expect, it } from "vitest";
import { cidrContains, parseCidr, parseIp, type Cidr, type IpAddress } from "../domain/address.js";
import { createPrefixSet } from "./prefix-set.js";

const cidr = (s: string): Cidr => parseCidr(s) as Cidr;
const ip = (s: string): IpAddress => parseIp(s) as IpAddress;

describe("createPrefixSet", () => {
  it("returns the longest matching prefix", () => {
    const set = createPrefixSet<string>();
    for (const c of ["10.0.0.0/8", "10.1.0.0/16", "10.1.2.3", "::/0", "2001:db8::/32", "2001:db8::/64"])
      set.add(cidr(c), c);
    expect(set.lookup(ip("10.1.2.3"))).toBe("10.1.2.3");
    expect(set.lookup(ip("10.1.2.4"))).toBe("10.1.0.0/16");
    expect(set.lookup(ip("10.2.0.0"))).toBe("10.0.0.0/8");
    expect(set.lookup(ip("11.0.0.0"))).toBeNull();
    expect(set.lookup(ip("2001:db8::5"))).toBe("2001:db8::/64");
    expect(set.lookup(ip("2001:db8:1::5"))).toBe("2001:db8::/32");
    expect(set.lookup(ip("fe80::1"))).toBe("::/0");
  });

  it("finds an entry overlapping a network: one containing it, or one inside it", () => {
    const set = createPrefixSet<string>();
    for (const c of ["10.0.0.0/8", "192.0.2.7", "2001:db8:1:2::99", "2001:db8:ff00::/40"])
      set.add(cidr(c), c);
    expect(set.overlapping(cidr("10.9.0.0/16"))).toBe("10.0.0.0/8");
    expect(set.overlapping(cidr("192.0.2.0/24"))).toBe("192.0.2.7");
    expect(set.overlapping(cidr("192.0.3.0/24"))).toBeNull();
    expect(set.overlapping(cidr("2001:db8:1:2::/64"))).toBe("2001:db8:1:2::99");
    expect(set.overlapping(cidr("2001:db8:1:3::/64"))).toBeNull();
    expect(set.overlapping(cidr("2001:db8:ff12:3::/64"))).toBe("2001:db8:ff00::/40");
    expect(set.overlapping(cidr("2001:db8::/32"))).toBe("2001:db8:1:2::99");
  });

  it("keeps the first value for a repeated prefix", () => {
    const set = createPrefixSet<number>();
    set.add(cidr("192.0.2.0/24"), 1);
    set.add(cidr("192.0.2.9/24"), 2);
    expect(set.size).toBe(1);
    expect(set.lookup(ip("192.0.2.200"))).toBe(1);
  });

  it("agrees with cidrContains on every prefix length", () => {
    const probe = ip("203.0.113.77");
    const probe6 = ip("2001:db8:abcd:12::77");
    for (let len = 0; len <= 32; len++) {
      const set = createPrefixSet<true>();
      const c = cidr(`203.0.113.77/${len}`);
      set.add(c, true);
      expect(set.lookup(probe)).toBe(true);
      const outside = ip(
        len === 0 ? "203.0.113.77" : "203.0.113.77".replace(/^\d+/, (o) => String(Number(o) ^ 0x80)),
      );
      expect(set.lookup(outside) === true).toBe(cidrContains(c, outside));
    }
    for (let len = 0; len <= 128; len += 7) {
      const set = createPrefixSet<true>();
      set.add(cidr(`2001:db8:abcd:12::77/${len}`), true);
      expect(set.lookup(probe6)).toBe(true);
    }
  });
});
