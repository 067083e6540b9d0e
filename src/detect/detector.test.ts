// Focused checks of the detector: thresholds, windows, escalation, recidive, protection, memory.

import { describe, expect, it } from "vitest";
import { parseIp } from "../domain/address.js";
import type { BanScope, Decision } from "../domain/decision.js";
import type { Offense } from "../domain/offense.js";
import type { Allowlist } from "./allowlist.js";
import { createDetector } from "./detector.js";
import type { DetectorSpec, JailSpec } from "./jail-spec.js";

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const SIP: BanScope = { kind: "service", protocols: ["udp"], ports: [{ from: 5060, to: 5060 }] };

const jail = (over: Partial<JailSpec> = {}): JailSpec => ({
  name: "asterisk",
  filter: "asterisk",
  maxretry: 5,
  findtimeMs: 10 * MIN,
  bantimeMs: HOUR,
  scope: SIP,
  ...over,
});

const spec = (over: Partial<DetectorSpec> = {}): DetectorSpec => ({
  jails: [jail()],
  escalation: { enabled: false, factor: 2, maxBantimeMs: DAY, memoryMs: 30 * DAY },
  recidive: { enabled: false, maxretry: 3, findtimeMs: DAY, bantimeMs: 7 * DAY },
  ...over,
});

const noAllowlist: Allowlist = {
  match: () => null,
  overlapping: () => null,
  refresh: async () => undefined,
  problems: () => [],
  size: () => 0,
  entries: () => [],
};

let lineNo = 0;
function fail(
  address: string,
  time: number,
  line = `failed for '${address}:5060' - Wrong password`,
): Offense {
  const ip = parseIp(address);
  if (!ip) throw new Error(address);
  return {
    kind: "failure",
    address: ip,
    time,
    filter: "asterisk",
    evidence: { time, source: "test.log", lineNo: ++lineNo, line },
  };
}

/** Feeds `times` for one address into jail `j`, returning every decision. */
function feed(
  d: ReturnType<typeof createDetector>,
  address: string,
  times: number[],
  j = "asterisk",
): Decision[] {
  return times.flatMap((t) => [...d.handle(j, fail(address, t))]);
}

describe("createDetector: counting", () => {
  it("bans exactly at maxretry, not before", () => {
    const d = createDetector(spec(), { allowlist: noAllowlist });
    expect(
      feed(
        d,
        "203.0.113.1",
        [0, 1, 2, 3].map((m) => m * MIN),
      ),
    ).toEqual([]);
    const [ban, ...rest] = d.handle("asterisk", fail("203.0.113.1", 4 * MIN));
    expect(rest).toEqual([]);
    expect(ban).toMatchObject({
      action: "ban",
      target: "203.0.113.1",
      origin: "jail:asterisk",
      scope: SIP,
      at: 4 * MIN,
      durationMs: HOUR,
      expiresAt: 4 * MIN + HOUR,
      priorBans: 0,
    });
    expect(ban?.reason).toBe("5 failures in 10m (asterisk): failed for '203.0.113.1:5060' - Wrong password");
    expect(ban?.evidence).toHaveLength(5);
  });

  it("maxretry 1 bans on the first failure", () => {
    const d = createDetector(spec({ jails: [jail({ maxretry: 1 })] }), { allowlist: noAllowlist });
    expect(d.handle("asterisk", fail("203.0.113.1", 0))).toHaveLength(1);
  });

  it("counts a failure exactly findtime before the newest (inclusive), not one 1 ms older", () => {
    const d = createDetector(spec({ jails: [jail({ maxretry: 2 })] }), { allowlist: noAllowlist });
    expect(feed(d, "203.0.113.1", [0, 10 * MIN])).toHaveLength(1);
    expect(feed(d, "203.0.113.2", [0, 10 * MIN + 1])).toEqual([]);
  });

  it("accepts slightly out-of-order times and dates the ban at the newest failure", () => {
    const d = createDetector(spec({ jails: [jail({ maxretry: 3 })] }), { allowlist: noAllowlist });
    const out = feed(d, "203.0.113.1", [5 * MIN, 2 * MIN, 4 * MIN]);
    expect(out).toHaveLength(1);
    expect(out[0]?.at).toBe(5 * MIN);
    expect(out[0]?.evidence.map((e) => e.time)).toEqual([2 * MIN, 4 * MIN, 5 * MIN]);
  });

  it("drops a failure more than findtime older than the address's newest, and counts it as late", () => {
    const d = createDetector(spec({ jails: [jail({ maxretry: 2 })] }), { allowlist: noAllowlist });
    expect(feed(d, "203.0.113.1", [20 * MIN, 9 * MIN])).toEqual([]);
    expect(d.stats().offenses.late).toBe(1);
  });

  it("resets the counter after a ban and does not ban again while banned", () => {
    const d = createDetector(spec({ jails: [jail({ maxretry: 2, bantimeMs: 10 * MIN })] }), {
      allowlist: noAllowlist,
    });
    expect(feed(d, "203.0.113.1", [0, MIN])).toHaveLength(1);
    expect(feed(d, "203.0.113.1", [2 * MIN, 3 * MIN, 4 * MIN, 10 * MIN])).toEqual([]);
    expect(d.stats().offenses.whileBanned).toBe(4);
    // The ban ends at expiresAt (11m): failures from then on count afresh, one alone is not enough.
    expect(feed(d, "203.0.113.1", [11 * MIN])).toEqual([]);
    expect(feed(d, "203.0.113.1", [12 * MIN])).toHaveLength(1);
  });

  it("throws for an unknown jail (a wiring bug)", () => {
    const d = createDetector(spec(), { allowlist: noAllowlist });
    expect(() => d.handle("nope", fail("203.0.113.1", 0))).toThrow(/no jail named "nope"/);
  });

  it("rejects duplicate jails and the reserved recidive name", () => {
    expect(() => createDetector(spec({ jails: [jail(), jail()] }), { allowlist: noAllowlist })).toThrow(
      /duplicate/,
    );
    const recidive = { enabled: true, maxretry: 3, findtimeMs: DAY, bantimeMs: DAY };
    expect(() =>
      createDetector(spec({ jails: [jail({ name: "recidive" })], recidive }), { allowlist: noAllowlist }),
    ).toThrow(/reserved/);
  });
});

describe("createDetector: escalation and recidive", () => {
  const escalation = { enabled: true, factor: 2, maxBantimeMs: 5 * HOUR, memoryMs: 30 * DAY };

  it("doubles each ban up to the cap, and never lowers maxretry", () => {
    const d = createDetector(spec({ jails: [jail({ maxretry: 3, findtimeMs: MIN })], escalation }), {
      allowlist: noAllowlist,
    });
    const durations: number[] = [];
    for (let i = 0; i < 5; i++) {
      const base = i * DAY;
      // Two failures never ban, however many bans came before.
      expect(feed(d, "203.0.113.1", [base, base + 1000])).toEqual([]);
      const out = feed(d, "203.0.113.1", [base + 2000]);
      expect(out).toHaveLength(1);
      expect(out[0]?.priorBans).toBe(i);
      durations.push(out[0]?.durationMs ?? -1);
    }
    expect(durations).toEqual([HOUR, 2 * HOUR, 4 * HOUR, 5 * HOUR, 5 * HOUR]);
  });

  it("forgets bans older than memoryMs", () => {
    const d = createDetector(
      spec({ jails: [jail({ maxretry: 1 })], escalation: { ...escalation, memoryMs: DAY } }),
      {
        allowlist: noAllowlist,
      },
    );
    expect(feed(d, "203.0.113.1", [0])[0]?.priorBans).toBe(0);
    expect(feed(d, "203.0.113.1", [2 * HOUR])[0]?.priorBans).toBe(1);
    expect(feed(d, "203.0.113.1", [2 * HOUR + DAY + 1])[0]).toMatchObject({ priorBans: 0, durationMs: HOUR });
  });

  it("escalates across jails", () => {
    const d = createDetector(
      spec({ jails: [jail({ maxretry: 1 }), jail({ name: "kamailio", maxretry: 1 })], escalation }),
      {
        allowlist: noAllowlist,
      },
    );
    feed(d, "203.0.113.1", [0]);
    expect(feed(d, "203.0.113.1", [MIN], "kamailio")[0]).toMatchObject({
      priorBans: 1,
      durationMs: 2 * HOUR,
    });
  });

  it("adds a recidive all-ports ban at the recidive maxretry-th ban, then not again for the same bans", () => {
    const recidive = { enabled: true, maxretry: 3, findtimeMs: DAY, bantimeMs: 7 * DAY };
    const d = createDetector(spec({ jails: [jail({ maxretry: 1, bantimeMs: 10 * MIN })], recidive }), {
      allowlist: noAllowlist,
    });
    expect(feed(d, "203.0.113.1", [0, HOUR])).toHaveLength(2);
    const third = feed(d, "203.0.113.1", [2 * HOUR]);
    expect(third.map((x) => x.origin)).toEqual(["jail:asterisk", "jail:recidive"]);
    expect(third[1]).toMatchObject({
      scope: { kind: "all" },
      durationMs: 7 * DAY,
      expiresAt: 2 * HOUR + 7 * DAY,
    });
    expect(third[1]?.evidence).toHaveLength(3);
    expect(feed(d, "203.0.113.1", [3 * HOUR])).toEqual([]);
    expect(d.stats().decisions).toEqual({ bans: 3, spares: 0, recidiveBans: 1 });
    // After the recidive ban expires, one more jail ban alone does not re-trigger it.
    const after = 2 * HOUR + 7 * DAY;
    expect(feed(d, "203.0.113.1", [after]).map((x) => x.origin)).toEqual(["jail:asterisk"]);
  });
});

describe("createDetector: protection", () => {
  it("spares an allowlisted address once per would-be ban, naming the entry", () => {
    const allowlist: Allowlist = {
      ...noAllowlist,
      match: (a) =>
        a.text.startsWith("192.168.") ? { entry: "192.168.0.0/16", via: "cidr", detail: "config" } : null,
    };
    const d = createDetector(spec({ jails: [jail({ maxretry: 2 })] }), { allowlist });
    const out = feed(d, "192.168.1.1", [0, 1, 2, 3, 4]);
    expect(out.map((x) => x.action)).toEqual(["spare", "spare"]);
    expect(out[0]).toMatchObject({
      origin: "jail:asterisk",
      reason: "allowlisted by 192.168.0.0/16 (config): 2 failures in 10m (asterisk)",
      durationMs: 0,
      expiresAt: 1,
    });
    expect(d.stats().decisions).toEqual({ bans: 0, spares: 2, recidiveBans: 0 });
  });

  it("spares an address with a live registration, and the allowlist wins over it", () => {
    const registrations = { isRegistered: () => ({ user: "1001" }), registeredIn: () => null };
    const d = createDetector(spec({ jails: [jail({ maxretry: 1 })] }), {
      allowlist: noAllowlist,
      registrations,
    });
    expect(d.handle("asterisk", fail("198.51.100.1", 0))[0]?.reason).toBe(
      "live registration (user 1001): 1 failure in 10m (asterisk)",
    );
    const allowlist: Allowlist = {
      ...noAllowlist,
      match: () => ({ entry: "x", via: "ip", detail: "config" }),
    };
    const d2 = createDetector(spec({ jails: [jail({ maxretry: 1 })] }), { allowlist, registrations });
    expect(d2.handle("asterisk", fail("198.51.100.1", 0))[0]?.reason).toMatch(/^allowlisted by x/);
  });
});

describe("createDetector: memory and determinism", () => {
  it("expire() prunes failures and expired, forgotten bans", () => {
    const d = createDetector(spec({ jails: [jail({ maxretry: 2 })] }), { allowlist: noAllowlist });
    feed(d, "203.0.113.1", [0]);
    feed(d, "203.0.113.2", [0, MIN]);
    expect(d.stats().tracked).toEqual({
      addresses: 1,
      failures: 1,
      networks: 0,
      bannedAddresses: 1,
      bans: 1,
    });
    d.expire(11 * MIN);
    expect(d.stats().tracked).toEqual({
      addresses: 0,
      failures: 0,
      networks: 0,
      bannedAddresses: 1,
      bans: 1,
    });
    d.expire(31 * DAY);
    expect(d.stats().tracked).toEqual({
      addresses: 0,
      failures: 0,
      networks: 0,
      bannedAddresses: 0,
      bans: 0,
    });
  });

  it("keeps a permanent ban however old", () => {
    const d = createDetector(spec({ jails: [jail({ maxretry: 1, bantimeMs: null })] }), {
      allowlist: noAllowlist,
    });
    expect(feed(d, "203.0.113.1", [0])[0]).toMatchObject({ expiresAt: null, durationMs: 0 });
    d.expire(365 * DAY);
    expect(feed(d, "203.0.113.1", [366 * DAY])).toEqual([]);
  });

  it("gives the same decisions for the same offenses", () => {
    const offenses: Offense[] = [];
    for (let i = 0; i < 2000; i++) {
      // A fixed pseudo-random walk (LCG), so the input is varied but reproducible.
      const x = (i * 1103515245 + 12345) % 2147483648;
      offenses.push(fail(`203.0.113.${x % 7}`, i * 20_000 + (x % 30_000)));
    }
    const run = () => {
      const d = createDetector(
        spec({ escalation: { enabled: true, factor: 2, maxBantimeMs: DAY, memoryMs: DAY } }),
        {
          allowlist: noAllowlist,
        },
      );
      return offenses.flatMap((o) => [...d.handle("asterisk", o)]);
    };
    const first = run();
    expect(first.length).toBeGreaterThan(5);
    expect(run()).toEqual(first);
  });

  it("holds 100k one-failure addresses in modest memory, and expire() releases them", () => {
    const d = createDetector(spec(), { allowlist: noAllowlist });
    const offenses: Offense[] = [];
    for (let i = 0; i < 100_000; i++) {
      offenses.push(fail(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, i));
    }
    globalThis.gc?.();
    const before = process.memoryUsage().heapUsed;
    for (const o of offenses) d.handle("asterisk", o);
    globalThis.gc?.();
    const grown = process.memoryUsage().heapUsed - before;
    // Offense objects are built beforehand, so this is the detector's own share (maps, windows).
    console.info(`detector: 100k addresses × 1 failure ≈ ${(grown / 1024 / 1024).toFixed(1)} MiB of heap`);
    expect(d.stats().tracked).toMatchObject({ addresses: 100_000, failures: 100_000 });
    expect(grown).toBeLessThan(100 * 1024 * 1024);
    d.expire(100_000 + 10 * MIN + 1);
    expect(d.stats().tracked.addresses).toBe(0);
  });
});

describe("registration judge and restore", () => {
  const failure = (ip: string, t: number, user = "1002") => ({
    kind: "failure" as const,
    address: parseIp(ip)!,
    time: t,
    filter: "kamailio",
    user,
    evidence: { time: t, source: "k.log", line: `auth-failed src=${ip} user=${user}` },
  });

  it("lets the judge count registered addresses: counted → nothing, spare → report, ban → ban unless allowlisted", () => {
    const verdicts = [
      { kind: "counted" as const },
      { kind: "spare" as const, reason: "1002 keeps failing behind a registered address", evidence: [] },
      { kind: "ban" as const, reason: "50 failures from a registered address", evidence: [] },
    ];
    let i = 0;
    const judge = { judge: () => verdicts[i++]!, expire: () => {} };
    const d = createDetector(spec({ jails: [jail({ maxretry: 1 })] }), {
      allowlist: noAllowlist,
      registrationJudge: judge,
    });
    expect(d.handle("asterisk", failure("203.0.113.9", 1000))).toEqual([]);
    expect(d.handle("asterisk", failure("203.0.113.9", 2000)).map((x) => [x.action, x.reason])).toEqual([
      ["spare", "1002 keeps failing behind a registered address"],
    ]);
    const ban = d.handle("asterisk", failure("203.0.113.9", 3000));
    expect(ban.map((x) => [x.action, x.target, x.reason])).toEqual([
      ["ban", "203.0.113.9", "50 failures from a registered address"],
    ]);
    const allowed: Allowlist = {
      ...noAllowlist,
      match: () => ({ entry: "203.0.113.0/24", via: "cidr", detail: "config" }),
    };
    i = 2;
    const d2 = createDetector(spec({ jails: [jail({ maxretry: 1 })] }), {
      allowlist: allowed,
      registrationJudge: judge,
    });
    expect(d2.handle("asterisk", failure("203.0.113.9", 3000))[0]!.action).toBe("spare");
  });

  it("restored bans keep escalating after a restart", () => {
    const d = createDetector(
      spec({
        jails: [jail({ maxretry: 1, bantimeMs: 60_000 })],
        escalation: { enabled: true, factor: 2, maxBantimeMs: DAY, memoryMs: 30 * DAY },
      }),
      { allowlist: noAllowlist },
    );
    d.restore([{ target: "198.51.100.4", jail: "asterisk", at: 0, expiresAt: 60_000, allPorts: true }]);
    // Still banned at 30 s: no new ban; after expiry the next ban is the second one, twice as long.
    expect(d.handle("asterisk", failure("198.51.100.4", 30_000))).toEqual([]);
    const [b] = d.handle("asterisk", failure("198.51.100.4", 120_000));
    expect(b).toMatchObject({ action: "ban", priorBans: 1, durationMs: 120_000 });
  });
});

describe("createDetector: IPv6 networks (ipv6Prefix)", () => {
  const NET = "2001:db8:1:2::/64";
  /** One failure each from `n` addresses of NET, a minute apart. */
  const rotating = (d: ReturnType<typeof createDetector>, n: number, from = 1, start = 0): Decision[] =>
    Array.from({ length: n }, (_, i) =>
      d.handle("asterisk", fail(`2001:db8:1:2::${(from + i).toString(16)}`, start + i * MIN)),
    ).flat();

  it("bans the network when its addresses together reach maxretry, and counts nothing more from it", () => {
    const d = createDetector(spec({ ipv6Prefix: 64 }), { allowlist: noAllowlist });
    const [ban, ...rest] = rotating(d, 5);
    expect(rest).toEqual([]);
    expect(ban).toMatchObject({
      action: "ban",
      target: NET,
      origin: "jail:asterisk",
      scope: SIP,
      at: 4 * MIN,
    });
    expect(ban?.reason).toMatch(/^5 failures in 10m \(asterisk\) from addresses of 2001:db8:1:2::\/64: /);
    expect(ban?.evidence).toHaveLength(5);
    // Another address of the banned network: log lag, not a new attack.
    expect(rotating(d, 3, 0x100, 5 * MIN)).toEqual([]);
    expect(d.stats().offenses.whileBanned).toBe(3);
    // Another network of the same /48 counts on its own.
    expect(d.handle("asterisk", fail("2001:db8:1:3::1", 6 * MIN))).toEqual([]);
  });

  it("forgets a network's failures past findtime, as an address's", () => {
    const d = createDetector(spec({ ipv6Prefix: 64 }), { allowlist: noAllowlist });
    rotating(d, 4);
    // Each failure is held twice: under its address and under its network.
    expect(d.stats().tracked).toMatchObject({ addresses: 4, failures: 4, networks: 1 });
    d.expire(60 * MIN);
    expect(d.stats().tracked).toMatchObject({ addresses: 0, failures: 0, networks: 0 });
    expect(rotating(d, 4, 0x10, 61 * MIN)).toEqual([]);
  });

  it("counts per address only by default, and an address failing alone is banned alone", () => {
    expect(rotating(createDetector(spec(), { allowlist: noAllowlist }), 5)).toEqual([]);
    const d = createDetector(spec({ ipv6Prefix: 64 }), { allowlist: noAllowlist });
    const alone = feed(
      d,
      "2001:db8:1:2::7",
      [0, 1, 2, 3, 4].map((m) => m * MIN),
    );
    expect(alone.map((x) => [x.action, x.target])).toEqual([["ban", "2001:db8:1:2::7"]]);
    // IPv4 is never grouped.
    const v4 = createDetector(spec({ ipv6Prefix: 64 }), { allowlist: noAllowlist });
    expect(
      [1, 2, 3, 4, 5].flatMap((i) => [...v4.handle("asterisk", fail(`203.0.113.${i}`, i * MIN))]),
    ).toEqual([]);
  });

  it("spares a network holding an allowlisted or registered address; its addresses still count alone", () => {
    const allowlist: Allowlist = {
      ...noAllowlist,
      overlapping: (n) =>
        n.text === NET ? { entry: "2001:db8:1:2::99", via: "ip", detail: "config" } : null,
    };
    const d = createDetector(spec({ ipv6Prefix: 64 }), { allowlist });
    const spared = rotating(d, 5);
    expect(spared.map((x) => [x.action, x.target])).toEqual([["spare", NET]]);
    expect(spared[0]?.reason).toMatch(
      /^the network holds allowlisted 2001:db8:1:2::99 \(config\): 5 failures in 10m \(asterisk\) from addresses of/,
    );
    const alone = feed(
      d,
      "2001:db8:1:2::7",
      [10, 11, 12, 13, 14].map((m) => m * MIN),
    );
    expect(alone.map((x) => [x.action, x.target])).toEqual([["ban", "2001:db8:1:2::7"]]);

    const registrations = {
      isRegistered: () => null,
      registeredIn: (n: { text: string }) =>
        n.text === NET ? { user: "1001", address: "2001:db8:1:2::50" } : null,
    };
    const r = createDetector(spec({ ipv6Prefix: 64 }), { allowlist: noAllowlist, registrations });
    const [spare] = rotating(r, 5);
    expect(spare).toMatchObject({ action: "spare", target: NET });
    expect(spare?.reason).toMatch(
      /^the network holds 2001:db8:1:2::50, with a live registration \(user 1001\): /,
    );
  });
});

describe("createDetector: banFor (a finding made outside the jail's window)", () => {
  const reason = 'registered as "1001" after 10 failed logins from this address in 1d: a guessed password?';
  const evidence = [0, 1, 2].map((m) => fail("203.0.113.77", m * MIN).evidence);

  it("bans with the jail's scope and bantime, escalated by earlier bans; nothing while the jail's ban holds", () => {
    const escalation = { enabled: true, factor: 2, maxBantimeMs: DAY, memoryMs: 30 * DAY };
    const d = createDetector(spec({ jails: [jail({ maxretry: 2 })], escalation }), {
      allowlist: noAllowlist,
    });
    feed(d, "203.0.113.77", [0, MIN]); // an earlier ban of an hour
    expect(d.banFor("asterisk", parseIp("203.0.113.77")!, 30 * MIN, reason, evidence)).toEqual([]);
    const [ban] = d.banFor("asterisk", parseIp("203.0.113.77")!, 2 * HOUR, reason, evidence);
    expect(ban).toMatchObject({
      action: "ban",
      target: "203.0.113.77",
      origin: "jail:asterisk",
      reason,
      scope: SIP,
      at: 2 * HOUR,
      durationMs: 2 * HOUR, // the second ban in the memory: ×2
      priorBans: 1,
    });
    expect(ban?.evidence).toEqual(evidence);
    expect(d.stats().decisions.bans).toBe(2);
    expect(() => d.banFor("nope", parseIp("203.0.113.77")!, 0, reason, evidence)).toThrow(/no jail named/);
  });

  it("spares an allowlisted address, naming the entry", () => {
    const allowlist: Allowlist = {
      ...noAllowlist,
      match: () => ({ entry: "203.0.113.0/24", via: "cidr", detail: "config" }),
    };
    const d = createDetector(spec(), { allowlist });
    const [spare] = d.banFor("asterisk", parseIp("203.0.113.77")!, 0, reason, evidence);
    expect(spare).toMatchObject({
      action: "spare",
      reason: `allowlisted by 203.0.113.0/24 (config): ${reason}`,
    });
  });
});

describe("createDetector: banned (what handle does not count)", () => {
  it("says whether the jail's ban covers a failure at its time, and handle agrees without asking twice", () => {
    const d = createDetector(spec({ jails: [jail({ maxretry: 2 })] }), { allowlist: noAllowlist });
    const first = fail("203.0.113.78", 0);
    expect(d.banned("asterisk", first)).toBe(false);
    d.handle("asterisk", first);
    expect(d.handle("asterisk", fail("203.0.113.78", MIN))).toHaveLength(1); // banned for an hour
    const during = fail("203.0.113.78", 2 * MIN);
    expect(d.banned("asterisk", during)).toBe(true);
    expect(d.banned("asterisk", fail("203.0.113.79", 2 * MIN))).toBe(false);
    expect(d.banned("asterisk", fail("203.0.113.78", 2 * HOUR))).toBe(false);
    // handle, right after being asked, counts it as seen while banned.
    const before = d.stats().offenses.whileBanned;
    expect(d.handle("asterisk", during)).toEqual([]);
    expect(d.stats().offenses.whileBanned).toBe(before + 1);
  });
});
