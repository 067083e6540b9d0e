import { describe, expect, it } from "vitest";
import { recordAsn } from "./asns.js";
import { recordCountry } from "./countries.js";
import { fieldsOf } from "./networks.js";

describe("what a database record names", () => {
  it("a country: GeoLite2/DB-IP's country, else the registered one; IPinfo's code; nothing else", () => {
    expect(
      recordCountry(fieldsOf({ country: { iso_code: "DE" }, registered_country: { iso_code: "NL" } })),
    ).toBe("de");
    expect(recordCountry(fieldsOf({ registered_country: { iso_code: "NL" } }))).toBe("nl");
    expect(recordCountry(fieldsOf({ country_code: "US", country: "United States" }))).toBe("us");
    expect(recordCountry(fieldsOf({ country: "CH", country_name: "Switzerland" }))).toBe("ch");
    expect(recordCountry(fieldsOf({ continent: { code: "EU" } }))).toBeNull();
    expect(recordCountry(fieldsOf({ country: { iso_code: "DEU" } }))).toBeNull();
    expect(recordCountry(fieldsOf("DE"))).toBeNull();
    expect(recordCountry(fieldsOf(["DE"]))).toBeNull();
  });

  it("an AS: GeoLite2-ASN's number (or a 64-bit one that fits), IPinfo's AS text; nothing else", () => {
    expect(
      recordAsn(fieldsOf({ autonomous_system_number: 14061, autonomous_system_organization: "DO" })),
    ).toBe("14061");
    expect(recordAsn(fieldsOf({ autonomous_system_number: 4200000000n }))).toBe("4200000000");
    expect(recordAsn(fieldsOf({ autonomous_system_number: 2n ** 40n }))).toBeNull();
    expect(recordAsn(fieldsOf({ asn: "AS13335", name: "Cloudflare" }))).toBe("13335");
    expect(recordAsn(fieldsOf({ asn: "13335" }))).toBe("13335");
    expect(recordAsn(fieldsOf({ asn: "AS0" }))).toBeNull();
    expect(recordAsn(fieldsOf({ asn: "AS13335x" }))).toBeNull();
    expect(recordAsn(fieldsOf({ autonomous_system_number: 0 }))).toBeNull();
    expect(recordAsn(fieldsOf({ country: { iso_code: "DE" } }))).toBeNull();
  });
});
