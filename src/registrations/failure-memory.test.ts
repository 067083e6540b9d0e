// Unit tests of the per-address failure memory that suspect registrations are judged on.
import { failureOffense as failure } from "./testing/failure-offense.js";
import { describe, expect, it } from "vitest";
import { createFailureMemory } from "./failure-memory.js";

const HOUR = 3_600_000;
const T0 = 1_700_000_000_000;

describe("failure memory", () => {
  it("counts an address's failures within the lookback before a time, newest `keep` at most", () => {
    const m = createFailureMemory({ keep: 3, lookbackMs: HOUR });
    m.record("asterisk", failure("203.0.113.5", T0, "1001"));
    m.record("asterisk", failure("203.0.113.5", T0 + 1000, "1002"));
    expect(m.recent("203.0.113.5", T0 + 2000)).toMatchObject({
      count: 2,
      accounts: ["1002", "1001"],
      jail: "asterisk",
    });
    m.record("sip-scan", failure("203.0.113.5", T0 + 2000, "1001"));
    m.record("asterisk", failure("203.0.113.5", T0 + 3000, "admin"));
    const r = m.recent("203.0.113.5", T0 + 4000);
    expect(r?.count).toBe(3); // the oldest went: three kept
    expect(r?.accounts).toEqual(["admin", "1001", "1002"]);
    expect(r?.evidence.map((e) => e.time)).toEqual([T0 + 1000, T0 + 2000, T0 + 3000]);
    // Failures older than the lookback, or after the time asked, do not count.
    expect(m.recent("203.0.113.5", T0 + HOUR + 2500)?.count).toBe(1);
    expect(m.recent("203.0.113.5", T0 + 1500)?.count).toBe(1);
    expect(m.recent("203.0.113.5", T0 + 3 * HOUR)).toBeNull();
    expect(m.recent("198.51.100.1", T0)).toBeNull();
  });

  it("counts a line once when several jails match it, the same text twice on two lines, and no success", () => {
    const m = createFailureMemory({ keep: 10, lookbackMs: HOUR });
    const one = failure("203.0.113.5", T0, "1001", "the same text");
    const line = { text: "the same text" };
    m.record("asterisk", one, line);
    m.record("asterisk-ddos", { ...one, evidence: { ...one.evidence } }, line);
    expect(m.recent("203.0.113.5", T0 + 10)?.count).toBe(1);
    m.record("asterisk", one, { text: "the same text" }); // the next line, the same text in the same second
    m.record("asterisk", { ...failure("203.0.113.5", T0 + 5, "1001"), kind: "success" }, {});
    expect(m.recent("203.0.113.5", T0 + 10, "1001")).toMatchObject({
      count: 2,
      onAccount: 2,
      otherAccounts: 0,
    });
    expect(m.recent("203.0.113.5", T0 + 10, "1002")).toMatchObject({ onAccount: 0, otherAccounts: 1 });
  });

  it("holds at most maxAddresses, forgetting the one that failed longest ago; expire drops stale addresses", () => {
    const m = createFailureMemory({ keep: 5, lookbackMs: HOUR, maxAddresses: 2 });
    m.record("j", failure("192.0.2.1", T0));
    m.record("j", failure("192.0.2.2", T0 + 1));
    m.record("j", failure("192.0.2.1", T0 + 2)); // 192.0.2.1 failed last now
    m.record("j", failure("192.0.2.3", T0 + 3));
    expect(m.size()).toBe(2);
    expect(m.recent("192.0.2.2", T0 + 10)).toBeNull();
    expect(m.recent("192.0.2.1", T0 + 10)?.count).toBe(2);
    m.record("j", failure("192.0.2.3", T0 + HOUR));
    m.expire(T0 + HOUR + 100);
    expect(m.size()).toBe(1);
    expect(m.recent("192.0.2.3", T0 + HOUR + 100)?.count).toBe(1); // its first failure is past the lookback
  });
});
