// Unit tests of suspect registrations: a registration after many failed logins from its address shields
// nothing; a known customer's address and a registration after a few typos are left alone.
import { failureOffense as failure } from "./testing/failure-offense.js";
import { describe, expect, it } from "vitest";
import { parseCidr, parseIp, type Cidr, type IpAddress } from "../domain/address.js";
import { createManualClock } from "../domain/clock.js";
import { createFailureMemory } from "./failure-memory.js";
import { createRegistry } from "./registry.js";
import {
  createSuspectRegistrations,
  markFromJson,
  markJson,
  shieldRegistry,
  SPRAY_ACCOUNTS,
} from "./suspect-registrations.js";

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = 1_700_000_000_000;
const ip = (s: string): IpAddress => parseIp(s) as IpAddress;

function setup(failures = 5) {
  const clock = createManualClock(T0);
  const memory = createFailureMemory({ keep: 32, lookbackMs: HOUR });
  const suspects = createSuspectRegistrations({ failures, lookbackMs: HOUR }, { memory });
  const found: string[] = [];
  const registry = createRegistry({
    clock,
    onNew: (e, held) => {
      const mark = suspects.judge(e, held);
      if (mark) found.push(`${mark.user}@${mark.address.text} after ${mark.failures.count}`);
    },
  });
  const shielded = shieldRegistry(registry, (a, at) => suspects.markOf(a, at) !== null);
  const fail = (address: string, user: string, n: number): void => {
    for (let i = 0; i < n; i++)
      memory.record("asterisk", failure(address, clock.now() - (n - i) * 1000, user));
  };
  const register = (address: string, user: string, contact?: string): void => {
    registry.upsert({
      source: "kamailio",
      address,
      user,
      ...(contact === undefined ? {} : { contact }),
      expiresAt: clock.now() + 4 * HOUR,
    });
  };
  return { clock, memory, suspects, registry, shielded, found, fail, register };
}

describe("suspect registrations", () => {
  it("a registration after `failures` failed logins from its address is suspect and shields nothing", () => {
    const s = setup(5);
    s.fail("203.0.113.66", "1001", 5);
    s.fail("203.0.113.66", "1002", 1);
    s.register("203.0.113.66", "1001");
    expect(s.found).toEqual(["1001@203.0.113.66 after 6"]);
    const mark = s.suspects.markOf("203.0.113.66", s.clock.now());
    expect(mark?.failures).toMatchObject({ onAccount: 5, otherAccounts: 1, accounts: ["1002", "1001"] });
    expect(mark?.until).toBe(T0 + HOUR);
    // The raw registry still lists it; the view bans are judged on does not see it.
    expect(s.registry.isRegistered(ip("203.0.113.66"), s.clock.now())).not.toBeNull();
    expect(s.shielded.isRegistered(ip("203.0.113.66"), s.clock.now())).toBeNull();
    expect(s.shielded.registeredIn(parseCidr("203.0.113.0/24") as Cidr, s.clock.now())).toBeNull();
    // A customer elsewhere in the network still shields it.
    s.register("203.0.113.10", "2001");
    expect(s.shielded.registeredIn(parseCidr("203.0.113.0/24") as Cidr, s.clock.now())).toMatchObject({
      address: "203.0.113.10",
    });
    expect(s.suspects.list(s.clock.now()).map((m) => m.address.text)).toEqual(["203.0.113.66"]);
    // The mark lasts the lookback, then the address is shielded like any customer's.
    s.clock.advance(HOUR);
    expect(s.shielded.isRegistered(ip("203.0.113.66"), s.clock.now() - 1)).toBeNull();
    expect(s.shielded.isRegistered(ip("203.0.113.66"), s.clock.now())).not.toBeNull();
    s.suspects.expire(s.clock.now());
    expect(s.suspects.list(s.clock.now())).toEqual([]);
  });

  it("a few typos before a registration are not suspect, nor failures older than the lookback", () => {
    const s = setup(5);
    s.fail("198.51.100.7", "1001", 4);
    s.register("198.51.100.7", "1001");
    s.clock.advance(2 * HOUR);
    s.fail("198.51.100.8", "1001", 5);
    s.clock.advance(HOUR + 5000);
    s.register("198.51.100.8", "1001");
    expect(s.found).toEqual([]);
    expect(s.shielded.isRegistered(ip("198.51.100.7"), s.clock.now())).not.toBeNull();
  });

  it("a spray (one failure on each of SPRAY_ACCOUNTS other accounts) is suspect; a colleague's typos are not", () => {
    const s = setup(5);
    // The address's first failure keeps no account (1002 here): the three after it are the spray's.
    for (const user of ["1002", "1003", "1004", "1006"]) s.fail("203.0.113.90", user, 1);
    s.register("203.0.113.90", "1005");
    expect(s.found).toEqual(["1005@203.0.113.90 after 4"]);
    // The office seen for the first time (sipwarden just started): its phone 1002 has been failing for a
    // while with a typo, and 1001 registers. The failures name another account: not suspect.
    s.fail("192.0.2.44", "1002", 12);
    s.register("192.0.2.44", "1001");
    expect(s.found).toHaveLength(1);
    expect(SPRAY_ACCOUNTS).toBe(3);
  });

  it("a known customer's address is not judged: the office's second phone registering after its typos", () => {
    const s = setup(5);
    s.register("192.0.2.80", "office-1");
    s.fail("192.0.2.80", "office-2", 8);
    s.register("192.0.2.80", "office-2");
    // A phone re-registering (same binding) or changing its contact is not new either.
    s.register("192.0.2.80", "office-1");
    s.register("192.0.2.80", "office-1", "sip:office-1@10.0.0.5:5062");
    expect(s.found).toEqual([]);
  });

  it("an address that held a binding within the lookback is known: the office's registration lapsed and comes back", () => {
    const s = setup(5);
    // office-1 registers from a log line (a binding of one hour here), then lets it lapse.
    s.registry.upsert({
      source: "log:asterisk",
      address: "192.0.2.81",
      user: "office-1",
      expiresAt: s.clock.now() + 10 * MIN,
    });
    s.clock.advance(40 * MIN);
    s.registry.expire();
    expect(s.registry.forAddress("192.0.2.81")).toEqual([]);
    // office-2's typos (lines naming no account, as chan_sip's), then office-1 registers again.
    s.fail("192.0.2.81", "", 12);
    s.registry.upsert({
      source: "log:asterisk",
      address: "192.0.2.81",
      user: "office-1",
      expiresAt: s.clock.now() + 10 * MIN,
    });
    expect(s.found).toEqual([]);
    // An address whose binding went longer than the lookback ago is judged as a stranger's.
    s.clock.advance(10 * MIN + HOUR);
    s.registry.expire();
    s.fail("192.0.2.81", "", 12);
    s.register("192.0.2.81", "office-1");
    expect(s.found).toEqual(["office-1@192.0.2.81 after 12"]);
  });

  it("judges one address and account once per lookback; a dump's new bindings are judged too", () => {
    const s = setup(3);
    s.fail("203.0.113.70", "1001", 3);
    s.registry.replaceAll("kamailio", [
      { address: "203.0.113.70", user: "1001", contact: "sip:a", expiresAt: s.clock.now() + HOUR },
    ]);
    s.registry.replaceAll("kamailio", [
      { address: "203.0.113.70", user: "1001", contact: "sip:a", expiresAt: s.clock.now() + HOUR },
    ]);
    s.registry.upsert({
      source: "log:asterisk",
      address: "203.0.113.70",
      user: "1001",
      expiresAt: s.clock.now() + HOUR,
    });
    expect(s.found).toEqual(["1001@203.0.113.70 after 3"]);
  });

  it("a kept mark reads back as it was and, restored into a new rule, shields nothing until it ends", () => {
    const s = setup(3);
    s.fail("2001:db8::70", "1001", 3);
    s.register("2001:db8::70", "1001");
    const mark = s.suspects.markOf("2001:db8::70", s.clock.now());
    if (mark === null) throw new Error("expected a mark");
    // Through JSON text, as the state database keeps it.
    const kept = JSON.parse(JSON.stringify(markJson(mark))) as unknown;
    expect(markFromJson(kept)).toEqual(mark);

    // A restart: a new rule, empty failure memory, the same phone registering again.
    const after = setup(3);
    after.clock.set(T0 + 10 * MIN);
    after.suspects.restore([mark], after.clock.now());
    after.register("2001:db8::70", "1001");
    expect(after.found).toEqual([]);
    expect(after.shielded.isRegistered(ip("2001:db8::70"), after.clock.now())).toBeNull();
    expect(after.suspects.list(after.clock.now()).map((m) => m.user)).toEqual(["1001"]);
    after.clock.set(mark.until);
    expect(after.shielded.isRegistered(ip("2001:db8::70"), after.clock.now())).not.toBeNull();
    // A mark already over is not restored.
    const late = setup(3);
    late.clock.set(mark.until);
    late.suspects.restore([mark], late.clock.now());
    expect(late.suspects.list(0)).toEqual([]);
  });

  it("a kept mark that does not read as one is refused, its address above all", () => {
    const s = setup(3);
    s.fail("203.0.113.71", "1001", 3);
    s.register("203.0.113.71", "1001");
    const mark = s.suspects.markOf("203.0.113.71", s.clock.now());
    if (mark === null) throw new Error("expected a mark");
    const good = markJson(mark);
    expect(markFromJson(good)).not.toBeNull();
    expect(markFromJson({ ...good, address: "203.0.113.71; rm -rf /" })).toBeNull();
    expect(markFromJson({ ...good, address: "999.0.0.1" })).toBeNull();
    expect(markFromJson({ ...good, until: "tomorrow" })).toBeNull();
    expect(markFromJson({ ...good, failures: { ...mark.failures, evidence: [{ line: 1 }] } })).toBeNull();
    expect(markFromJson(null)).toBeNull();
  });

  it("clear ends the mark in force at once and says when; nothing to clear is null; the ended mark reads back", () => {
    const s = setup(3);
    s.fail("203.0.113.72", "1001", 3);
    s.register("203.0.113.72", "1001");
    s.clock.advance(MIN);
    const cleared = s.suspects.clear("203.0.113.72", s.clock.now());
    expect(cleared).toMatchObject({ user: "1001", until: T0 + MIN, clearedAt: T0 + MIN });
    expect(s.suspects.markOf("203.0.113.72", s.clock.now())).toBeNull();
    expect(s.shielded.isRegistered(ip("203.0.113.72"), s.clock.now())).not.toBeNull();
    expect(s.suspects.clear("203.0.113.72", s.clock.now())).toBeNull();
    // Its next binding (another contact) is not judged: the address holds a live one.
    s.fail("203.0.113.72", "1001", 3);
    s.register("203.0.113.72", "1001", "sip:1001@10.0.0.9");
    expect(s.found).toHaveLength(1);
    expect(markFromJson(JSON.parse(JSON.stringify(markJson(cleared!))))).toEqual(cleared);
  });
});
