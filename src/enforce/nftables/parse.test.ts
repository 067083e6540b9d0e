// Parsing of nft's set listings and error reports, on text captured from nft 1.0.6.
import { expect, it } from "vitest";
import { locateNftError, parseNftDuration, parseSetListing } from "./parse.js";

it("reads members with timeouts and expiries, including wrapped lines", () => {
  const text = `table inet sipwarden {
\tset ban4 {
\t\ttype ipv4_addr
\t\tflags timeout
\t\telements = { 10.1.1.1 timeout 1s500ms expires 1s452ms, 10.1.1.2,
\t\t\t     10.1.1.3 timeout 1d expires 23h59m58s988ms }
\t}
}
`;
  expect(parseSetListing(text)).toEqual([
    { address: "10.1.1.1", timeoutMs: 1500, expiresMs: 1452 },
    { address: "10.1.1.2", timeoutMs: null, expiresMs: null },
    { address: "10.1.1.3", timeoutMs: 86_400_000, expiresMs: 86_398_988 },
  ]);
  expect(parseSetListing("table inet sipwarden {\n\tset ban6 {\n\t\ttype ipv6_addr\n\t}\n}\n")).toEqual([]);
});

it("parses durations strictly", () => {
  expect(parseNftDuration("2m3s")).toBe(123_000);
  expect(parseNftDuration("5ms")).toBe(5);
  expect(parseNftDuration("5x")).toBeNull();
  expect(parseNftDuration("")).toBeNull();
});

it("maps an nft error to the script line it names", () => {
  const script = "table inet sipwarden {}\nadd element inet sipwarden ban4 { 10.1.1.300 }\n";
  const stderr =
    "/dev/stdin:2:35-44: Error: Could not resolve hostname: Name or service not known\nadd element inet sipwarden ban4 { 10.1.1.300 }\n                                  ^^^^^^^^^^\n";
  expect(locateNftError(stderr, script)).toEqual({
    line: 2,
    text: "add element inet sipwarden ban4 { 10.1.1.300 }",
    message: "Could not resolve hostname: Name or service not known",
  });
  expect(locateNftError("/dev/stdin:1:1-5: Error: syntax error\n", script)?.text).toBe(
    "table inet sipwarden {}",
  );
  expect(locateNftError("netlink: Error: cannot connect", script)).toBeNull();
});
