// Unit tests: hosts pulled out of the URI and host:port forms PBX APIs print.
import { describe, expect, it } from "vitest";
import { hostOfHostPort, sipUriHost } from "./sip-uri.js";

describe("sipUriHost", () => {
  it.each([
    ["sip:alice@192.168.1.23:5060", "192.168.1.23"],
    ["sip:127.0.0.1:15098", "127.0.0.1"],
    ["sip:203.0.113.5:5060;transport=tcp", "203.0.113.5"],
    ['"Alice" <sips:alice@[2001:db8::1]:5061;ob>', "2001:db8::1"],
    ["sofia/internal/sip:1000@192.0.2.7:5060;fs_nat=yes", "192.0.2.7"],
    ["sip:1001@203.0.113.5:34567;x-ast-orig-host=192.168.1.10:5060", "203.0.113.5"],
    ["sip:a@b@198.51.100.2", "198.51.100.2"],
    ["sip:pbx.example.com", "pbx.example.com"],
  ])("%s → %s", (uri, host) => {
    expect(sipUriHost(uri)).toBe(host);
  });

  it("returns null when there is no SIP URI", () => {
    expect(sipUriHost("[not set]")).toBeNull();
    expect(sipUriHost("tel:+15551234")).toBeNull();
  });
});

describe("hostOfHostPort", () => {
  it.each([
    ["203.0.113.5:5060", "203.0.113.5"],
    ["[2001:db8::5]:5060", "2001:db8::5"],
    ["2001:db8::5", "2001:db8::5"],
    ["203.0.113.5", "203.0.113.5"],
    ["", null],
    ["[", null],
  ])("%s → %s", (text, host) => {
    expect(hostOfHostPort(text)).toBe(host);
  });
});
