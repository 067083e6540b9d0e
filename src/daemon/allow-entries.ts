// Allow entries made by hand (sipwarden allow), here or on another node of the fleet: adding one lifts the
// bans in force it covers, store and kernel; removing one takes it out of the kernel's allow set. Both go to
// the fleet when an admin made them here.

import { cidrCovers, parseCidr, type Cidr } from "../domain/address.js";
import type { Clock } from "../domain/clock.js";
import type { FleetMessage } from "../fleet/fleet-message.js";
import type { DecisionStore, StoredDecision } from "../store/decision-store.js";
import type { RuntimeAllow, RuntimeAllowlist } from "./runtime-allowlist.js";

/** Another node's admin, and when (its clock): the entry is recorded as theirs, not told to the fleet again. */
export interface FromNode {
  readonly node: string;
  readonly at: number;
}

export interface AllowEntries {
  /** Adds the entry and lifts the bans in force that it covers; returns it and the bans it ended. */
  allow(
    target: Cidr,
    expiresAt: number | null,
    from?: FromNode,
  ): Promise<{ entry: RuntimeAllow; ended: StoredDecision[] }>;
  /**
   * Removes the entries on exactly `target` (another node's removal: only those added before it, so that
   * one read again after a restart leaves an entry made since); returns them.
   */
  unallow(target: Cidr, from?: FromNode): Promise<RuntimeAllow[]>;
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
  return {
    async allow(target, expiresAt, from) {
      const now = clock.now();
      const entry = allows.add(target, expiresAt, from);
      const covered = store.activeDecisions(now).filter((d) => {
        const banned = parseCidr(d.target);
        return banned !== null && cidrCovers(target, banned);
      });
      const ended = [...new Set(covered.map((d) => d.target))].flatMap((t) =>
        store.removeDecision({
          target: t,
          now,
          endedBy: from === undefined ? "allow" : `allow:${from.node}`,
        }),
      );
      if (ended.length > 0) await deps.unbanInSets([...new Set(ended.map((d) => d.target))]);
      // The kernel's allow set gets the new entry (and loses network bans it lifted) in one apply.
      await deps.applyPolicy();
      if (from === undefined) deps.publish({ op: "allow", target: target.text, at: now, expiresAt });
      return { entry, ended };
    },

    async unallow(target, from) {
      const now = clock.now();
      const removed = allows.remove(target, now, from?.at);
      if (removed.length === 0) return [];
      await deps.applyPolicy();
      if (from === undefined) deps.publish({ op: "unallow", target: target.text, at: now });
      return removed;
    },
  };
}
