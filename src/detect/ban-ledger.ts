// What detection remembers about bans it made: which are still active, and past bans for escalation and recidive.

import type { Evidence } from "../domain/offense.js";

/** One ban made by a jail (or by recidive), remembered for escalation and recidive counting. */
export interface BanRecord {
  readonly jail: string;
  readonly at: number;
  /** null: permanent. */
  readonly expiresAt: number | null;
  /** True when the ban covers every port, so it covers every jail's offenses too. */
  readonly allPorts: boolean;
  /** The newest line of the ban's evidence; recidive quotes one line per ban. */
  readonly lastEvidence: Evidence | undefined;
}

export interface BanLedger {
  record(address: string, ban: BanRecord): void;
  /**
   * The ban that already covers an offense of `jail` at event time `time`: one of the same jail, or any
   * all-ports ban, not yet expired at `time`. Expiry is exclusive: at `expiresAt` the ban is over.
   */
  coveringBan(address: string, jail: string, time: number): BanRecord | null;
  /** Bans with `at >= time - windowMs` and `at <= time` whose jail passes `include`, oldest first. */
  bansWithin(
    address: string,
    time: number,
    windowMs: number,
    include?: (jail: string) => boolean,
  ): BanRecord[];
  /** Forgets bans that are expired at `now` and older than `memoryMs`; addresses left with none go. */
  expire(now: number): void;
  size(): { readonly addresses: number; readonly bans: number };
  /** Bans not expired at `now`. */
  countActive(now: number): number;
}

/**
 * Keeps, per address, every ban until it is both expired and older than `memoryMs` (the longest look-back
 * any rule needs), so escalation and recidive see the same history in a replay as live.
 */
export function createBanLedger(memoryMs: number): BanLedger {
  // Per address, records in insertion order; lists stay short (a ban needs maxretry failures).
  const ledger = new Map<string, BanRecord[]>();
  let count = 0;

  function record(address: string, ban: BanRecord): void {
    const list = ledger.get(address);
    if (list) list.push(ban);
    else ledger.set(address, [ban]);
    count++;
  }

  function coveringBan(address: string, jail: string, time: number): BanRecord | null {
    const list = ledger.get(address);
    if (!list) return null;
    for (const ban of list) {
      if (ban.jail !== jail && !ban.allPorts) continue;
      if (ban.expiresAt === null || time < ban.expiresAt) return ban;
    }
    return null;
  }

  function bansWithin(
    address: string,
    time: number,
    windowMs: number,
    include: (jail: string) => boolean = () => true,
  ): BanRecord[] {
    const list = ledger.get(address) ?? [];
    return list
      .filter((b) => b.at >= time - windowMs && b.at <= time && include(b.jail))
      .sort((a, b) => a.at - b.at);
  }

  function expire(now: number): void {
    for (const [address, list] of ledger) {
      const kept = list.filter((b) => b.at >= now - memoryMs || b.expiresAt === null || b.expiresAt > now);
      count -= list.length - kept.length;
      if (kept.length === 0) ledger.delete(address);
      else if (kept.length !== list.length) ledger.set(address, kept);
    }
  }

  function countActive(now: number): number {
    let n = 0;
    for (const list of ledger.values()) {
      for (const b of list) if (b.expiresAt === null || b.expiresAt > now) n++;
    }
    return n;
  }

  return {
    record,
    coveringBan,
    bansWithin,
    expire,
    size: () => ({ addresses: ledger.size, bans: count }),
    countActive,
  };
}
