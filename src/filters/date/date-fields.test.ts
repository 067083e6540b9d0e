// Epoch time from captured date fields: zones, 12-hour clocks, and the year of year-less dates.

import { describe, expect, it } from "vitest";
import { timeFromFields } from "./date-fields.js";

const f = (fields: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(fields).map(([k, v]) => [`_d${k}`, v]));

describe("timeFromFields", () => {
  it("picks the year that puts a year-less date nearest at or before the reference", () => {
    const ref = Date.UTC(2025, 0, 1, 0, 10);
    expect(timeFromFields(f({ b: "Dec", d: "31", H: "23", M: "59", S: "00" }), ref)).toBe(Date.UTC(2024, 11, 31, 23, 59));
    // Slightly after the reference (clock skew) stays in the reference's year.
    expect(timeFromFields(f({ b: "Jan", d: "1", H: "2", M: "0", S: "0" }), ref)).toBe(Date.UTC(2025, 0, 1, 2));
    // Just past midnight on New Year with a reference a minute before: next year, within tolerance.
    expect(timeFromFields(f({ b: "Jan", d: "1", H: "0", M: "1", S: "0" }), Date.UTC(2024, 11, 31, 23, 59))).toBe(
      Date.UTC(2025, 0, 1, 0, 1),
    );
    expect(timeFromFields(f({ b: "Mar", d: "5", H: "1", M: "0", S: "0" }), ref)).toBe(Date.UTC(2024, 2, 5, 1));
    // Feb 29 looks back to the last leap year.
    expect(timeFromFields(f({ b: "Feb", d: "29", H: "0", M: "0", S: "0" }), Date.UTC(2027, 5, 1))).toBe(Date.UTC(2024, 1, 29));
  });

  it("uses the reference day for a bare time, or the day before when it is still ahead", () => {
    const ref = Date.UTC(2024, 10, 21, 12);
    expect(timeFromFields(f({ H: "11", M: "00", S: "00" }), ref)).toBe(Date.UTC(2024, 10, 21, 11));
    expect(timeFromFields(f({ H: "23", M: "00", S: "00" }), ref)).toBe(Date.UTC(2024, 10, 20, 23));
  });

  it("reads zones, 12-hour clocks, two-digit years and fractions", () => {
    const ref = Date.UTC(2030, 0, 1);
    expect(timeFromFields(f({ Y: "2024", m: "11", d: "21", H: "23", M: "45", S: "38", z: "+05:30" }), ref)).toBe(
      Date.UTC(2024, 10, 21, 18, 15, 38),
    );
    expect(timeFromFields(f({ Y: "2024", m: "1", d: "2", I: "12", M: "0", S: "0", p: "am" }), ref)).toBe(Date.UTC(2024, 0, 2, 0));
    expect(timeFromFields(f({ y: "69", m: "1", d: "1" }), ref)).toBe(Date.UTC(1969, 0, 1));
    expect(timeFromFields(f({ y: "24", m: "1", d: "1", S: "60", f: "5" }), ref)).toBe(Date.UTC(2024, 0, 1, 0, 0, 59, 500));
  });

  it("reads a date without a zone in the filter's logtimezone, its own zone still first", () => {
    const ref = Date.UTC(2030, 0, 1);
    const date = { Y: "2026", m: "12", d: "7", H: "9", M: "0", S: "0" };
    expect(timeFromFields(f(date), ref, 120)).toBe(Date.UTC(2026, 11, 7, 7));
    expect(timeFromFields(f(date), ref, -300)).toBe(Date.UTC(2026, 11, 7, 14));
    expect(timeFromFields(f({ ...date, z: "+0000" }), ref, -300)).toBe(Date.UTC(2026, 11, 7, 9));
  });

  it("takes the reference's day and year in the logtimezone for bare times and year-less dates", () => {
    // 00:30 UTC on New Year is still 19:30 on Dec 31 five hours west.
    const ref = Date.UTC(2027, 0, 1, 0, 30);
    expect(timeFromFields(f({ H: "19", M: "0", S: "0" }), ref, -300)).toBe(Date.UTC(2027, 0, 1, 0));
    expect(timeFromFields(f({ H: "23", M: "0", S: "0" }), ref, -300)).toBe(Date.UTC(2026, 11, 31, 4));
    expect(timeFromFields(f({ b: "Dec", d: "31", H: "19", M: "0", S: "0" }), ref, -300)).toBe(Date.UTC(2027, 0, 1, 0));
    // Two hours east it is already 02:30 on Jan 1: a line stamped 02:00 that day.
    expect(timeFromFields(f({ b: "Jan", d: "1", H: "2", M: "0", S: "0" }), ref, 120)).toBe(Date.UTC(2027, 0, 1, 0));
  });

  it("returns null for dates that do not exist", () => {
    expect(timeFromFields(f({ Y: "2023", m: "2", d: "29" }), Date.UTC(2030, 0, 1))).toBeNull();
  });
});
