// What each address failed lately, across every jail: asked when a phone registers from an address, since a
// registration after many failed logins from the same address looks like a password someone guessed.

import type { Evidence, Offense } from "../domain/offense.js";

export interface FailureMemoryConfig {
  /** Newest failures kept per address: the count a registration is judged on (1 to 1000). */
  readonly keep: number;
  /** How far back a failure counts (ms). */
  readonly lookbackMs: number;
  /** Addresses held at most; past it the one that failed longest ago is forgotten. Default 100 000. */
  readonly maxAddresses?: number;
}

/** An address's failures within the lookback before a time, newest `keep` of them at most. */
export interface RecentFailures {
  readonly count: number;
  /** Of them, those that named the account asked about, or no account (a line without one). */
  readonly onAccount: number;
  /** Distinct accounts other than the one asked about that the failures named (a spray over accounts). */
  readonly otherAccounts: number;
  /** Distinct accounts the failures named, newest first, at most ACCOUNTS_SHOWN. */
  readonly accounts: readonly string[];
  /** The jail of the newest failure. */
  readonly jail: string;
  /** The newest failures' lines, oldest first, at most EVIDENCE_KEPT. */
  readonly evidence: readonly Evidence[];
}

export interface FailureMemory {
  /**
   * One failure a jail matched; `from`, the line it came from, makes a line that two jails both match count
   * once (the pipeline hands every jail the same line object).
   */
  record(jail: string, offense: Offense, from?: object): void;
  /**
   * The failures of `address` (canonical text) within the lookback before `at`, or null for none; `account`
   * is the one `onAccount` and `otherAccounts` are counted against.
   */
  recent(address: string, at: number, account?: string): RecentFailures | null;
  /** Forgets addresses whose newest failure is older than the lookback before `now`. */
  expire(now: number): void;
  size(): number;
}

const ACCOUNTS_SHOWN = 5;
const EVIDENCE_KEPT = 5;

interface Failure {
  readonly jail: string;
  readonly time: number;
  readonly user: string | undefined;
  readonly evidence: Evidence;
}

/**
 * Invariant: each address's list holds at most `keep` failures in the order recorded, and the map is in the
 * order of each address's latest failure (an address is moved to the end when it fails), so the first key
 * is the one to forget.
 */
export function createFailureMemory(config: FailureMemoryConfig): FailureMemory {
  const keep = Math.max(1, Math.min(1000, Math.floor(config.keep)));
  const maxAddresses = config.maxAddresses ?? 100_000;
  const byAddress = new Map<string, Failure[]>();
  let lastFrom: object | undefined;

  return {
    record(jail, offense, from) {
      if (offense.kind !== "failure") return;
      if (from !== undefined && from === lastFrom) return;
      lastFrom = from;
      const key = offense.address.text;
      let list = byAddress.get(key);
      if (list === undefined) list = [];
      else byAddress.delete(key);
      list.push({ jail, time: offense.time, user: offense.user, evidence: offense.evidence });
      if (list.length > keep) list.shift();
      byAddress.set(key, list);
      if (byAddress.size > maxAddresses) {
        const oldest = byAddress.keys().next().value;
        if (oldest !== undefined) byAddress.delete(oldest);
      }
    },

    recent(address, at, account) {
      const list = byAddress.get(address);
      if (list === undefined) return null;
      const since = at - config.lookbackMs;
      const within = list.filter((f) => f.time >= since && f.time <= at);
      const newest = within[within.length - 1];
      if (newest === undefined) return null;
      const named = (f: Failure): boolean => f.user !== undefined && f.user !== "";
      const accounts: string[] = [];
      for (let i = within.length - 1; i >= 0 && accounts.length < ACCOUNTS_SHOWN; i--) {
        const f = within[i]!;
        if (named(f) && !accounts.includes(f.user as string)) accounts.push(f.user as string);
      }
      const others = new Set<string>();
      for (const f of within) if (named(f) && f.user !== account) others.add(f.user as string);
      return {
        count: within.length,
        onAccount: within.filter((f) => !named(f) || f.user === account).length,
        otherAccounts: others.size,
        accounts,
        jail: newest.jail,
        evidence: within.slice(-EVIDENCE_KEPT).map((f) => f.evidence),
      };
    },

    expire(now) {
      const since = now - config.lookbackMs;
      for (const [address, list] of byAddress) {
        if ((list[list.length - 1]?.time ?? 0) >= since) continue;
        byAddress.delete(address);
      }
    },

    size() {
      return byAddress.size;
    },
  };
}
