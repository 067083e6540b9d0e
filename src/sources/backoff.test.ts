// Tests the restart delay sequence.
import { describe, expect, it } from "vitest";
import { backoffDelay } from "./backoff.js";

describe("backoffDelay", () => {
  it("doubles from the initial delay up to the ceiling", () => {
    const policy = { initialDelayMs: 100, maxDelayMs: 1000 };
    expect([1, 2, 3, 4, 5, 50].map((a) => backoffDelay(a, policy))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });
});
