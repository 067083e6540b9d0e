// The per-address sliding window: counting, sliding, late lines, pruning.

import { describe, expect, it } from "vitest";
import { createFailureWindow } from "./failure-window.js";

const ev = (time: number) => ({ time, source: "s", line: `t${time}` });

describe("createFailureWindow", () => {
  it("counts per address and empties the window when full", () => {
    const w = createFailureWindow({ maxretry: 3, findtimeMs: 100 });
    expect(w.add("a", 0, ev(0))).toEqual({ status: "counting", count: 1 });
    expect(w.add("b", 0, ev(0))).toEqual({ status: "counting", count: 1 });
    expect(w.add("a", 50, ev(50))).toEqual({ status: "counting", count: 2 });
    const full = w.add("a", 100, ev(100));
    expect(full.status === "full" && full.evidence.map((e) => e.time)).toEqual([0, 50, 100]);
    expect(w.size()).toEqual({ addresses: 1, failures: 1 });
  });

  it("slides: failures older than newest - findtime leave the window", () => {
    const w = createFailureWindow({ maxretry: 3, findtimeMs: 100 });
    w.add("a", 0, ev(0));
    w.add("a", 50, ev(50));
    expect(w.add("a", 101, ev(101))).toEqual({ status: "counting", count: 2 });
    expect(w.add("a", 0, ev(0))).toEqual({ status: "late" });
  });

  it("inserts a late failure in time order", () => {
    const w = createFailureWindow({ maxretry: 3, findtimeMs: 100 });
    w.add("a", 90, ev(90));
    w.add("a", 10, ev(10));
    const full = w.add("a", 50, ev(50));
    expect(full.status === "full" && full.evidence.map((e) => e.time)).toEqual([10, 50, 90]);
  });

  it("expire and clear free memory", () => {
    const w = createFailureWindow({ maxretry: 9, findtimeMs: 100 });
    for (let t = 0; t < 5; t++) w.add("a", t * 30, ev(t * 30));
    w.add("b", 0, ev(0));
    w.expire(160);
    expect(w.size()).toEqual({ addresses: 1, failures: 3 });
    w.clear("a");
    expect(w.size()).toEqual({ addresses: 0, failures: 0 });
  });
});
