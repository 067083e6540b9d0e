import { describe, expect, it } from "vitest";
import { recordAsn } from "./asns.js";
import { recordCountry } from "./countries.js";

describe("what a database record names", () => {
  it("a country: GeoLite2/DB-IP's country, else the registered one; IPinfo's code; nothing else", () => {
    expect(recordCountry({ country: { iso_code: "DE" }, registered_country: { iso_code: "NL" } })).toBe("de");
    expect(recordCountry({ registered_country: { iso_code: "NL" } })).toBe("nl");
    expect(recordCountry({ country_code: "US", country: "United States" })).toBe("us");
    expect(recordCountry({ country: "CH", country_name: "Switzerland" })).toBe("ch");
    expect(recordCountry({ continent: { code: "EU" } })).toBeNull();
    expect(recordCountry({ country: { iso_code: "DEU" } })).toBeNull();
    expect(recordCountry("DE")).toBeNull();
    expect(recordCountry(["DE"])).toBeNull();
  });

  it("an AS: GeoLite2-ASN's number (or a 64-bit one that fits), IPinfo's AS text; nothing else", () => {
    expect(recordAsn({ autonomous_system_number: 14061, autonomous_system_organization: "DO" })).toBe(
      "14061",
    );
    expect(recordAsn({ autonomous_system_number: 4200000000n })).toBe("4200000000");
    expect(recordAsn({ autonomous_system_number: 2n ** 40n })).toBeNull();
    expect(recordAsn({ asn: "AS13335", name: "Cloudflare" })).toBe("13335");
    expect(recordAsn({ asn: "13335" })).toBe("13335");
    expect(recordAsn({ asn: "AS0" })).toBeNull();
    expect(recordAsn({ asn: "AS13335x" })).toBeNull();
    expect(recordAsn({ autonomous_system_number: 0 })).toBeNull();
    expect(recordAsn({ country: { iso_code: "DE" } })).toBeNull();
  });
});
