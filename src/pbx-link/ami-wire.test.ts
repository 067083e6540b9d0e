// Unit tests of AMI framing: CRLF lines, blank-line terminator, banner, splits at any byte, bounds.
import { describe, expect, it } from "vitest";
import { createAmiParser, formatAmiAction } from "./ami-wire.js";

const WIRE =
  "Asterisk Call Manager/7.0.3\r\n" +
  "Response: Success\r\nActionID: 1\r\nMessage: Authentication accepted\r\n\r\n" +
  "Event: FullyBooted\r\nPrivilege: system,all\r\nStatus: Fully Booted\r\n\r\n";

describe("ami parser", () => {
  it("reads the banner and messages", () => {
    const p = createAmiParser();
    const msgs = p.push(WIRE);
    expect(p.banner()).toBe("Asterisk Call Manager/7.0.3");
    expect(msgs.map((m) => [m.get("response") ?? m.get("EVENT"), m.get("ActionID")])).toEqual([
      ["Success", "1"],
      ["FullyBooted", undefined],
    ]);
  });

  it("gives the same messages however the bytes are split", () => {
    const bytes = Buffer.from(WIRE);
    for (let cut = 1; cut < bytes.length; cut++) {
      const p = createAmiParser();
      const msgs = [...p.push(bytes.subarray(0, cut)), ...p.push(bytes.subarray(cut))];
      expect(msgs).toHaveLength(2);
      expect(msgs[1]?.get("Status")).toBe("Fully Booted");
    }
  });

  it("splits only at the first colon, keeps the first of repeated keys, accepts bare LF", () => {
    const p = createAmiParser();
    const [m] = p.push("Event: X\nAddress: 203.0.113.5:5060\nVariable: a=1\nVariable: b=2\n\n");
    expect(m?.get("address")).toBe("203.0.113.5:5060");
    expect(m?.get("variable")).toBe("a=1");
  });

  it("drops a message with too many lines and caps long values", () => {
    const p = createAmiParser({ maxLines: 3, maxLineChars: 10 });
    const msgs = p.push(
      "Event: A\r\nB: 1\r\nC: 2\r\nD: 3\r\n\r\nEvent: B\r\nLong: " + "x".repeat(50) + "\r\n\r\n",
    );
    expect(msgs).toHaveLength(1);
    expect(msgs[0]?.get("Long")).toBe("x".repeat(10));
    expect(p.dropped()).toBe(1);
  });

  it("formats actions with CRLF and strips newlines from values", () => {
    expect(formatAmiAction("Login", { Username: "u", Secret: "s\r\nAction: Originate" })).toBe(
      "Action: Login\r\nUsername: u\r\nSecret: sAction: Originate\r\n\r\n",
    );
  });
});
