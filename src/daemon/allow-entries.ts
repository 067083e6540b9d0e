// Allow entries made by hand (sipwarden allow), here or on another node of the fleet: adding one lifts the
// bans in force it covers, store and kernel; removing one takes it out of the kernel's allow set. Both go to
// the fleet when an admin made them here.

import { cidrCovers, parseCidr, type Cidr } from "../domain/address.js";
import type { Clock } from "../domain/clock.js";
import type { FleetMessage } from "../fleet/fleet-message.js";
import type { DecisionStore, StoredDecision } from "../store/decision-store.js";
import type { RuntimeAllow, RuntimeAllowlist } from "./runtime-allowlist.js";
import { createEndMarks } from "./fleet-end-marks.js";

/** Another node's admin, and when (its clock): the entry is recorded as theirs, not told to the fleet again. */
interface FromNode {
  readonly node: string;
  readonly at: number;
}

export interface AllowEntries {
  /** Adds an entry made here, lifts the bans in force that it covers, and tells the fleet. */
  allow(target: Cidr, expiresAt: number | null): Promise<{ entry: RuntimeAllow; ended: StoredDecision[] }>;
  /** Removes the entries on exactly `target` (whoever made them) and tells the fleet; returns them. */
  unallow(target: Cidr): Promise<RuntimeAllow[]>;
  /**
   * Other nodes' entries and removals, in stream order, with one policy apply for them all (a node that
   * joins reads many). A removal takes only the entries added before it, so that one read again after a
   * restart leaves an entry made since; an entry already over is not added.
   */
  fromFleet(
    messages: readonly (AllowMessage | UnallowMessage)[],
  ): Promise<{ added: number; removed: number; unbanned: number }>;
}

export interface AllowEntriesDeps {
  readonly allows: RuntimeAllowlist;
  readonly store: DecisionStore;
  readonly clock: Clock;
  /** Takes these bans (ended in the store) out of the kernel's ban sets, where they live there. */
  unbanInSets(targets: readonly string[]): Promise<void>;
  /** Rebuilds and applies the policy: the allow set follows the entries, the network lists the bans. */
  applyPolicy(): Promise<void>;
  /** Tells the fleet (a no-op when alone, or when the fleet keeps allow entries per node). */
  publish(message: Omit<AllowMessage, "node"> | Omit<UnallowMessage, "node">): void;
}

type AllowMessage = Extract<FleetMessage, { op: "allow" }>;
type UnallowMessage = Extract<FleetMessage, { op: "unallow" }>;

export function createAllowEntries(deps: AllowEntriesDeps): AllowEntries {
  const { allows, store, clock } = deps;
  // Another node's allow entry made before a removal of it is not taken when it arrives after it.
  const ends = createEndMarks();

  /** Records the entry and ends the bans it covers (store and ban sets); the policy is the caller's. */
  async function add(
    target: Cidr,
    expiresAt: number | null,
    from?: FromNode,
  ): Promise<{ entry: RuntimeAllow; ended: StoredDecision[] }> {
    const now = clock.now();
    const entry = allows.add(target, expiresAt, from);
    // An address covers only the bans on itself: found by the store's index, not among every ban in force
    // (a fleet's node holds tens of thousands). A network's are looked for among them all.
    const host = target.prefix === (target.family === 4 ? 32 : 128);
    const covered = host
      ? store.activeDecisions(now, target.text)
      : store.activeDecisions(now).filter((d) => {
          const banned = parseCidr(d.target);
          return banned !== null && cidrCovers(target, banned);
        });
    const endedBy = from === undefined ? "allow" : `allow:${from.node}`;
    const ended = [...new Set(covered.map((d) => d.target))].flatMap((t) =>
      store.removeDecision({ target: t, now, endedBy }),
    );
    if (ended.length > 0) await deps.unbanInSets([...new Set(ended.map((d) => d.target))]);
    return { entry, ended };
  }

  return {
    async allow(target, expiresAt) {
      const added = await add(target, expiresAt);
      // The kernel's allow set gets the new entry (and loses network bans it lifted) in one apply.
      await deps.applyPolicy();
      deps.publish({ op: "allow", target: target.text, at: clock.now(), expiresAt });
      return added;
    },

    async unallow(target) {
      const now = clock.now();
      const removed = allows.remove(target, now);
      if (removed.length === 0) return [];
      await deps.applyPolicy();
      deps.publish({ op: "unallow", target: target.text, at: now });
      return removed;
    },

    async fromFleet(messages) {
      let [added, removed, unbanned] = [0, 0, 0];
      for (const m of messages) {
        const target = parseCidr(m.target) as Cidr;
        const from = { node: m.node, at: m.at };
        if (m.op === "unallow") {
          ends.mark(m.target, m.at);
          removed += allows.remove(target, clock.now(), m.at).length;
        } else if ((m.expiresAt === null || m.expiresAt > clock.now()) && !ends.endedSince(m.target, m.at)) {
          added++;
          unbanned += (await add(target, m.expiresAt, from)).ended.length;
        }
      }
      if (added + removed > 0) await deps.applyPolicy();
      return { added, removed, unbanned };
    },
  };
}
