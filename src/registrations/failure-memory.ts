// What each address failed lately, across every jail: asked when a phone registers from an address, since a
// registration after many failed logins from the same address looks like a password someone guessed.
//
// Held for a day by default and fed by every failure, so it is kept small and cheap. Most addresses of a scan
// fail once: such an address only sets a few bits of a fixed-size filter (seen-filter.ts), and its account is
// not kept, so that first failure counts as one naming no account once the address fails again. From its
// second failure on, an address holds the time and account of its newest `keep` + EXTRA_KEPT failures (two
// arrays, no object per failure) and its newest few lines as evidence, for at most `maxAddresses` addresses,
// the oldest entries going first. With an IPv6 prefix below 128 (config `ipv6_prefix`), an IPv6 address's
// failures are held under its network, as the jails count them: an attacker who changes address at every
// attempt, and registers from yet another, is still one. bench/daemon-memory.mjs and bench/daemon-flood.mjs
// measure it in the daemon (`--suspect on|off`).

import { parseCidr, type IpAddress } from "../domain/address.js";
import type { Evidence, Offense } from "../domain/offense.js";
import { forgetOldest } from "../domain/forget-oldest.js";
import { createSeenFilter } from "./seen-filter.js";

export interface FailureMemoryConfig {
  /** Failures on one account that make a registration suspect: the newest `keep` + EXTRA_KEPT are kept. */
  readonly keep: number;
  /** How far back a failure counts (ms). */
  readonly lookbackMs: number;
  /**
   * Addresses that failed more than once held at most; past it the tenth whose entries are oldest is
   * forgotten. Default 20 000.
   */
  readonly maxAddresses?: number;
  /** IPv6 failures are held per network of this length (below 128), as the jails count them. Default 128. */
  readonly ipv6Prefix?: number;
}

/** An address's failures within the lookback before a time, as far as they are kept. */
export interface RecentFailures {
  /** Failures kept within the lookback. */
  readonly count: number;
  /** Of them, those that named the account asked about, or no account (a line without one). */
  readonly onAccount: number;
  /** Distinct accounts other than the one asked about that the failures named (a spray over accounts). */
  readonly otherAccounts: number;
  /** Distinct accounts the failures named, newest first, at most ACCOUNTS_SHOWN. */
  readonly accounts: readonly string[];
  /** The jail of the newest failure. */
  readonly jail: string;
  /** The newest failures' lines within the lookback, oldest first, at most EVIDENCE_KEPT. */
  readonly evidence: readonly Evidence[];
}

export interface FailureMemory {
  /**
   * One failure a jail matched; `from`, the line it came from, makes a line that two jails both match count
   * once (the pipeline hands every jail the same line object).
   */
  record(jail: string, offense: Offense, from?: object): void;
  /**
   * The failures of `address` (of its network, for IPv6 under `ipv6Prefix`) within the lookback before `at`,
   * or null for none; `account` is the one `onAccount` and `otherAccounts` are counted against.
   */
  recent(address: IpAddress, at: number, account?: string): RecentFailures | null;
  /** Forgets addresses whose newest failure is older than the lookback before `now`. */
  expire(now: number): void;
  size(): number;
}

/** Failures kept beyond `keep`, so that a spray's other accounts are seen beside one account's count. */
const EXTRA_KEPT = 16;
const ACCOUNTS_SHOWN = 5;
const EVIDENCE_KEPT = 3;
/** Characters of an account name kept (attacker text). */
const ACCOUNT_CHARS = 64;

/** Invariant: `times` and `users` have the same length, at most `keep` + EXTRA_KEPT, oldest first. */
interface AddressFailures {
  readonly times: number[];
  /** Each failure's account, or undefined when its line named none. */
  readonly users: (string | undefined)[];
  readonly evidence: Evidence[];
  jail: string;
  newest: number;
}

export function createFailureMemory(config: FailureMemoryConfig): FailureMemory {
  const kept = Math.max(1, Math.min(1000, Math.floor(config.keep))) + EXTRA_KEPT;
  const maxAddresses = config.maxAddresses ?? 20_000;
  /** In the order entries were made, so the first keys are the ones to forget. */
  const byAddress = new Map<string, AddressFailures>();
  // Addresses that failed once within the lookback (probably: a Bloom filter), without an entry.
  const seen = createSeenFilter(config.lookbackMs);
  let lastFrom: object | undefined;
  const v6Prefix = config.ipv6Prefix ?? 128;
  /** Where an address's failures are held: itself, or its IPv6 network. */
  const keyOf = (address: IpAddress): string =>
    address.family === 6 && v6Prefix < 128
      ? (parseCidr(`${address.text}/${v6Prefix}`)?.text ?? address.text)
      : address.text;

  const add = (entry: AddressFailures, user: string | undefined, time: number): void => {
    entry.times.push(time);
    entry.users.push(user);
    if (entry.times.length > kept) {
      entry.times.shift();
      entry.users.shift();
    }
    if (time > entry.newest) entry.newest = time;
  };

  return {
    record(jail, offense, from) {
      if (offense.kind !== "failure") return;
      if (from !== undefined && from === lastFrom) return;
      lastFrom = from;
      const key = keyOf(offense.address);
      let entry = byAddress.get(key);
      if (entry === undefined) {
        if (!seen.seenOrAdd(key, offense.time)) return;
        // The second failure: the address gets its entry, with the first failure in it as one naming no
        // account, at this one's time (its account, time and line were not kept).
        entry = { times: [], users: [], evidence: [], jail, newest: offense.time };
        add(entry, undefined, offense.time);
        byAddress.set(key, entry);
        if (byAddress.size > maxAddresses) forgetOldest(byAddress, maxAddresses);
      }
      const user = offense.user === undefined || offense.user === "" ? undefined : offense.user;
      add(
        entry,
        user === undefined || user.length <= ACCOUNT_CHARS ? user : user.slice(0, ACCOUNT_CHARS),
        offense.time,
      );
      entry.evidence.push(offense.evidence);
      if (entry.evidence.length > EVIDENCE_KEPT) entry.evidence.shift();
      entry.jail = jail;
    },

    recent(address, at, account) {
      const entry = byAddress.get(keyOf(address));
      if (entry === undefined) return null;
      const since = at - config.lookbackMs;
      const within = (t: number): boolean => t >= since && t <= at;
      let count = 0;
      let onAccount = 0;
      const others = new Set<string>();
      const named: string[] = [];
      // Newest first, so that the accounts are listed by their latest failure.
      for (let i = entry.times.length - 1; i >= 0; i--) {
        if (!within(entry.times[i]!)) continue;
        const user = entry.users[i];
        count++;
        if (user === undefined || user === account) onAccount++;
        else others.add(user);
        if (user !== undefined && !named.includes(user)) named.push(user);
      }
      if (count === 0) return null;
      return {
        count,
        onAccount,
        otherAccounts: others.size,
        accounts: named.slice(0, ACCOUNTS_SHOWN),
        jail: entry.jail,
        evidence: entry.evidence.filter((e) => within(e.time)),
      };
    },

    expire(now) {
      const since = now - config.lookbackMs;
      for (const [address, entry] of byAddress) if (entry.newest < since) byAddress.delete(address);
    },

    size() {
      return byAddress.size;
    },
  };
}
