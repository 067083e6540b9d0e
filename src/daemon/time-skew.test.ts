// The warning for lines dated far from the clock (a log in another time zone): when, how often, with what.
import { describe, expect, it } from "vitest";
import { createManualClock } from "../domain/clock.js";
import type { Offense } from "../domain/offense.js";
import { createSkewWatch, SKEW_GRACE_MS, SKEW_REPEAT_MS, type SkewWarning } from "./time-skew.js";

const T0 = Date.UTC(2026, 11, 7, 12);
const HOUR = 3_600_000;

function offense(time: number, line = "NOTICE: failed for '192.0.2.1:5060'"): Offense {
  return {
    kind: "failure",
    address: { family: 4, text: "192.0.2.1" },
    time,
    filter: "asterisk",
    evidence: { time, source: "/var/log/asterisk/messages", line },
  };
}

describe("createSkewWatch", () => {
  it("warns once per jail per hour about lines dated hours off, after the start-up catch-up", () => {
    const clock = createManualClock(T0);
    const got: SkewWarning[] = [];
    const check = createSkewWatch(clock, (w) => got.push(w));
    // Catching up on lines written while down, hours old: no warning.
    check("asterisk", offense(T0 - 3 * HOUR));
    clock.advance(SKEW_GRACE_MS);
    // A few minutes off is clock drift or log lag: no warning.
    check("asterisk", offense(clock.now() - 10 * 60_000));
    check("asterisk", offense(clock.now() + 10 * 60_000));
    expect(got).toEqual([]);
    // A container logging in UTC on a host two hours east: lines dated two hours behind.
    check("asterisk", offense(clock.now() - 2 * HOUR, "evil\nline"));
    check("asterisk", offense(clock.now() - 2 * HOUR));
    check("sshd", offense(clock.now() + 5 * HOUR));
    expect(got).toEqual([
      { jail: "asterisk", skewMinutes: -120, line: "evil\nline" },
      { jail: "sshd", skewMinutes: 300, line: "NOTICE: failed for '192.0.2.1:5060'" },
    ]);
    clock.advance(SKEW_REPEAT_MS);
    check("asterisk", offense(clock.now() - 2 * HOUR));
    expect(got.map((w) => w.jail)).toEqual(["asterisk", "sshd", "asterisk"]);
  });
});
