// Evidence capping keeps the start and the end of an attack.

import { describe, expect, it } from "vitest";
import { capEvidence } from "./evidence-cap.js";

const lines = (n: number) => Array.from({ length: n }, (_, i) => ({ time: i, source: "s", line: `l${i}` }));

describe("capEvidence", () => {
  it("keeps everything under the cap", () => {
    expect(capEvidence(lines(3), 5)).toHaveLength(3);
  });
  it("keeps the first half and the last half", () => {
    expect(capEvidence(lines(30), 5).map((e) => e.time)).toEqual([0, 1, 2, 28, 29]);
    expect(capEvidence(lines(30)).map((e) => e.time)).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29,
    ]);
  });
});
