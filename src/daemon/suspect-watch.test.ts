// Unit tests of the daemon's suspect watch over a store: marks kept while in force and after (for explain),
// restored by a new watch (a restart), and an unreadable kept mark left out with a warning.
import { describe, expect, it } from "vitest";
import { createManualClock } from "../domain/clock.js";
import { failureOffense as failure } from "../registrations/testing/failure-offense.js";
import { createRegistry } from "../registrations/registry.js";
import { createMemoryDecisionStore } from "../store/memory/decision-store.js";
import { createSuspectWatch } from "./suspect-watch.js";

const MIN = 60_000;
const DAY = 24 * 60 * MIN;
const T0 = 1_700_000_000_000;
const SETTING = { failures: 3, lookbackMs: 10 * MIN, action: "report" as const };

function setup(
  store = createMemoryDecisionStore({ retentionMs: DAY }),
  clock = createManualClock(T0),
  ipv6Prefix = 128,
) {
  const warnings: string[] = [];
  const told: string[] = [];
  const watch = createSuspectWatch(SETTING, ipv6Prefix, {
    clock,
    log: { warn: (_f, m) => void warnings.push(m), error: (_f, m) => void warnings.push(m) },
    marks: store.suspectMarks,
    tell: (text) => void told.push(text),
    detection: () => undefined,
    enforce: () => undefined,
  });
  const registry = createRegistry({ clock, onNew: (e, held) => watch.onNew(e, held) });
  const shielded = watch.shield(registry);
  return { store, clock, watch, registry, shielded, warnings, told };
}

describe("suspect watch", () => {
  it("keeps a mark in the store: in force it unshields, over it is still told of until the retention", () => {
    const s = setup();
    for (let i = 0; i < 3; i++) s.watch.record("asterisk", failure("203.0.113.9", T0 - 3000 + i, "1001"), {});
    s.registry.upsert({ source: "kamailio", address: "203.0.113.9", user: "1001", expiresAt: T0 + DAY });
    expect(s.told).toHaveLength(1);
    const mark = s.watch.markOf("203.0.113.9");
    expect(mark).toMatchObject({ user: "1001", until: T0 + 10 * MIN, failures: { count: 3 } });
    expect(s.store.suspectMarks.inForce(T0)).toHaveLength(1);
    expect(s.watch.clear("198.51.100.1")).toBeNull();

    // Over: no longer in force, still the latest mark, read back from the store as it was.
    s.clock.set(T0 + 10 * MIN);
    expect(s.watch.markOf("203.0.113.9")).toBeNull();
    expect(s.watch.lastMark("203.0.113.9")).toEqual(mark);
    s.store.expire(T0 + 10 * MIN + DAY + 1);
    expect(s.watch.lastMark("203.0.113.9")).toBeNull();
  });

  it("a new watch on the same store (a restart) holds the marks in force; an unreadable one is left out, said", () => {
    const first = setup();
    for (let i = 0; i < 3; i++) first.watch.record("asterisk", failure("2001:db8::9", T0 - 3000 + i), {});
    first.registry.upsert({ source: "esl", address: "2001:db8::9", user: "1002", expiresAt: T0 + DAY });
    expect(first.watch.markOf("2001:db8::9")).not.toBeNull();
    // A row written by hand: its address is no address.
    first.store.suspectMarks.save("2001:db8::10", T0 + DAY, { address: "not an address", user: "x" });

    const clock = createManualClock(T0 + MIN);
    const after = setup(first.store, clock);
    expect(after.watch.stats().marked.map((m) => [m.address.text, m.user])).toEqual([
      ["2001:db8::9", "1002"],
    ]);
    expect(after.warnings).toEqual([
      "suspect registration marks in the state database that do not read as marks were left out",
    ]);
    // The phone registering again (the registry is new): no failures here, yet it shields nothing.
    after.registry.upsert({ source: "esl", address: "2001:db8::9", user: "1002", expiresAt: T0 + DAY });
    expect(after.told).toEqual([]);
    expect(after.shielded.isRegistered({ family: 6, text: "2001:db8::9" }, clock.now())).toBeNull();
    expect(after.registry.isRegistered({ family: 6, text: "2001:db8::9" }, clock.now())).not.toBeNull();
  });

  it("with an IPv6 prefix, a network where another phone's registration lapsed within the lookback is known", () => {
    const s = setup(undefined, undefined, 64);
    // office-1's phone registered at ::10 and lapsed five minutes ago.
    s.registry.upsert({
      source: "log:asterisk",
      address: "2001:db8:77::10",
      user: "office-1",
      expiresAt: T0 + MIN,
    });
    s.clock.set(T0 + 6 * MIN);
    s.registry.expire();
    /** Three failures from `from` on `user`, then `user` registers from `at`. */
    const guessed = (from: string, at: string, user: string): void => {
      for (let i = 0; i < 3; i++)
        s.watch.record("asterisk", failure(from, s.clock.now() - 3000 + i, user), {});
      s.registry.upsert({ source: "log:asterisk", address: at, user, expiresAt: T0 + DAY });
    };
    // office-2's phone, at ::20, fails three times, then gets its password right.
    guessed("2001:db8:77::20", "2001:db8:77::20", "office-2");
    expect(s.told).toEqual([]);
    // The same in a /64 that never held a registration: suspect.
    guessed("2001:db8:66::20", "2001:db8:66::99", "1001");
    expect(s.told).toHaveLength(1);
    expect(s.watch.markOf("2001:db8:66::99")).toMatchObject({ user: "1001", failures: { count: 3 } });
  });

  it("clear ends the mark, keeps it as ended in the store, and tells", () => {
    const s = setup();
    for (let i = 0; i < 3; i++)
      s.watch.record("asterisk", failure("203.0.113.10", T0 - 3000 + i, "1001"), {});
    s.registry.upsert({ source: "kamailio", address: "203.0.113.10", user: "1001", expiresAt: T0 + DAY });
    s.clock.set(T0 + MIN);
    expect(s.watch.clear("203.0.113.10")).toMatchObject({ until: T0 + MIN, clearedAt: T0 + MIN });
    expect(s.told[1]).toBe(
      '203.0.113.10 (kamailio): the suspect registration as "1001" was cleared by hand; the address is shielded from bans again',
    );
    expect(s.store.suspectMarks.inForce(T0 + MIN)).toEqual([]);
    expect(s.watch.lastMark("203.0.113.10")).toMatchObject({ clearedAt: T0 + MIN });
    expect(s.watch.clear("203.0.113.10")).toBeNull();
    expect(s.told).toHaveLength(2);
  });
});
