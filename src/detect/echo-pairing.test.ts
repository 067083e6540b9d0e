// One failure seen over a PBX link and in its log counts once; failures only one side reports count each.
import { describe, expect, it } from "vitest";
import { createEchoPairing } from "./echo-pairing.js";

const A = "203.0.113.77";

describe("echo pairing", () => {
  it("pairs a link sighting with a log sighting of the same address, whichever comes first", () => {
    const p = createEchoPairing(5000);
    expect(p.isEcho(A, "1000", true, 1000)).toBe(false);
    expect(p.isEcho(A, "1000", false, 1003)).toBe(true);
    expect(p.isEcho(A, "1001", false, 2000)).toBe(false);
    expect(p.isEcho(A, "1001", true, 2001)).toBe(true);
    expect(p.echoes()).toBe(2);
  });

  it("never pairs two sightings from the same side: a flood over the link counts in full", () => {
    const p = createEchoPairing(5000);
    const counted = Array.from({ length: 10 }, (_, i) => p.isEcho(A, "1000", true, 1000 + i)).filter(
      (echo) => !echo,
    );
    expect(counted).toHaveLength(10);
    // The log's ten lines for them then arrive: each is the echo of one.
    const echoes = Array.from({ length: 12 }, (_, i) => p.isEcho(A, "1000", false, 1050 + i));
    expect(echoes).toEqual([...Array(10).fill(true), false, false]);
  });

  it("pairs only the same account when both name one; a side that names none pairs with any", () => {
    const p = createEchoPairing(5000);
    expect(p.isEcho(A, "1000", true, 1000)).toBe(false);
    expect(p.isEcho(A, "2000", false, 1001)).toBe(false);
    expect(p.isEcho(A, undefined, false, 1002)).toBe(true);
    // The log's 2000 still waits for its link partner.
    expect(p.isEcho(A, "2000", true, 1003)).toBe(true);
    expect(p.isEcho("198.51.100.9", "1000", false, 1004)).toBe(false);
    expect(p.isEcho(A, "1000", false, 1005)).toBe(false);
  });

  it("prefers the same account to one that names none", () => {
    const p = createEchoPairing(5000);
    // The log: an ACL reject (no account), then the wrong password of 1000; then the link's event for it.
    expect(p.isEcho(A, undefined, false, 1000)).toBe(false);
    expect(p.isEcho(A, "1000", false, 1001)).toBe(false);
    expect(p.isEcho(A, "1000", true, 1002)).toBe(true);
    // The ACL reject still waits: a later link failure of another account without a log line pairs with it.
    expect(p.isEcho(A, "1001", true, 1003)).toBe(true);
    expect(p.isEcho(A, "1001", true, 1004)).toBe(false);
  });

  it("does not pair sightings further apart than the window", () => {
    const p = createEchoPairing(5000);
    expect(p.isEcho(A, "1000", true, 1000)).toBe(false);
    expect(p.isEcho(A, "1000", false, 6001)).toBe(false);
    expect(p.isEcho(A, "1000", true, 6002)).toBe(true);
  });

  it("keeps a bounded number of sightings of one address waiting", () => {
    const p = createEchoPairing(60_000);
    for (let i = 0; i < 5000; i++) expect(p.isEcho(A, "1000", true, 1000 + i)).toBe(false);
    // Only the newest 1024 still wait: the log's sightings pair with those, then count again.
    let echoes = 0;
    for (let i = 0; i < 1100; i++) if (p.isEcho(A, "1000", false, 7000 + i)) echoes++;
    expect(echoes).toBe(1024);
  });
});
