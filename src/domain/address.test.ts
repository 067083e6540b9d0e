// Address parsing: the dotted-quad check against the regex it spells out, parseIp's accepted forms, and
// parseCidr's IPv4 arithmetic against ipaddr.js.
import { describe, expect, it } from "vitest";
import { isDottedQuad, isLoopbackHost, parseCidr, parseIp } from "./address.js";
import ipaddr from "./ipaddr.js";

const STRICT = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

describe("isDottedQuad", () => {
  it("agrees with the strict regex on every octet value and on random digit-and-dot strings", () => {
    const octets = Array.from({ length: 300 }, (_, i) => String(i)).concat([
      "00",
      "01",
      "000",
      "0255",
      "1000",
      "",
    ]);
    let checked = 0;
    for (const o of octets)
      for (const s of [`${o}.1.2.3`, `1.${o}.2.3`, `1.2.${o}.3`, `1.2.3.${o}`]) {
        expect(isDottedQuad(s), s).toBe(STRICT.test(s));
        checked++;
      }
    // xorshift: a fixed, replayable sequence
    let x = 12345;
    const next = (): number => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) / 0x1_0000_0000;
    };
    const alphabet = "0123456789.....a :";
    const disagree: string[] = [];
    let valid = 0;
    for (let k = 0; k < 200_000; k++) {
      let s = "";
      const len = Math.floor(next() * 17);
      for (let i = 0; i < len; i++) s += alphabet[Math.floor(next() * alphabet.length)];
      if (isDottedQuad(s) !== STRICT.test(s)) disagree.push(s);
      if (STRICT.test(s)) valid++;
      checked++;
    }
    expect(disagree).toEqual([]);
    expect(checked).toBeGreaterThan(200_000);
    expect(valid).toBeGreaterThan(10);
  });
});

describe("parseIp", () => {
  it("accepts what a PBX writes and nothing else", () => {
    expect(parseIp("198.51.100.7")).toEqual({ family: 4, text: "198.51.100.7" });
    expect(parseIp(" 0.0.0.0 ")).toEqual({ family: 4, text: "0.0.0.0" });
    expect(parseIp("[2001:DB8::1]")).toEqual({ family: 6, text: "2001:db8::1" });
    expect(parseIp("::ffff:192.0.2.1")).toEqual({ family: 4, text: "192.0.2.1" });
    for (const bad of [
      "",
      "1.2.3",
      "1.2.3.4.5",
      "01.2.3.4",
      "256.1.1.1",
      "1.2.3.4x",
      "example.com",
      "fe80::1%eth0",
      "0x7f.0.0.1",
    ])
      expect(parseIp(bad), bad).toBeNull();
  });
});

describe("isLoopbackHost", () => {
  it("takes localhost, 127/8 and ::1 as this machine, every other name or address as remote", () => {
    for (const h of [
      "localhost",
      "LOCALHOST.",
      "mail.localhost",
      "127.0.0.1",
      "127.1.2.3",
      "::1",
      "::ffff:127.0.0.1",
    ])
      expect(isLoopbackHost(h), h).toBe(true);
    for (const h of [
      "smtp.example.com",
      "localhost.example.com",
      "10.0.0.1",
      "128.0.0.1",
      "::2",
      "0.0.0.0",
      "127.0.0.1.nip.io",
    ])
      expect(isLoopbackHost(h), h).toBe(false);
  });
});

describe("parseCidr on IPv4 (32-bit arithmetic) agrees with ipaddr.js's prefix logic", () => {
  it("for 20,000 seeded addresses and every prefix length, loose and strict", () => {
    let x = 12345;
    const next = (): number => (x = (Math.imul(x, 1664525) + 1013904223) >>> 0);
    for (let i = 0; i < 20_000; i++) {
      const n = next();
      const quad = `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
      const prefix = i % 33;
      const ref = ipaddr.IPv4.networkAddressFromCIDR(`${quad}/${prefix}`).toString();
      const loose = parseCidr(`${quad}/${prefix}`);
      expect(loose, `${quad}/${prefix}`).toEqual({
        family: 4,
        network: ref,
        prefix,
        text: prefix === 32 ? ref : `${ref}/${prefix}`,
      });
      expect(parseCidr(`${quad}/${prefix}`, false), `${quad}/${prefix} strict`).toEqual(
        ref === quad ? loose : null,
      );
    }
    expect(parseCidr("255.255.255.255/0")?.text).toBe("0.0.0.0/0");
    expect(parseCidr("::ffff:10.1.2.3")?.text).toBe("10.1.2.3");
  });
});
