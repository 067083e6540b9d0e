// The one behaviour suite every DecisionStore adapter must pass; each adapter's test file runs it.

import { afterEach, describe, expect, it } from "vitest";
import type { BanScope, Decision } from "../domain/decision.js";
import type { Evidence } from "../domain/offense.js";
// Type-only, test-only: proves the store's positions plug into the sources without an adapter.
import type { PositionStore } from "../sources/log-source.js";
import type { DecisionStore, DecisionStoreConfig } from "./decision-store.js";

export type MakeStore = (config: DecisionStoreConfig) => DecisionStore | Promise<DecisionStore>;

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 10, 12);
const RETENTION = 7 * 24 * HOUR;
const SIP: BanScope = { kind: "service", protocols: ["udp", "tcp"], ports: [{ from: 5060, to: 5061 }] };

function evidence(n: number, at = T0): Evidence[] {
  return Array.from({ length: n }, (_, i) => ({
    time: at - (n - i) * 1000,
    source: "/var/log/asterisk/messages",
    lineNo: i + 1,
    line: `NOTICE[1] chan_sip.c: Registration from '"1${i}" <sip:1${i}@pbx>' failed for '203.0.113.7:5060' - Wrong password`,
  }));
}

/** A ban with sensible defaults; `durationMs: null` makes it permanent. */
export function ban(
  target: string,
  opts: Partial<Omit<Decision, "durationMs">> & { durationMs?: number | null } = {},
): Decision {
  const at = opts.at ?? T0;
  const durationMs = opts.durationMs === undefined ? HOUR : opts.durationMs;
  return {
    action: "ban",
    target,
    origin: opts.origin ?? "jail:asterisk",
    reason: opts.reason ?? "5 failures within 10m (asterisk)",
    scope: opts.scope ?? { kind: "all" },
    at,
    durationMs: durationMs ?? 0,
    expiresAt: durationMs === null ? null : at + durationMs,
    priorBans: opts.priorBans ?? 0,
    evidence: opts.evidence ?? evidence(2, at),
  };
}

function spare(target: string, at = T0): Decision {
  return {
    ...ban(target, { at }),
    action: "spare",
    reason: "allowlisted by 203.0.113.0/24 (trusted) — would be: 5 failures",
    durationMs: 0,
    expiresAt: at,
  };
}

/**
 * Registers the DecisionStore behaviour tests under `describe(name)`. `makeStore` gets a fresh store per
 * test; the suite closes it afterwards.
 */
export function runDecisionStoreContract(name: string, makeStore: MakeStore): void {
  describe(`DecisionStore contract: ${name}`, () => {
    const open: DecisionStore[] = [];
    async function fresh(config: Partial<DecisionStoreConfig> = {}): Promise<DecisionStore> {
      const store = await makeStore({ retentionMs: RETENTION, ...config });
      open.push(store);
      return store;
    }
    afterEach(() => {
      for (const s of open.splice(0)) s.close();
    });

    describe("recordDecisions", () => {
      it("assigns increasing ids and returns every field as given, in input order", async () => {
        const store = await fresh();
        const input = [
          ban("198.51.100.9", { scope: SIP, priorBans: 2, reason: "recidive: 3 bans — ünïcode ✓" }),
          spare("203.0.113.5"),
          ban("2001:db8::1", { durationMs: null, origin: "manual" }),
        ];
        const stored = store.recordDecisions(input);
        expect(stored.map((d) => d.target)).toEqual(["198.51.100.9", "203.0.113.5", "2001:db8::1"]);
        expect(stored[0]!.id).toBeLessThan(stored[1]!.id);
        expect(stored[1]!.id).toBeLessThan(stored[2]!.id);
        stored.forEach((d, i) => expect(d).toEqual({ ...input[i], id: d.id, endedAt: null, endedBy: null }));
        const lookup = store.decisionsFor("198.51.100.9", T0);
        expect(lookup.active).toEqual([stored[0]]);
      });

      it("returns an empty list for an empty batch", async () => {
        const store = await fresh();
        expect(store.recordDecisions([])).toEqual([]);
        expect(store.activeDecisions(T0)).toEqual([]);
      });

      it("stores targets in canonical form", async () => {
        const store = await fresh();
        const stored = store.recordDecisions([
          ban("2001:DB8:0:0::7"),
          ban("10.1.2.3/8"),
          ban("::ffff:192.0.2.1"),
        ]);
        expect(stored.map((d) => d.target)).toEqual(["2001:db8::7", "10.0.0.0/8", "192.0.2.1"]);
        expect(store.decisionsFor("2001:db8::7", T0).active).toHaveLength(1);
      });

      it("stores none of a batch that holds an invalid target", async () => {
        const store = await fresh();
        expect(() => store.recordDecisions([ban("192.0.2.1"), ban("pbx.example.com")])).toThrow(/invalid/);
        expect(store.activeDecisions(T0)).toEqual([]);
      });

      it("caps evidence per decision, keeping the oldest and newest lines, and cuts long lines", async () => {
        const store = await fresh({ maxEvidence: 4, maxEvidenceChars: 40 });
        const lines = evidence(50);
        const [d] = store.recordDecisions([ban("192.0.2.1", { evidence: lines })]);
        const cut = (e: Evidence): Evidence => ({ ...e, line: e.line.slice(0, 40) });
        const expected = [lines[0]!, lines[1]!, lines[48]!, lines[49]!].map(cut);
        expect(d!.evidence).toEqual(expected);
        expect(store.decisionsFor("192.0.2.1", T0).active[0]!.evidence).toEqual(expected);
      });

      it("keeps evidence without a line number as such", async () => {
        const store = await fresh();
        const e: Evidence = { time: T0, source: "journald:asterisk", line: "x" };
        store.recordDecisions([ban("192.0.2.1", { evidence: [e] })]);
        expect(store.decisionsFor("192.0.2.1", T0).active[0]!.evidence).toEqual([e]);
      });

      it("records a batch of 10,000 decisions in one call", async () => {
        const store = await fresh();
        const batch = Array.from({ length: 10_000 }, (_, i) =>
          ban(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, {
            origin: "feed:voipbl",
            evidence: [],
            durationMs: 24 * HOUR,
          }),
        );
        const stored = store.recordDecisions(batch);
        expect(stored).toHaveLength(10_000);
        expect(new Set(stored.map((d) => d.id)).size).toBe(10_000);
        expect(store.activeDecisions(T0 + HOUR)).toHaveLength(10_000);
        expect(store.decisionsFor("10.0.39.15", T0).active.map((d) => d.id)).toEqual([stored[9999]!.id]);
      });
    });

    describe("activeDecisions", () => {
      it("lists bans not yet expired, permanent ones, every origin; not spares", async () => {
        const store = await fresh();
        const [short, long, perm, , manual, feed, fleet] = store.recordDecisions([
          ban("192.0.2.1", { durationMs: HOUR }),
          ban("192.0.2.2", { durationMs: 3 * HOUR }),
          ban("192.0.2.3", { durationMs: null }),
          spare("192.0.2.4"),
          ban("192.0.2.5", { origin: "manual", durationMs: 2 * HOUR }),
          ban("192.0.2.0/24", { origin: "feed:voipbl", durationMs: 2 * HOUR }),
          ban("2001:db8::/48", { origin: "fleet:pbx-2", durationMs: 2 * HOUR }),
        ]);
        expect(store.activeDecisions(T0).map((d) => d.id)).toEqual(
          [short, long, perm, manual, feed, fleet].map((d) => d!.id),
        );
        expect(store.activeDecisions(T0 + 2 * HOUR).map((d) => d.target)).toEqual(["192.0.2.2", "192.0.2.3"]);
        expect(store.activeDecisions(T0 + 1000 * HOUR).map((d) => d.target)).toEqual(["192.0.2.3"]);
        // On exactly one target: not the networks around it, not another target, not once over.
        expect(store.activeDecisions(T0, "192.0.2.5").map((d) => d.id)).toEqual([manual!.id]);
        expect(store.activeDecisions(T0, "2001:db8::/48").map((d) => d.origin)).toEqual(["fleet:pbx-2"]);
        expect(store.activeDecisions(T0, "192.0.2.4")).toEqual([]);
        expect(store.activeDecisions(T0 + 2 * HOUR, "192.0.2.1")).toEqual([]);
        expect(store.activeDecisions(T0 + 2 * HOUR, "192.0.2.3").map((d) => d.id)).toEqual([perm!.id]);
      });

      it("lists the networks among them on their own, both families, oldest first", async () => {
        const store = await fresh();
        const [net4, , net6, , , perm] = store.recordDecisions([
          ban("198.51.100.0/24"),
          ban("198.51.100.7"),
          ban("2001:db8::/64"),
          ban("2001:db8::1"),
          ban("203.0.113.0/24", { at: T0 - 2 * HOUR }), // over
          ban("10.0.0.0/8", { durationMs: null }),
        ]);
        expect(store.activeNetworkDecisions(T0).map((d) => d.id)).toEqual([net4!.id, net6!.id, perm!.id]);
        store.removeDecision({ target: "198.51.100.0/24", now: T0, endedBy: "manual" });
        expect(store.activeNetworkDecisions(T0).map((d) => d.target)).toEqual([
          "2001:db8::/64",
          "10.0.0.0/8",
        ]);
        // An hour on, the permanent one is left.
        expect(store.activeNetworkDecisions(T0 + HOUR).map((d) => d.target)).toEqual(["10.0.0.0/8"]);
      });

      it("treats expiry as exclusive: at expiresAt the ban is over", async () => {
        const store = await fresh();
        store.recordDecisions([ban("192.0.2.1", { durationMs: HOUR })]);
        expect(store.activeDecisions(T0 + HOUR - 1)).toHaveLength(1);
        expect(store.activeDecisions(T0 + HOUR)).toHaveLength(0);
      });
    });

    describe("removeDecision", () => {
      it("ends the bans on the target and keeps them as history", async () => {
        const store = await fresh();
        const [a, b, other] = store.recordDecisions([
          ban("192.0.2.1", { origin: "jail:asterisk" }),
          ban("192.0.2.1", { origin: "jail:recidive", at: T0 + 1, durationMs: null }),
          ban("192.0.2.2"),
        ]);
        const ended = store.removeDecision({ target: "192.0.2.1", now: T0 + 60_000, endedBy: "manual" });
        expect(ended.map((d) => d.id)).toEqual([a!.id, b!.id]);
        expect(ended.every((d) => d.endedAt === T0 + 60_000 && d.endedBy === "manual")).toBe(true);
        expect(store.activeDecisions(T0 + 60_000).map((d) => d.id)).toEqual([other!.id]);
        const lookup = store.decisionsFor("192.0.2.1", T0 + 60_000);
        expect(lookup.active).toEqual([]);
        expect(lookup.past.map((d) => [d.id, d.endedAt, d.endedBy])).toEqual([
          [b!.id, T0 + 60_000, "manual"],
          [a!.id, T0 + 60_000, "manual"],
        ]);
        expect(store.removeDecision({ target: "192.0.2.1", now: T0 + 70_000, endedBy: "manual" })).toEqual(
          [],
        );
      });

      it("ends only bans of the given origin", async () => {
        const store = await fresh();
        const [, feed] = store.recordDecisions([
          ban("192.0.2.1", { origin: "jail:asterisk" }),
          ban("192.0.2.1", { origin: "feed:voipbl" }),
        ]);
        const ended = store.removeDecision({
          target: "192.0.2.1",
          origin: "jail:asterisk",
          now: T0 + 1,
          endedBy: "manual",
        });
        expect(ended.map((d) => d.origin)).toEqual(["jail:asterisk"]);
        expect(store.activeDecisions(T0 + 1).map((d) => d.id)).toEqual([feed!.id]);
      });

      it("leaves expired bans, spares and networks containing the target untouched", async () => {
        const store = await fresh();
        store.recordDecisions([
          ban("192.0.2.1", { at: T0 - 5 * HOUR }),
          spare("192.0.2.1"),
          ban("192.0.2.0/24", { origin: "feed:voipbl" }),
        ]);
        expect(store.removeDecision({ target: "192.0.2.1", now: T0, endedBy: "manual" })).toEqual([]);
        const lookup = store.decisionsFor("192.0.2.1", T0);
        expect(lookup.active.map((d) => d.target)).toEqual(["192.0.2.0/24"]);
        expect(lookup.past.every((d) => d.endedAt === null)).toBe(true);
      });

      it("canonicalises the target it is given", async () => {
        const store = await fresh();
        store.recordDecisions([ban("2001:db8::1")]);
        expect(store.removeDecision({ target: "2001:DB8:0::1", now: T0, endedBy: "api" })).toHaveLength(1);
      });
    });

    describe("decisionsFor (explain)", () => {
      it("finds bans on the address and on every network containing it, newest first", async () => {
        const store = await fresh();
        const [host, net24, net8] = store.recordDecisions([
          ban("198.51.100.7", { at: T0 }),
          ban("198.51.100.0/24", { at: T0 + 1, origin: "feed:voipbl" }),
          ban("198.0.0.0/8", { at: T0 + 2, origin: "manual", durationMs: null }),
          ban("198.51.101.0/24", { at: T0 + 3 }),
          ban("198.51.100.8", { at: T0 + 4 }),
          ban("0.0.0.0/1", { at: T0 + 5, origin: "manual" }),
        ]);
        const lookup = store.decisionsFor("198.51.100.7", T0 + 10);
        expect(lookup.active.map((d) => d.id)).toEqual([net8!.id, net24!.id, host!.id]);
        expect(lookup.past).toEqual([]);
      });

      it("finds IPv6 bans by address and containing prefix", async () => {
        const store = await fresh();
        store.recordDecisions([
          ban("2001:db8:1:2::/64", { at: T0 }),
          ban("2001:db8:1:3::/64", { at: T0 }),
          ban("2001:db8:1:2::99", { at: T0 + 1 }),
          ban("192.0.2.1", { at: T0 }),
        ]);
        const lookup = store.decisionsFor("2001:DB8:1:2:0:0:0:99", T0 + 10);
        expect(lookup.active.map((d) => d.target)).toEqual(["2001:db8:1:2::99", "2001:db8:1:2::/64"]);
        expect(store.decisionsFor("2001:db8:1:2::1", T0).active.map((d) => d.target)).toEqual([
          "2001:db8:1:2::/64",
        ]);
      });

      it("answers a CIDR query with the networks covering it", async () => {
        const store = await fresh();
        store.recordDecisions([ban("192.0.2.0/24"), ban("192.0.0.0/16"), ban("192.0.2.5")]);
        expect(
          store
            .decisionsFor("192.0.2.0/24", T0)
            .active.map((d) => d.target)
            .sort(),
        ).toEqual(["192.0.0.0/16", "192.0.2.0/24"]);
      });

      it("puts expired bans and spares under past, newest first, limited", async () => {
        const store = await fresh();
        const recorded = store.recordDecisions([
          ban("192.0.2.1", { at: T0 - 10 * HOUR }),
          ban("192.0.2.1", { at: T0 - 5 * HOUR }),
          spare("192.0.2.1", T0 - HOUR),
          ban("192.0.2.1", { at: T0 - 1000 }),
        ]);
        const lookup = store.decisionsFor("192.0.2.1", T0);
        expect(lookup.active.map((d) => d.id)).toEqual([recorded[3]!.id]);
        expect(lookup.past.map((d) => d.id)).toEqual([recorded[2]!.id, recorded[1]!.id, recorded[0]!.id]);
        expect(store.decisionsFor("192.0.2.1", T0, { limit: 1 }).past.map((d) => d.id)).toEqual([
          recorded[2]!.id,
        ]);
      });

      it("rejects a query that is not an IP or CIDR", async () => {
        const store = await fresh();
        expect(() => store.decisionsFor("example.com", T0)).toThrow(/invalid/);
      });
    });

    describe("banHistory", () => {
      it("lists bans of an address since a time, oldest first, with what the ban ledger needs", async () => {
        const store = await fresh();
        const lines = evidence(3, T0);
        const [, b, c] = store.recordDecisions([
          ban("192.0.2.1", { at: T0 - 48 * HOUR }),
          ban("192.0.2.1", { at: T0 - 2 * HOUR, scope: SIP, evidence: lines }),
          ban("192.0.2.1", { at: T0 - HOUR, origin: "jail:recidive", durationMs: null, evidence: [] }),
          spare("192.0.2.1", T0 - 30 * 60_000),
          ban("192.0.2.2", { at: T0 - HOUR }),
        ]);
        store.removeDecision({ target: "192.0.2.1", origin: "jail:recidive", now: T0, endedBy: "manual" });
        expect(store.banHistory({ address: "192.0.2.1", since: T0 - 24 * HOUR })).toEqual([
          {
            id: b!.id,
            target: "192.0.2.1",
            origin: "jail:asterisk",
            at: T0 - 2 * HOUR,
            expiresAt: T0 - HOUR,
            endedAt: null,
            scope: SIP,
            lastEvidence: lines[2],
          },
          {
            id: c!.id,
            target: "192.0.2.1",
            origin: "jail:recidive",
            at: T0 - HOUR,
            expiresAt: null,
            endedAt: T0,
            scope: { kind: "all" },
            lastEvidence: undefined,
          },
        ]);
      });

      it("lists every address's bans when no address is given", async () => {
        const store = await fresh();
        store.recordDecisions([
          ban("192.0.2.2", { at: T0 - HOUR }),
          ban("2001:db8::1", { at: T0 - 3 * HOUR }),
          ban("192.0.2.3", { at: T0 - 30 * HOUR }),
        ]);
        expect(store.banHistory({ since: T0 - 24 * HOUR }).map((h) => h.target)).toEqual([
          "2001:db8::1",
          "192.0.2.2",
        ]);
      });
    });

    describe("recentDecisions", () => {
      it("lists what was decided since a time, newest first, limited, by action and origin or its kind", async () => {
        const store = await fresh();
        const [old, jail, feed, spared, fleet] = store.recordDecisions([
          ban("192.0.2.1", { at: T0 - 30 * HOUR }),
          ban("192.0.2.2", { at: T0 - 3 * HOUR, durationMs: 24 * HOUR }),
          ban("198.51.100.0/24", { at: T0 - 2 * HOUR, origin: "feed:voipbl" }),
          spare("192.0.2.3", T0 - HOUR),
          ban("2001:db8::/64", { at: T0 - HOUR, origin: "fleet:pbx-2" }),
        ]);
        store.removeDecision({ target: "192.0.2.2", now: T0, endedBy: "manual" });
        const ids = (q: Partial<Parameters<DecisionStore["recentDecisions"]>[0]>) =>
          store.recentDecisions({ since: T0 - 24 * HOUR, limit: 10, ...q }).map((d) => d.id);
        // Same time: the later recorded first.
        expect(ids({})).toEqual([fleet!.id, spared!.id, feed!.id, jail!.id]);
        expect(ids({ limit: 2 })).toEqual([fleet!.id, spared!.id]);
        expect(ids({ since: T0 - 48 * HOUR })).toContain(old!.id);
        expect(ids({ action: "spare" })).toEqual([spared!.id]);
        expect(ids({ action: "ban", origin: "jail:" })).toEqual([jail!.id]);
        expect(ids({ origin: "jail:asterisk" })).toEqual([spared!.id, jail!.id]);
        expect(ids({ origin: "fleet:" })).toEqual([fleet!.id]);
        expect(ids({ origin: "fleet" })).toEqual([]);
        expect(ids({ origin: "%" })).toEqual([]);
        // Ended bans are there with how they ended.
        const [ended] = store.recentDecisions({
          since: T0 - 4 * HOUR,
          limit: 1,
          origin: "jail:",
          action: "ban",
        });
        expect(ended).toMatchObject({ target: "192.0.2.2", endedAt: T0, endedBy: "manual" });
      });

      it("pages down the newest-first list from a decision, with ties at one time split by id", async () => {
        const store = await fresh();
        // Recorded out of time order (as another node's and imported bans are), three at one time.
        const made = store.recordDecisions([
          ban("192.0.2.1", { at: T0 - HOUR }),
          ban("192.0.2.2", { at: T0 - 3 * HOUR }),
          ban("192.0.2.3", { at: T0 - 2 * HOUR }),
          ban("192.0.2.4", { at: T0 - 2 * HOUR }),
          spare("192.0.2.5", T0 - 2 * HOUR),
          ban("192.0.2.6", { at: T0 - 30 * HOUR }),
        ]);
        const all = store.recentDecisions({ since: T0 - 24 * HOUR, limit: 10 });
        expect(all.map((d) => d.target)).toEqual([
          "192.0.2.1",
          "192.0.2.5",
          "192.0.2.4",
          "192.0.2.3",
          "192.0.2.2",
        ]);
        // Two at a time, each page from the last one's (at, id): every decision once, in the same order.
        const paged: string[] = [];
        let before: { at: number; id: number } | undefined;
        for (let page = 0; page < 5; page++) {
          const got = store.recentDecisions({
            since: T0 - 24 * HOUR,
            limit: 2,
            ...(before ? { before } : {}),
          });
          paged.push(...got.map((d) => d.target));
          const last = got.at(-1);
          if (last === undefined) break;
          before = { at: last.at, id: last.id };
        }
        expect(paged).toEqual(all.map((d) => d.target));
        // The filters hold on every page.
        const third = made[2]!;
        expect(
          store
            .recentDecisions({
              since: T0 - 24 * HOUR,
              limit: 10,
              action: "ban",
              before: { at: third.at, id: third.id },
            })
            .map((d) => d.target),
        ).toEqual(["192.0.2.2"]);
      });

      it("lists what was recorded after an id in the order recorded, whatever the decisions' times", async () => {
        const store = await fresh();
        expect(store.lastDecisionId()).toBe(0);
        const [a, b, c, d] = store.recordDecisions([
          ban("192.0.2.1", { at: T0 - HOUR }),
          ban("192.0.2.2", { at: T0 - 3 * HOUR, origin: "fleet:pbx-2" }),
          spare("192.0.2.3", T0 - 2 * HOUR),
          ban("192.0.2.4", { at: T0 - 40 * HOUR }),
        ]);
        const after = (afterId: number, q: Partial<Parameters<DecisionStore["recentDecisions"]>[0]> = {}) =>
          store.recentDecisions({ since: 0, limit: 10, afterId, ...q }).map((x) => x.id);
        expect(after(0)).toEqual([a!.id, b!.id, c!.id, d!.id]);
        expect(after(a!.id, { limit: 2 })).toEqual([b!.id, c!.id]);
        expect(after(c!.id)).toEqual([d!.id]);
        expect(after(d!.id)).toEqual([]);
        expect(after(0, { action: "ban", origin: "jail:" })).toEqual([a!.id, d!.id]);
        expect(after(0, { since: T0 - 24 * HOUR })).toEqual([a!.id, b!.id, c!.id]);
        // One recorded later, with an old time, still comes after the cursor.
        const [late] = store.recordDecisions([
          ban("192.0.2.9", { at: T0 - 20 * HOUR, origin: "fleet:pbx-3" }),
        ]);
        expect(after(d!.id)).toEqual([late!.id]);
      });
    });

    describe("expire (housekeeping)", () => {
      it("deletes only what has been over for longer than the retention", async () => {
        const store = await fresh({ retentionMs: 24 * HOUR });
        const now = T0 + 100 * HOUR;
        const [, , , , keptEnded, permanent, longBan, recent] = store.recordDecisions([
          ban("192.0.2.1", { at: T0, durationMs: HOUR }), // over at T0+1h: goes
          spare("192.0.2.2", T0), // goes
          ban("192.0.2.3", { at: T0, durationMs: null }), // ended below at T0+2h: goes
          ban("192.0.2.4", { at: T0, durationMs: 1000 * HOUR }), // ended below at T0+2h: goes
          ban("192.0.2.5", { at: T0, durationMs: 1000 * HOUR }), // ended at now-1h: stays
          ban("192.0.2.6", { at: T0, durationMs: null }), // permanent, in force: stays
          ban("192.0.2.7", { at: T0, durationMs: 1000 * HOUR }), // still in force: stays
          ban("192.0.2.8", { at: now - 2 * HOUR, durationMs: HOUR }), // over recently: stays
        ]);
        store.removeDecision({ target: "192.0.2.3", now: T0 + 2 * HOUR, endedBy: "manual" });
        store.removeDecision({ target: "192.0.2.4", now: T0 + 2 * HOUR, endedBy: "manual" });
        store.removeDecision({ target: "192.0.2.5", now: now - HOUR, endedBy: "manual" });
        expect(store.expire(now)).toEqual({ deleted: 4 });
        const left = store.banHistory({ since: 0 }).map((h) => h.id);
        expect(left).toEqual([keptEnded!.id, permanent!.id, longBan!.id, recent!.id]);
        expect(store.expire(now)).toEqual({ deleted: 0 });
        expect(store.decisionsFor("192.0.2.1", now)).toEqual({ active: [], past: [] });
      });

      it("never hands out an id again, even when every decision has been deleted", async () => {
        const store = await fresh({ retentionMs: HOUR });
        const made = store.recordDecisions([
          ban("192.0.2.1", { at: T0, durationMs: HOUR }),
          spare("192.0.2.2", T0),
        ]);
        const now = T0 + 100 * HOUR;
        store.expire(now);
        expect(store.recentDecisions({ since: 0, limit: 10 }).every((d) => d.at === T0)).toBe(true);
        expect(store.lastDecisionId()).toBe(made[1]!.id);
        const [next] = store.recordDecisions([ban("192.0.2.3", { at: now })]);
        expect(next!.id).toBeGreaterThan(Math.max(...made.map((d) => d.id)));
        expect(store.lastDecisionId()).toBe(next!.id);
        expect(store.recentDecisions({ since: 0, limit: 10, afterId: made[1]!.id }).map((d) => d.id)).toEqual(
          [next!.id],
        );
      });
    });

    describe("suspectMarks", () => {
      it("keeps one mark per address while in force, by value, in the order saved; expire drops the ended", async () => {
        const store = await fresh();
        const T = 1_700_000_000_000;
        const mark = { user: "1001", failures: { count: 6, accounts: ["1001", "1002"] } };
        store.suspectMarks.save("203.0.113.5", T + 1000, mark);
        store.suspectMarks.save("2001:db8::5", T + 5000, { user: "2001" });
        store.suspectMarks.save("198.51.100.9", T + 3000, { user: "3001" });
        mark.user = "changed after save";
        expect(store.suspectMarks.inForce(T)).toEqual([
          {
            address: "203.0.113.5",
            mark: { user: "1001", failures: { count: 6, accounts: ["1001", "1002"] } },
          },
          { address: "2001:db8::5", mark: { user: "2001" } },
          { address: "198.51.100.9", mark: { user: "3001" } },
        ]);
        // A later mark on an address replaces the earlier and counts as saved last.
        store.suspectMarks.save("203.0.113.5", T + 9000, { user: "1009" });
        expect(store.suspectMarks.inForce(T + 1000).map((m) => [m.address, m.mark.user])).toEqual([
          ["2001:db8::5", "2001"],
          ["198.51.100.9", "3001"],
          ["203.0.113.5", "1009"],
        ]);
        // In force until `until`, exclusive; kept as the latest on its address after that.
        expect(store.suspectMarks.inForce(T + 5000).map((m) => m.address)).toEqual(["203.0.113.5"]);
        expect(store.suspectMarks.latest("198.51.100.9")).toEqual({ user: "3001" });
        expect(store.suspectMarks.latest("203.0.113.5")).toEqual({ user: "1009" });
        expect(store.suspectMarks.latest("192.0.2.1")).toBeUndefined();
        expect(store.suspectMarks.recent(10).map((m) => m.address)).toEqual([
          "203.0.113.5",
          "198.51.100.9",
          "2001:db8::5",
        ]);
        expect(store.suspectMarks.recent(1)).toEqual([{ address: "203.0.113.5", mark: { user: "1009" } }]);
        // expire forgets marks over for longer than the retention, and nothing else.
        store.expire(T + 3000 + RETENTION + 1);
        expect(store.suspectMarks.latest("198.51.100.9")).toBeUndefined();
        expect(store.suspectMarks.latest("2001:db8::5")).toEqual({ user: "2001" });
        expect(store.suspectMarks.inForce(T).map((m) => m.address)).toEqual(["2001:db8::5", "203.0.113.5"]);
      });
    });

    describe("positions", () => {
      it("round-trips JSON positions per source id", async () => {
        const store = await fresh();
        const positions: PositionStore = store.positions;
        expect(await positions.load("/var/log/asterisk/messages")).toBeUndefined();
        const pos = { dev: 2049, ino: 1234567, offset: 987654321, head: "c2lw", nested: { a: [1, 2] } };
        await positions.save("/var/log/asterisk/messages", pos);
        await positions.save("journald:asterisk.service", { cursor: "s=abc;i=1f" });
        expect(await positions.load("/var/log/asterisk/messages")).toEqual(pos);
        await positions.save("/var/log/asterisk/messages", { offset: 1 });
        expect(await positions.load("/var/log/asterisk/messages")).toEqual({ offset: 1 });
        expect(await positions.load("journald:asterisk.service")).toEqual({ cursor: "s=abc;i=1f" });
      });

      it("stores by value: changing the object after save changes nothing", async () => {
        const store = await fresh();
        const pos = { offset: 10 };
        await store.positions.save("a", pos);
        pos.offset = 20;
        const loaded = (await store.positions.load("a")) as { offset: number };
        loaded.offset = 30;
        expect(await store.positions.load("a")).toEqual({ offset: 10 });
      });
    });
  });
}
