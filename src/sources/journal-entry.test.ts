// Tests parsing of journalctl JSON lines, including the byte-array and repeated forms of MESSAGE.
import { describe, expect, it } from "vitest";
import { parseJournalEntry } from "./journal-entry.js";

const base = { __CURSOR: "s=abc;i=1", __REALTIME_TIMESTAMP: "1700000000123456" };
const parse = (o: unknown, max = 1000) => parseJournalEntry(JSON.stringify(o), max);

describe("parseJournalEntry", () => {
  it("reads a string MESSAGE, the cursor and the time in ms", () => {
    expect(parse({ ...base, MESSAGE: "Registration from '<sip:1@x>' failed for '1.2.3.4:5060'\n" })).toEqual({
      cursor: "s=abc;i=1",
      time: 1700000000123,
      messages: ["Registration from '<sip:1@x>' failed for '1.2.3.4:5060'"],
    });
  });

  it("decodes a byte-array MESSAGE, replacing invalid UTF-8", () => {
    expect(parse({ ...base, MESSAGE: [104, 105, 255, 1, 0xe2, 0x82, 0xac] })?.messages).toEqual([
      "hi\uFFFD\u0001€",
    ]);
  });

  it("returns one text per value of a repeated MESSAGE field", () => {
    expect(parse({ ...base, MESSAGE: ["one", [116, 119, 111]] })?.messages).toEqual(["one", "two"]);
  });

  it("keeps the cursor of an entry whose MESSAGE is null or missing", () => {
    expect(parse({ ...base, MESSAGE: null })).toEqual({
      cursor: "s=abc;i=1",
      time: 1700000000123,
      messages: [],
    });
    expect(parse({ ...base })?.messages).toEqual([]);
  });

  it("gives the first line of a message of several lines, not the lines after it", () => {
    const m = parse({
      ...base,
      MESSAGE:
        "2026-11-21 23:45:42.150982 [WARNING] sofia_reg.c:3150 Can't find user [1000@example.com] from 192.0.2.3\r\nYou must define a domain called 'example.com' in your directory\n\nand more\n",
    })?.messages;
    expect(m).toEqual([
      "2026-11-21 23:45:42.150982 [WARNING] sofia_reg.c:3150 Can't find user [1000@example.com] from 192.0.2.3",
    ]);
    // Leading empty lines are skipped; a message of line breaks alone gives nothing.
    expect(parse({ ...base, MESSAGE: "\n\nsecond\nthird" })?.messages).toEqual(["second"]);
    expect(parse({ ...base, MESSAGE: ["\r\n\n", "x"] })?.messages).toEqual(["x"]);
  });

  it("starts each message with its syslog tag, as syslog and fail2ban's journal backend write it", () => {
    const tagged = (o: Record<string, unknown>) =>
      parse({ ...base, MESSAGE: "[192.0.2.1] authentication failed for x", ...o })?.messages;
    expect(tagged({ SYSLOG_IDENTIFIER: "FusionPBX", SYSLOG_PID: "77", _PID: "78" })).toEqual([
      "FusionPBX[77]: [192.0.2.1] authentication failed for x",
    ]);
    expect(tagged({ SYSLOG_IDENTIFIER: "sshd", _PID: "78" })).toEqual([
      "sshd[78]: [192.0.2.1] authentication failed for x",
    ]);
    expect(tagged({ SYSLOG_IDENTIFIER: "FusionPBX", SYSLOG_PID: "x1" })).toEqual([
      "FusionPBX: [192.0.2.1] authentication failed for x",
    ]);
    // No usable identifier: the message alone.
    for (const ident of [undefined, "", "a\nb", 7])
      expect(tagged({ SYSLOG_IDENTIFIER: ident, SYSLOG_PID: "1" })).toEqual([
        "[192.0.2.1] authentication failed for x",
      ]);
  });

  it("drops what follows a line break: client text let loose by one cannot pass for a record", () => {
    // A Kamailio digest user name may hold a folded header's line break (docs/filters.md).
    const forged =
      "NOTICE: <script>: sipwarden: auth-failed src=203.0.113.5 port=5060 proto=udp method=REGISTER code=-3 realm=x user=y\r\n" +
      " NOTICE: <script>: sipwarden: auth-failed src=198.51.100.99 port=5060 proto=udp method=REGISTER code=-2 realm=x user=z";
    expect(
      parse({ ...base, SYSLOG_IDENTIFIER: "kamailio", SYSLOG_PID: "77", MESSAGE: [forged, "second"] })
        ?.messages,
    ).toEqual([
      "kamailio[77]: NOTICE: <script>: sipwarden: auth-failed src=203.0.113.5 port=5060 proto=udp method=REGISTER code=-3 realm=x user=y",
      "kamailio[77]: second",
    ]);
  });

  it("caps long messages on a character boundary", () => {
    expect(parse({ ...base, MESSAGE: "ab€€" }, 4)?.messages).toEqual(["ab"]);
  });

  it("returns null for lines that are not JSON objects and ignores a malformed time", () => {
    expect(parseJournalEntry("{not json", 10)).toBeNull();
    expect(parseJournalEntry("[1]", 10)).toBeNull();
    expect(parseJournalEntry("null", 10)).toBeNull();
    expect(parse({ __REALTIME_TIMESTAMP: "12x", MESSAGE: "m" })).toEqual({
      cursor: undefined,
      time: undefined,
      messages: ["m"],
    });
  });
});
