// Escalated ban lengths: doubling, cap, and the cases that never escalate.

import { describe, expect, it } from "vitest";
import { computeBanDuration } from "./ban-duration.js";

const esc = { enabled: true, factor: 2, maxBantimeMs: 1000, memoryMs: 1 };

describe("computeBanDuration", () => {
  it("multiplies by factor^n up to the cap", () => {
    expect([0, 1, 2, 3, 4, 2000].map((n) => computeBanDuration(100, n, esc))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
  });
  it("keeps the base when disabled, and never cuts a base above the cap", () => {
    expect(computeBanDuration(100, 3, { ...esc, enabled: false })).toBe(100);
    expect(computeBanDuration(5000, 3, esc)).toBe(5000);
  });
  it("keeps permanent bans permanent", () => {
    expect(computeBanDuration(null, 3, esc)).toBeNull();
  });
});
