import { describe, expect, it } from "vitest";
import { createIsoFormatter } from "./iso-time.js";

describe("createIsoFormatter", () => {
  it("writes what Date#toISOString writes, in order and out of order, over the whole range", () => {
    const iso = createIsoFormatter();
    let seed = 12345;
    const rand = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const times: number[] = [
      0, -0, 1, 999, 1000, 86_399_999, 86_400_000, 951_782_400_000, 253_402_300_799_999,
    ];
    for (let i = 0; i < 20_000; i++) times.push(Math.floor(rand() * 253_402_300_800_000));
    // A log's times: ascending, often several per second, across day boundaries.
    let t = Date.UTC(2026, 10, 20, 23, 59, 50);
    for (let i = 0; i < 20_000; i++) times.push((t += Math.floor(rand() * 700)));
    // Slow path: before 1970, after 9999, fractions.
    times.push(-1, -86_400_001, -62_198_755_200_000, 253_402_300_800_000, 8.64e15, 1.5, 1_700_000_000_000.25);
    for (const ms of times) {
      const expected = new Date(ms).toISOString();
      expect(iso(ms)).toBe(expected);
      expect(iso(ms, true)).toBe(expected.replace(".000Z", "Z"));
    }
  });

  it("drops only a zero millisecond part when compact", () => {
    const iso = createIsoFormatter();
    expect(iso(Date.UTC(2026, 10, 21, 3, 1, 0), true)).toBe("2026-11-21T03:01:00Z");
    expect(iso(Date.UTC(2026, 10, 21, 3, 1, 0, 5), true)).toBe("2026-11-21T03:01:00.005Z");
    expect(iso(Date.UTC(2026, 10, 21, 3, 1, 0, 50), false)).toBe("2026-11-21T03:01:00.050Z");
  });

  it("throws as Date does for what is not a time", () => {
    const iso = createIsoFormatter();
    expect(() => iso(Number.NaN)).toThrow(RangeError);
    expect(() => iso(8.64e15 + 1)).toThrow(RangeError);
  });
});
