// Reason sentences, including how attacker-influenced log text is quoted.

import { describe, expect, it } from "vitest";
import { describeFailures, describeRecidive, quoteLineTail } from "./decision-reason.js";

describe("decision reasons", () => {
  it("quotes the end of the line, where PBXs put the cause", () => {
    const line =
      "[2024-01-01 00:00:00] NOTICE[1234] chan_sip.c: Registration from '<sip:100@pbx>' failed for '203.0.113.5:5060' - Wrong password";
    expect(quoteLineTail(line)).toBe("…ip:100@pbx>' failed for '203.0.113.5:5060' - Wrong password");
    expect(quoteLineTail(line).length).toBeLessThanOrEqual(60);
  });
  it("blanks control and bidi characters from attacker-influenced text", () => {
    expect(quoteLineTail("bad\u001b[31m user\u202e\r\nfake line")).toBe("bad [31m user fake line");
  });
  it("writes one sentence", () => {
    expect(describeFailures(1, 600_000, "asterisk")).toBe("1 failure in 10m (asterisk)");
    expect(describeRecidive(3, 86_400_000, ["a", "b", "a"])).toBe("3 bans in 1d (a, b): repeat offender");
  });
});
