// Unit tests: success offenses from log filters become time-limited registrations.
import { describe, expect, it } from "vitest";
import { parseIp, type IpAddress } from "../domain/address.js";
import { createManualClock } from "../domain/clock.js";
import type { Offense } from "../domain/offense.js";
import { createRegistry } from "./registry.js";
import { createSuccessRegistrations } from "./success-registrations.js";

const T0 = 1_700_000_000_000;
const offense = (kind: Offense["kind"], time: number, user?: string): Offense => ({
  kind,
  address: parseIp("203.0.113.9") as IpAddress,
  time,
  filter: "asterisk",
  ...(user === undefined ? {} : { user }),
  evidence: { time, source: "/var/log/asterisk/security", line: "SuccessfulAuth ..." },
});

describe("success registrations", () => {
  it("turns a success into a registration that lasts the configured lifetime from event time", () => {
    const clock = createManualClock(T0);
    const registry = createRegistry({ clock });
    const s = createSuccessRegistrations({ lifetimeMs: 3_600_000 }, { registry });
    expect(s.handle(offense("success", T0 - 1000, "1001"))).toBe(true);
    expect(registry.list()).toEqual([
      expect.objectContaining({ source: "log:asterisk", user: "1001", expiresAt: T0 - 1000 + 3_600_000 }),
    ]);
    expect(registry.isRegistered(parseIp("203.0.113.9") as IpAddress, T0)).toMatchObject({ user: "1001" });
  });

  it("ignores failures, names anonymous successes, and stores nothing for lines older than the lifetime", () => {
    const clock = createManualClock(T0);
    const registry = createRegistry({ clock });
    const s = createSuccessRegistrations({ lifetimeMs: 60_000 }, { registry });
    expect(s.handle(offense("failure", T0, "1001"))).toBe(false);
    expect(s.handle(offense("success", T0 - 120_000))).toBe(false);
    expect(s.handle(offense("success", T0))).toBe(true);
    expect(registry.list().map((e) => e.user)).toEqual(["(log)"]);
  });
});
