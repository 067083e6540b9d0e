// The daemon's side of the fleet: which of its decisions it shares, and how the other nodes' messages
// become decisions here (bans judged as imports are: the allowlist, zones and registrations win), end
// them (unbans), or become allow entries here (and end them).

import { importedBanDecisions } from "../api/manual-ban.js";
import { parseCidr, type Cidr } from "../domain/address.js";
import type { Clock } from "../domain/clock.js";
import type { Decision } from "../domain/decision.js";
import type { FleetMessage } from "../fleet/fleet-message.js";
import type { DecisionStore } from "../store/decision-store.js";
import type { AllowEntries } from "./allow-entries.js";
import { banFacts, type BanFactsParts } from "./ban-facts.js";
import { createEndMarks } from "./fleet-end-marks.js";

/** Bans this node shares with the fleet: its jails' and its admin's, while in force (not feeds', not the fleet's). */
export function sharedBans(decisions: readonly Decision[], now: number, node: string): FleetMessage[] {
  return decisions.flatMap((d): FleetMessage[] =>
    d.action === "ban" &&
    (d.origin.startsWith("jail:") || d.origin === "manual") &&
    (d.expiresAt === null || d.expiresAt > now)
      ? [
          {
            op: "ban",
            node,
            target: d.target,
            at: d.at,
            expiresAt: d.expiresAt,
            reason: `${d.origin}: ${d.reason}`,
          },
        ]
      : [],
  );
}

export interface FleetApplierDeps {
  readonly store: DecisionStore;
  readonly clock: Clock;
  readonly log: { info(facts: object, msg: string): void };
  readonly facts: BanFactsParts;
  /** Records and enforces decisions (kept out of the notifications). */
  decide(decisions: readonly Decision[]): Promise<unknown>;
  /** Ends the kernel's part of the bans on these targets, ended in the store. */
  lift(targets: readonly string[]): Promise<void>;
  /** Where other nodes' allow entries go, or null while the fleet keeps them per node (`allows: false`). */
  allowEntries(): AllowEntries | null;
}

/**
 * Applies other nodes' messages (and this node's own unbans, read again after a restart), in order: a ban
 * is recorded here as `fleet:<node>` for the time it has left, unless the allowlist or a registration
 * protects the target or it is banned as long already; an unban ends the bans decided before it on the
 * target here, as `sipwarden unban` would (feeds' entries stay), and a ban on it decided before the unban
 * that arrives after it (sent late, or copied back into the stream) is not taken.
 */
export function createFleetApplier(
  deps: FleetApplierDeps,
): (messages: readonly FleetMessage[]) => Promise<void> {
  const { store, clock, log } = deps;
  const unbanned = createEndMarks();

  async function unban(m: Extract<FleetMessage, { op: "unban" }>): Promise<void> {
    unbanned.mark(m.target, m.at);
    const now = clock.now();
    // Only what was decided before the unban: a stream read again after a restart holds old unbans, and a
    // ban this node made since is not undone by them.
    const onTarget = store.activeDecisions(now, m.target).filter((d) => !d.origin.startsWith("feed:"));
    const later = new Set(onTarget.filter((d) => d.at > m.at).map((d) => d.origin));
    const origins = new Set(onTarget.map((d) => d.origin).filter((o) => !later.has(o)));
    const ended = [...origins].flatMap((origin) =>
      store.removeDecision({ target: m.target, origin, now, endedBy: `fleet:${m.node}` }),
    );
    if (ended.length === 0) return;
    await deps.lift([m.target]);
    log.info({ target: m.target, node: m.node, ended: ended.length }, "fleet: unbanned by another node");
  }

  async function bans(node: string, all: readonly Extract<FleetMessage, { op: "ban" }>[]): Promise<void> {
    const now = clock.now();
    const run: Extract<FleetMessage, { op: "ban" }>[] = [];
    const late: string[] = [];
    for (const b of all) {
      if (unbanned.endedSince(b.target, b.at)) late.push(b.target);
      else run.push(b);
    }
    if (late.length > 0)
      log.info({ node, targets: late }, "fleet: bans decided before an unban of them not taken");
    const { decisions, skipped } = importedBanDecisions(
      run.map((b) => ({
        target: parseCidr(b.target) as Cidr,
        at: b.at,
        expiresAt: b.expiresAt,
        reason: `from ${b.node}: ${b.reason}`,
        priorBans: 0,
        evidence: [],
      })),
      now,
      banFacts(deps.facts, now),
      `fleet:${node}`,
    );
    for (const k of skipped)
      if (k.why.startsWith("spared"))
        log.info({ target: k.target, node, why: k.why }, "fleet: ban not taken");
    if (decisions.length > 0) await deps.decide(decisions);
  }

  async function allowsOrNot(
    run: readonly Extract<FleetMessage, { op: "allow" | "unallow" }>[],
  ): Promise<void> {
    const entries = deps.allowEntries();
    if (entries === null) return;
    const { added, removed, unbanned } = await entries.fromFleet(run);
    if (added + removed > 0)
      log.info(
        { added, removed, unbanned, nodes: [...new Set(run.map((m) => m.node))] },
        "fleet: allow entries from other nodes",
      );
  }

  return async (messages) => {
    for (let i = 0; i < messages.length;) {
      const m = messages[i] as FleetMessage;
      if (m.op === "unban") {
        i++;
        await unban(m);
        continue;
      }
      if (m.op === "allow" || m.op === "unallow") {
        // A run of allow entries and removals (any nodes'): applied together, in order.
        let j = i;
        while (j < messages.length && (messages[j]?.op === "allow" || messages[j]?.op === "unallow")) j++;
        await allowsOrNot(messages.slice(i, j) as Extract<FleetMessage, { op: "allow" | "unallow" }>[]);
        i = j;
        continue;
      }
      // A run of bans from one node: judged and recorded together.
      let j = i;
      while (j < messages.length && messages[j]?.op === "ban" && messages[j]?.node === m.node) j++;
      await bans(m.node, messages.slice(i, j) as Extract<FleetMessage, { op: "ban" }>[]);
      i = j;
    }
  };
}
