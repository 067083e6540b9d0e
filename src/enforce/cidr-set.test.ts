// collapseCidrs keeps interval sets free of the overlaps the kernel refuses.
import { expect, it } from "vitest";
import { parseCidr } from "../domain/address.js";
import type { Cidr } from "../domain/address.js";
import { collapseCidrs } from "./cidr-set.js";

const cidrs = (...s: string[]): Cidr[] => s.map((x) => parseCidr(x) as Cidr);

it("drops duplicates and covered prefixes, keeps disjoint and adjacent ones, sorted", () => {
  const got = collapseCidrs(
    cidrs("10.0.1.0/24", "10.0.0.0/16", "10.0.0.5", "9.0.0.0/8", "11.0.0.0/8", "9.0.0.0/8"),
    4,
  );
  expect(got.map((c) => c.text)).toEqual(["9.0.0.0/8", "10.0.0.0/16", "11.0.0.0/8"]);
});

it("keeps families apart", () => {
  const got = collapseCidrs(cidrs("2001:db8::/32", "2001:db8:1::/48", "10.0.0.0/8", "::/0"), 6);
  expect(got.map((c) => c.text)).toEqual(["::/0"]);
});

it("collapses a 100k-entry feed in one sweep", () => {
  // 65,536 /24s fall inside 10.0.0.0/8; the other 34,464 lie in 11.0.0.0/8 and stay.
  const many = Array.from(
    { length: 100_000 },
    (_, i) => `${10 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}.0/24`,
  );
  const got = collapseCidrs(cidrs(...many, "10.0.0.0/8"), 4);
  expect(got.length).toBe(1 + 34_464);
  expect(got[0]?.text).toBe("10.0.0.0/8");
});
