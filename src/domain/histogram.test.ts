import { expect, it } from "vitest";
import { createHistogram } from "./histogram.js";

it("counts each value in the first bucket that holds it, cumulatively, with +Inf last", () => {
  const h = createHistogram([0.01, 0.001, 0.1]);
  for (const v of [0.0005, 0.001, 0.002, 0.05, 3, NaN]) h.observe(v);
  const s = h.snapshot();
  expect(s.buckets).toEqual([
    { le: 0.001, count: 2 },
    { le: 0.01, count: 3 },
    { le: 0.1, count: 4 },
    { le: Infinity, count: 5 },
  ]);
  expect(s.count).toBe(5);
  expect(s.sum).toBeCloseTo(3.0535, 10);
});
