// fail2ban's logtimezone values: UTC and fixed offsets, in the spellings fail2ban takes.
import { describe, expect, it } from "vitest";
import { parseLogTimezone } from "./zone-offset.js";

describe("parseLogTimezone", () => {
  it("reads UTC and fixed offsets as minutes east of UTC", () => {
    const cases: [string, number][] = [
      ["UTC", 0],
      ["gmt", 0],
      ["Z", 0],
      ["+0100", 60],
      ["-05:00", -300],
      ["UTC+2", 120],
      ["UTC-0330", -210],
      ["GMT +0545", 345],
      [" +14 ", 840],
    ];
    for (const [value, minutes] of cases) expect(parseLogTimezone(value), value).toBe(minutes);
  });

  it("refuses zone names, out-of-range offsets and anything else, saying what it takes", () => {
    for (const bad of ["Europe/Berlin", "CET", "+25", "+0160", "+1430", "UTC+", "0100", "", "local"])
      expect(() => parseLogTimezone(bad), bad).toThrow(
        /is not a zone sipwarden can place: give UTC or a fixed offset/,
      );
  });
});
