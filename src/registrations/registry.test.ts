// Unit tests of the registration table: expiry, many users per address, per-source dumps, removal, bounds.
import { describe, expect, it } from "vitest";
import { parseCidr, parseIp, type Cidr, type IpAddress } from "../domain/address.js";
import { createManualClock } from "../domain/clock.js";
import type { RegistrationView } from "../detect/registration-view.js";
import { createRegistry, HELD_MEMORY_MS } from "./registry.js";

const ip = (s: string): IpAddress => parseIp(s) as IpAddress;
const T0 = 1_700_000_000_000;

function setup(maxEntries?: number) {
  const clock = createManualClock(T0);
  const registry = createRegistry(maxEntries === undefined ? { clock } : { clock, maxEntries });
  return { clock, registry };
}

describe("registry", () => {
  it("is a RegistrationView detection can ask", () => {
    const { registry } = setup();
    const view: RegistrationView = registry;
    registry.upsert({ source: "kamailio", address: "203.0.113.5", user: "alice", expiresAt: T0 + 60_000 });
    expect(view.isRegistered(ip("203.0.113.5"), T0)).toMatchObject({ user: "alice" });
    expect(view.isRegistered(ip("203.0.113.6"), T0)).toBeNull();
  });

  it("answers whether a network holds a live registration, and from which address", () => {
    const { registry } = setup();
    registry.upsert({
      source: "kamailio",
      address: "2001:db8:1:2::50",
      user: "1001",
      expiresAt: T0 + 60_000,
    });
    const net = parseCidr("2001:db8:1:2::/64") as Cidr;
    expect(registry.registeredIn(net, T0)).toMatchObject({ user: "1001", address: "2001:db8:1:2::50" });
    expect(registry.registeredIn(parseCidr("2001:db8:1:3::/64") as Cidr, T0)).toBeNull();
    expect(registry.registeredIn(net, T0 + 60_000)).toBeNull(); // expired by then
    // Addresses of the other family are never taken for the network's.
    registry.upsert({ source: "kamailio", address: "203.0.113.5", user: "alice", expiresAt: T0 + 60_000 });
    expect(registry.registeredIn(parseCidr("203.0.113.0/24") as Cidr, T0)).toMatchObject({
      user: "alice",
      address: "203.0.113.5",
    });
    expect(registry.registeredIn(parseCidr("::/0") as Cidr, T0)).toMatchObject({
      address: "2001:db8:1:2::50",
    });
    expect(registry.registeredIn(parseCidr("0.0.0.0/0") as Cidr, T0)).toMatchObject({
      address: "203.0.113.5",
    });
    expect(registry.registeredIn(parseCidr("198.51.100.0/24") as Cidr, T0)).toBeNull();
  });

  it("holds many users behind one address and names the freshest first", () => {
    const { registry } = setup();
    registry.upsert({ source: "ami:pjsip", address: "203.0.113.5", user: "101", expiresAt: T0 + 60_000 });
    registry.upsert({ source: "ami:pjsip", address: "203.0.113.5", user: "102", expiresAt: T0 + 90_000 });
    registry.upsert({ source: "esl", address: "203.0.113.5", user: "101", expiresAt: T0 + 30_000 });
    const m = registry.isRegistered(ip("203.0.113.5"), T0);
    expect(m).toEqual({ user: "102", users: ["102", "101"], sources: ["ami:pjsip", "esl"] });
    expect(registry.forAddress("203.0.113.5")).toHaveLength(3);
    expect(registry.stats()).toMatchObject({ entries: 3, addresses: 1 });
  });

  it("expires each entry at its own expiresAt, judged at event time", () => {
    const { clock, registry } = setup();
    registry.upsert({ source: "s", address: "203.0.113.5", user: "a", expiresAt: T0 + 10_000 });
    registry.upsert({ source: "s", address: "203.0.113.5", user: "b", expiresAt: T0 + 20_000 });
    expect(registry.isRegistered(ip("203.0.113.5"), T0 + 9_999)?.users).toEqual(["b", "a"]);
    expect(registry.isRegistered(ip("203.0.113.5"), T0 + 10_000)?.users).toEqual(["b"]);
    expect(registry.isRegistered(ip("203.0.113.5"), T0 + 20_000)).toBeNull();
    clock.set(T0 + 15_000);
    expect(registry.list().map((e) => e.user)).toEqual(["b"]);
    expect(registry.expire()).toBe(1);
    expect(registry.stats().entries).toBe(1);
  });

  it("refreshes one binding instead of adding a second one", () => {
    const { registry } = setup();
    const base = { source: "s", address: "203.0.113.5", user: "a", contact: "sip:a@10.0.0.2:5060" };
    registry.upsert({ ...base, expiresAt: T0 + 10_000 });
    registry.upsert({ ...base, expiresAt: T0 + 50_000 });
    expect(registry.list()).toHaveLength(1);
    expect(registry.list()[0]?.expiresAt).toBe(T0 + 50_000);
  });

  it("validates every address with parseIp and canonicalises it", () => {
    const { registry } = setup();
    const ok = (address: string) =>
      registry.upsert({ source: "s", address, user: "u", expiresAt: T0 + 1000 });
    expect(ok("pbx.example.com")).toBe(false);
    expect(ok("010.1.1.1")).toBe(false);
    expect(ok("203.0.113.5; rm -rf /")).toBe(false);
    expect(ok("[2001:DB8::1]")).toBe(true);
    expect(ok("::ffff:198.51.100.7")).toBe(true);
    expect(registry.list().map((e) => e.address.text)).toEqual(["2001:db8::1", "198.51.100.7"]);
    expect(registry.stats().rejected).toBe(3);
  });

  it("refuses empty users, expired inputs, and strips control characters from names", () => {
    const { registry } = setup();
    expect(registry.upsert({ source: "s", address: "192.0.2.1", user: " ", expiresAt: T0 + 1000 })).toBe(
      false,
    );
    expect(registry.upsert({ source: "s", address: "192.0.2.1", user: "a", expiresAt: T0 })).toBe(false);
    expect(
      registry.upsert({ source: "s", address: "192.0.2.1", user: "ev\nil\u001b[31m", expiresAt: T0 + 1 }),
    ).toBe(true);
    expect(registry.list()[0]?.user).toBe("evil[31m");
  });

  it("replaceAll swaps one source's set and leaves the other sources alone", () => {
    const { registry } = setup();
    registry.upsert({ source: "kamailio", address: "192.0.2.1", user: "old", expiresAt: T0 + 1000 });
    registry.upsert({ source: "log:asterisk", address: "192.0.2.1", user: "fromlog", expiresAt: T0 + 1000 });
    const r = registry.replaceAll("kamailio", [
      { address: "192.0.2.2", user: "new", expiresAt: T0 + 1000 },
      { address: "not-an-ip", user: "bad", expiresAt: T0 + 1000 },
    ]);
    expect(r).toEqual({ stored: 1, rejected: 1 });
    expect(
      registry
        .list()
        .map((e) => `${e.source}/${e.user}`)
        .sort(),
    ).toEqual(["kamailio/new", "log:asterisk/fromlog"]);
    expect(registry.forAddress("192.0.2.1").map((e) => e.user)).toEqual(["fromlog"]);
    registry.replaceAll("kamailio", []);
    expect(registry.stats()).toMatchObject({ entries: 1, addresses: 1 });
  });

  it("remove matches on the given fields only, within one source", () => {
    const { registry } = setup();
    for (const [user, contact] of [
      ["a", "sip:a@1"],
      ["a", "sip:a@2"],
      ["b", "sip:b@1"],
    ] as const)
      registry.upsert({ source: "esl", address: "192.0.2.1", user, contact, expiresAt: T0 + 1000 });
    registry.upsert({ source: "other", address: "192.0.2.1", user: "a", expiresAt: T0 + 1000 });
    expect(registry.remove({ source: "esl", user: "a", contact: "sip:a@2" })).toBe(1);
    expect(registry.remove({ source: "esl", user: "a" })).toBe(1);
    expect(registry.remove({ source: "esl", address: "bogus" })).toBe(0);
    expect(registry.remove({ source: "esl", address: "192.0.2.1" })).toBe(1);
    expect(registry.list().map((e) => e.source)).toEqual(["other"]);
  });

  it("is bounded: refuses new bindings when full but still refreshes known ones", () => {
    const { registry } = setup(2);
    expect(registry.upsert({ source: "s", address: "192.0.2.1", user: "a", expiresAt: T0 + 10 })).toBe(true);
    expect(registry.upsert({ source: "s", address: "192.0.2.2", user: "b", expiresAt: T0 + 10 })).toBe(true);
    expect(registry.upsert({ source: "s", address: "192.0.2.3", user: "c", expiresAt: T0 + 10 })).toBe(false);
    expect(registry.upsert({ source: "s", address: "192.0.2.1", user: "a", expiresAt: T0 + 99 })).toBe(true);
    // A dump larger than the room keeps the longest-lived bindings.
    const r = registry.replaceAll("t", [
      { address: "192.0.2.7", user: "short", expiresAt: T0 + 5 },
      { address: "192.0.2.8", user: "long", expiresAt: T0 + 500 },
    ]);
    expect(r).toEqual({ stored: 0, rejected: 2 });
    registry.replaceAll("s", []);
    expect(
      registry.replaceAll("t", [
        { address: "192.0.2.7", user: "short", expiresAt: T0 + 5 },
        { address: "192.0.2.8", user: "long", expiresAt: T0 + 500 },
        { address: "192.0.2.9", user: "mid", expiresAt: T0 + 50 },
      ]),
    ).toEqual({ stored: 2, rejected: 1 });
    expect(
      registry
        .list()
        .map((e) => e.user)
        .sort(),
    ).toEqual(["long", "mid"]);
  });

  it("tells each new binding when its address last held another: now, when it went, or never", () => {
    const clock = createManualClock(T0);
    const told: string[] = [];
    const registry = createRegistry({
      clock,
      onNew: (e, held) => told.push(`${e.user}@${e.address.text} ${held === null ? "never" : held - T0}`),
    });
    const add = (address: string, user: string, lifeMs: number, source = "log:asterisk") =>
      registry.upsert({ source, address, user, expiresAt: clock.now() + lifeMs });
    add("203.0.113.1", "1001", 1000);
    add("203.0.113.1", "1002", 1000); // the office's second phone, the first live
    add("203.0.113.1", "1001", 5000); // a refresh: not new, not told
    // 1002's binding expires at +1000; 1001's at +5000: the address held one until +5000.
    clock.set(T0 + 8000);
    registry.expire();
    add("203.0.113.1", "1001", 60_000);
    // Removed (an unregister) at +20000: held until then.
    clock.set(T0 + 20_000);
    registry.remove({ source: "log:asterisk", address: "203.0.113.1" });
    clock.set(T0 + 30_000);
    add("203.0.113.1", "1003", 1000);
    // Left out of a provider's dump at +40000.
    registry.replaceAll("kamailio", [{ address: "198.51.100.7", user: "k1", expiresAt: T0 + 60_000 }]);
    clock.set(T0 + 40_000);
    registry.replaceAll("kamailio", []);
    registry.replaceAll("kamailio", [{ address: "198.51.100.7", user: "k2", expiresAt: T0 + 90_000 }]);
    // Forgotten HELD_MEMORY_MS after it went (k2 expired at +90000); an address never seen is never.
    clock.set(T0 + 90_000 + HELD_MEMORY_MS - 1);
    registry.expire();
    registry.replaceAll("kamailio", [{ address: "198.51.100.7", user: "k3", expiresAt: clock.now() + 1000 }]);
    clock.set(T0 + 90_000 + HELD_MEMORY_MS + 1000 + HELD_MEMORY_MS);
    registry.expire();
    registry.replaceAll("kamailio", [{ address: "198.51.100.7", user: "k4", expiresAt: clock.now() + 1000 }]);
    add("192.0.2.9", "2001", 1000);
    expect(told).toEqual([
      "1001@203.0.113.1 never",
      "1002@203.0.113.1 0",
      "1001@203.0.113.1 5000",
      "1003@203.0.113.1 20000",
      "k1@198.51.100.7 never",
      "k2@198.51.100.7 40000",
      "k3@198.51.100.7 90000",
      "k4@198.51.100.7 never",
      "2001@192.0.2.9 never",
    ]);
  });

  it("heldIn: a network held a binding between two times (live, or gone since), but those skipped", () => {
    const clock = createManualClock(T0);
    const registry = createRegistry({ clock, onNew: () => undefined });
    const net = parseCidr("2001:db8:7:1::/64") as Cidr;
    registry.upsert({ source: "log:asterisk", address: "2001:db8:7:1::10", user: "a", expiresAt: T0 + 1000 });
    registry.upsert({ source: "log:asterisk", address: "192.0.2.10", user: "b", expiresAt: T0 + 1000 });
    expect(registry.heldIn(net, T0, T0 + 500)).toBe(true);
    expect(registry.heldIn(net, T0, T0 + 500, (a) => a === "2001:db8:7:1::10")).toBe(false);
    expect(registry.heldIn(parseCidr("2001:db8:7:2::/64") as Cidr, T0, T0 + 500)).toBe(false);
    clock.set(T0 + 5000);
    registry.expire();
    // Gone at +1000: held since +1000, not since +1001.
    expect(registry.heldIn(net, T0 + 1000, T0 + 5000)).toBe(true);
    expect(registry.heldIn(net, T0 + 1001, T0 + 5000)).toBe(false);
    expect(registry.heldIn(parseCidr("192.0.2.0/24") as Cidr, T0, T0 + 5000)).toBe(true);
    expect(registry.heldIn(parseCidr("198.51.100.0/24") as Cidr, T0, T0 + 5000)).toBe(false);
  });

  it("counts a binding expired but not yet dropped as held until its expiry", () => {
    const clock = createManualClock(T0);
    const told: (number | null)[] = [];
    const registry = createRegistry({ clock, onNew: (_e, held) => told.push(held) });
    registry.upsert({ source: "log:asterisk", address: "203.0.113.2", user: "1001", expiresAt: T0 + 1000 });
    clock.set(T0 + 5000); // no expire() in between
    registry.upsert({ source: "log:asterisk", address: "203.0.113.2", user: "1002", expiresAt: T0 + 9000 });
    expect(told).toEqual([null, T0 + 1000]);
    expect(registry.heldIn(parseCidr("203.0.113.0/24") as Cidr, T0 + 1000, T0 + 5000)).toBe(true);
  });
});
