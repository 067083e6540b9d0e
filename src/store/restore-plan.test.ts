// planRestore: what a restarted daemon puts back into the kernel, and for how long.
import { describe, expect, it } from "vitest";
import type { BanScope } from "../domain/decision.js";
import { ban } from "./decision-store.contract.js";
import type { StoredDecision } from "./decision-store.js";
import { planRestore } from "./restore-plan.js";

const T0 = Date.UTC(2026, 0, 10, 12);
const HOUR = 3_600_000;
const SIP: BanScope = { kind: "service", protocols: ["udp"], ports: [{ from: 5060, to: 5060 }] };

let nextId = 1;
function stored(d: ReturnType<typeof ban>, ended: number | null = null): StoredDecision {
  return { ...d, id: nextId++, endedAt: ended, endedBy: ended === null ? null : "manual" };
}

describe("planRestore", () => {
  it("re-applies running bans with the time they have left, permanent ones without a timeout", () => {
    const timed = stored(ban("192.0.2.1", { at: T0, durationMs: 2 * HOUR, scope: SIP }));
    const perm = stored(ban("2001:db8::/64", { at: T0, durationMs: null, origin: "manual" }));
    const plan = planRestore([timed, perm], T0 + 30 * 60_000);
    expect(plan).toEqual({
      entries: [
        {
          target: "192.0.2.1",
          timeoutMs: 90 * 60_000,
          scope: SIP,
          decisionId: timed.id,
          origin: "jail:asterisk",
        },
        {
          target: "2001:db8::/64",
          timeoutMs: null,
          scope: { kind: "all" },
          decisionId: perm.id,
          origin: "manual",
        },
      ],
      skipped: 0,
    });
  });

  it("drops expired, ended and spare decisions; at expiresAt a ban is over", () => {
    const expired = stored(ban("192.0.2.1", { at: T0, durationMs: HOUR }));
    const ended = stored(ban("192.0.2.2", { at: T0, durationMs: null }), T0 + 1);
    const spare = stored({ ...ban("192.0.2.3"), action: "spare", durationMs: 0, expiresAt: T0 });
    const running = stored(ban("192.0.2.4", { at: T0, durationMs: HOUR + 1 }));
    const plan = planRestore([expired, ended, spare, running], T0 + HOUR);
    expect(plan.entries.map((e) => [e.target, e.timeoutMs])).toEqual([["192.0.2.4", 1]]);
    expect(plan.skipped).toBe(3);
  });

  it("merges bans on the same target and scope into one entry with the longest remaining time", () => {
    const short = stored(ban("192.0.2.1", { at: T0, durationMs: HOUR }));
    const long = stored(ban("192.0.2.1", { at: T0, durationMs: 5 * HOUR, origin: "jail:recidive" }));
    const shorter = stored(ban("192.0.2.1", { at: T0, durationMs: 2 * HOUR, origin: "feed:voipbl" }));
    const otherScope = stored(ban("192.0.2.1", { at: T0, durationMs: HOUR, scope: SIP }));
    const plan = planRestore([short, long, shorter, otherScope], T0);
    expect(plan.entries.map((e) => [e.decisionId, e.timeoutMs])).toEqual([
      [long.id, 5 * HOUR],
      [otherScope.id, HOUR],
    ]);
    expect(plan.skipped).toBe(2);
  });

  it("lets a permanent ban win over any timeout, in either order", () => {
    const perm = stored(ban("192.0.2.1", { at: T0, durationMs: null }));
    const timed = stored(ban("192.0.2.1", { at: T0, durationMs: 100 * HOUR }));
    expect(planRestore([perm, timed], T0).entries.map((e) => e.decisionId)).toEqual([perm.id]);
    expect(planRestore([timed, perm], T0).entries.map((e) => e.decisionId)).toEqual([perm.id]);
  });

  it("treats the same ports and protocols listed in another order as one kernel element", () => {
    const a: BanScope = {
      kind: "service",
      protocols: ["udp", "tcp"],
      ports: [
        { from: 5060, to: 5061 },
        { from: 5080, to: 5080 },
      ],
    };
    const b: BanScope = {
      kind: "service",
      protocols: ["tcp", "udp"],
      ports: [
        { from: 5080, to: 5080 },
        { from: 5060, to: 5061 },
      ],
    };
    const plan = planRestore(
      [stored(ban("192.0.2.1", { scope: a })), stored(ban("192.0.2.1", { scope: b }))],
      T0,
    );
    expect(plan.entries).toHaveLength(1);
  });

  it("returns an empty plan for no decisions", () => {
    expect(planRestore([], T0)).toEqual({ entries: [], skipped: 0 });
  });
});
