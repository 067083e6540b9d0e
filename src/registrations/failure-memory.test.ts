// Unit tests of the per-address failure memory that suspect registrations are judged on.
import { failureOffense as failure } from "./testing/failure-offense.js";
import { describe, expect, it } from "vitest";
import { parseIp, type IpAddress } from "../domain/address.js";
import { createFailureMemory } from "./failure-memory.js";

const ip = (s: string): IpAddress => parseIp(s) as IpAddress;

const HOUR = 3_600_000;
const T0 = 1_700_000_000_000;

describe("failure memory", () => {
  it("counts an address's failures within the lookback before a time, its newest keep + 16", () => {
    const m = createFailureMemory({ keep: 2, lookbackMs: HOUR });
    m.record("asterisk", failure("203.0.113.5", T0, "1001"));
    m.record("asterisk", failure("203.0.113.5", T0 + 1000, "1002"));
    // The address's first failure keeps no account: it counts as one naming none.
    expect(m.recent(ip("203.0.113.5"), T0 + 2000, "1003")).toMatchObject({
      count: 2,
      onAccount: 1,
      otherAccounts: 1,
      accounts: ["1002"],
      jail: "asterisk",
    });
    m.record("sip-scan", failure("203.0.113.5", T0 + 2000, "1001"));
    m.record("asterisk", failure("203.0.113.5", T0 + 3000, "1001"));
    m.record("asterisk", failure("203.0.113.5", T0 + 3500));
    m.record("asterisk", failure("203.0.113.5", T0 + 3600, "1001"));
    const r = m.recent(ip("203.0.113.5"), T0 + 4000, "1001");
    // The lines naming no account count for whoever registers.
    expect(r).toMatchObject({ count: 6, onAccount: 5, otherAccounts: 1, accounts: ["1001", "1002"] });
    expect(r?.evidence.map((e) => e.time)).toEqual([T0 + 3000, T0 + 3500, T0 + 3600]); // the newest three lines
    expect(m.recent(ip("203.0.113.5"), T0 + 4000, "1002")).toMatchObject({ onAccount: 3, otherAccounts: 1 });
    // Failures older than the lookback, or after the time asked, do not count.
    expect(m.recent(ip("203.0.113.5"), T0 + HOUR + 3200)?.count).toBe(2);
    expect(m.recent(ip("203.0.113.5"), T0 + 1500)?.count).toBe(2);
    expect(m.recent(ip("203.0.113.5"), T0 + 3 * HOUR)).toBeNull();
    expect(m.recent(ip("198.51.100.1"), T0)).toBeNull();
  });

  it("keeps an address's newest keep + 16 failures: a spray is seen by its accounts, and bounded", () => {
    const m = createFailureMemory({ keep: 5, lookbackMs: HOUR });
    for (let i = 0; i < 20; i++) m.record("asterisk", failure("203.0.113.9", T0 + i, `${100 + i}`));
    const r = m.recent(ip("203.0.113.9"), T0 + 100, "200");
    // The first failure's account (100) is not kept: it counts for whoever registers.
    expect(r).toMatchObject({ count: 20, onAccount: 1, otherAccounts: 19 });
    expect(r?.accounts).toEqual(["119", "118", "117", "116", "115"]);
    for (let i = 20; i < 40; i++) m.record("asterisk", failure("203.0.113.9", T0 + i, `${100 + i}`));
    expect(m.recent(ip("203.0.113.9"), T0 + 100, "200")).toMatchObject({
      count: 21,
      onAccount: 0,
      otherAccounts: 21,
    });
  });

  it("counts a line once when several jails match it, the same text twice on two lines, and no success", () => {
    const m = createFailureMemory({ keep: 10, lookbackMs: HOUR });
    const one = failure("203.0.113.5", T0, "1001", "the same text");
    const line = { text: "the same text" };
    m.record("asterisk", one, line);
    m.record("asterisk-ddos", { ...one, evidence: { ...one.evidence } }, line);
    expect(m.recent(ip("203.0.113.5"), T0 + 10)).toBeNull(); // one failure: no entry yet
    m.record("asterisk", one, { text: "the same text" }); // the next line, the same text in the same second
    m.record("asterisk", { ...failure("203.0.113.5", T0 + 5, "1001"), kind: "success" }, {});
    expect(m.recent(ip("203.0.113.5"), T0 + 10, "1001")).toMatchObject({
      count: 2,
      onAccount: 2,
      otherAccounts: 0,
    });
    expect(m.recent(ip("203.0.113.5"), T0 + 10, "1002")).toMatchObject({ onAccount: 1, otherAccounts: 1 });
  });

  it("holds at most maxAddresses, forgetting the tenth made first; expire drops stale ones", () => {
    const m = createFailureMemory({ keep: 5, lookbackMs: HOUR, maxAddresses: 2 });
    // An address that failed once has no entry; its second failure counts both.
    m.record("asterisk", failure("198.51.100.99", T0, "1001"));
    expect([m.size(), m.recent(ip("198.51.100.99"), T0 + 10)]).toEqual([0, null]);
    m.record("asterisk", failure("198.51.100.99", T0 + 5, "1001"));
    expect(m.recent(ip("198.51.100.99"), T0 + 10, "1001")).toMatchObject({
      count: 2,
      onAccount: 2,
      jail: "asterisk",
    });
    for (const ip of ["192.0.2.1", "192.0.2.2"]) {
      m.record("j", failure(ip, T0));
      m.record("j", failure(ip, T0 + 1));
    }
    m.record("j", failure("192.0.2.1", T0 + 2)); // a third failure: no new entry
    expect(m.size()).toBe(2);
    expect(m.recent(ip("198.51.100.99"), T0 + 10)).toBeNull(); // made first, forgotten first
    expect(m.recent(ip("192.0.2.1"), T0 + 10)?.count).toBe(3);
    expect(m.recent(ip("192.0.2.2"), T0 + 10)?.count).toBe(2);
    // Past the bound a tenth goes at once, the entries made first.
    const big = createFailureMemory({ keep: 5, lookbackMs: HOUR, maxAddresses: 20 });
    for (let i = 0; i < 21; i++)
      for (const t of [0, 1]) big.record("j", failure(`198.51.100.${i}`, T0 + 2 * i + t));
    expect(big.size()).toBe(19);
    expect([big.recent(ip("198.51.100.1"), T0 + 50), big.recent(ip("198.51.100.2"), T0 + 50)?.count]).toEqual(
      [null, 2],
    );
    // expire drops whatever is past the lookback.
    m.record("j", failure("192.0.2.2", T0 + HOUR));
    m.expire(T0 + HOUR + 100);
    expect(m.size()).toBe(1);
    expect(m.recent(ip("192.0.2.2"), T0 + HOUR + 100)?.count).toBe(1); // its first failures are past the lookback
  });

  it("with an IPv6 prefix, holds an IPv6 address's failures under its network; IPv4 and other networks apart", () => {
    const m = createFailureMemory({ keep: 5, lookbackMs: HOUR, ipv6Prefix: 64 });
    // A new address of one /64 at every attempt.
    for (let i = 1; i <= 4; i++) m.record("asterisk", failure(`2001:db8:5:1::${i}`, T0 + i, "1001"));
    m.record("asterisk", failure("2001:db8:5:2::1", T0 + 5, "1001"));
    m.record("asterisk", failure("2001:db8:5:2::2", T0 + 6, "1001"));
    m.record("asterisk", failure("192.0.2.1", T0 + 7, "1001"));
    m.record("asterisk", failure("192.0.2.2", T0 + 8, "1001"));
    // Asked for an address it never failed from, in the same /64.
    expect(m.recent(ip("2001:db8:5:1::99"), T0 + 10, "1001")).toMatchObject({ count: 4, onAccount: 4 });
    expect(m.recent(ip("2001:db8:5:2::99"), T0 + 10, "1001")?.count).toBe(2);
    expect(m.recent(ip("2001:db8:5:3::1"), T0 + 10, "1001")).toBeNull();
    expect(m.recent(ip("192.0.2.3"), T0 + 10)).toBeNull();
    // Per address without the prefix (the default, 128).
    const per = createFailureMemory({ keep: 5, lookbackMs: HOUR });
    for (let i = 1; i <= 4; i++) per.record("asterisk", failure(`2001:db8:5:1::${i}`, T0 + i, "1001"));
    expect(per.recent(ip("2001:db8:5:1::99"), T0 + 10)).toBeNull();
  });
});
