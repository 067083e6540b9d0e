import { describe, expect, it } from "vitest";
import { createEndMarks } from "./fleet-end-marks.js";

describe("fleet end marks", () => {
  it("keeps the latest end per target, says what it ended, and forgets the oldest target beyond its bound", () => {
    const marks = createEndMarks(2);
    marks.mark("192.0.2.1", 100);
    marks.mark("192.0.2.1", 50); // an older end changes nothing
    expect(marks.endedSince("192.0.2.1", 100)).toBe(true);
    expect(marks.endedSince("192.0.2.1", 99)).toBe(true);
    expect(marks.endedSince("192.0.2.1", 101)).toBe(false);
    expect(marks.endedSince("192.0.2.2", 1)).toBe(false);
    marks.mark("192.0.2.2", 10);
    marks.mark("192.0.2.1", 200); // a later one renews it: now the newest
    marks.mark("192.0.2.3", 10);
    expect(marks.endedSince("192.0.2.2", 10)).toBe(false);
    expect(marks.endedSince("192.0.2.1", 150)).toBe(true);
    expect(marks.endedSince("192.0.2.3", 10)).toBe(true);
  });
});
