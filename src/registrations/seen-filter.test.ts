// Unit tests of the fixed-size "failed before?" filter: remembers within the span, forgets after it, few
// false "seen".
import { describe, expect, it } from "vitest";
import { createSeenFilter } from "./seen-filter.js";

const HOUR = 3_600_000;
const T0 = 1_700_000_000_000;

describe("seen filter", () => {
  it("tells an address added within the span, and forgets it a span later", () => {
    const f = createSeenFilter(2 * HOUR);
    expect(f.seenOrAdd("203.0.113.5", T0)).toBe(false);
    expect(f.seenOrAdd("203.0.113.5", T0 + 1000)).toBe(true);
    expect(f.seenOrAdd("2001:db8::5", T0 + 1000)).toBe(false);
    // The next half: the first half's addresses are still seen.
    expect(f.seenOrAdd("198.51.100.1", T0 + HOUR + 1)).toBe(false);
    expect(f.seenOrAdd("2001:db8::5", T0 + HOUR + 2)).toBe(true);
    // Two halves on, what was added only in the first is gone; what was added again is not.
    expect(f.seenOrAdd("192.0.2.9", T0 + 2 * HOUR + 2)).toBe(false);
    expect(f.seenOrAdd("203.0.113.5", T0 + 2 * HOUR + 3)).toBe(false);
    expect(f.seenOrAdd("2001:db8::5", T0 + 2 * HOUR + 4)).toBe(true);
    // A gap longer than the span forgets everything.
    expect(f.seenOrAdd("192.0.2.9", T0 + 10 * HOUR)).toBe(false);
  });

  it("says seen of an address never added about 2% of the time with 100,000 in a half", () => {
    const f = createSeenFilter(2 * HOUR);
    for (let i = 0; i < 100_000; i++) f.seenOrAdd(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, T0);
    let wrong = 0;
    for (let i = 0; i < 100_000; i++)
      if (f.seenOrAdd(`172.16.${(i >> 8) & 255}.${i & 255}:${i >> 16}`, T0)) wrong++;
    expect(wrong).toBeGreaterThan(0);
    expect(wrong / 100_000).toBeLessThan(0.05);
  });
});
