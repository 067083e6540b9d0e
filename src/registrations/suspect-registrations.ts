// A registration that looks like a guessed password: an address that failed to log in again and again, and
// then registers. A live registration shields its address from bans (a NAT'd office is not cut off by one
// phone's typo); such a one must not, or a password cracker that succeeds is protected from then on.

import { z } from "zod";
import { parseIp, type Cidr, type IpAddress } from "../domain/address.js";
import { forgetOldest } from "../domain/forget-oldest.js";
import type { RegistrationEntry } from "../domain/registration.js";
import type { FailureMemory, RecentFailures } from "./failure-memory.js";
import type { Registry } from "./registry.js";

export interface SuspectConfig {
  /**
   * Failures from the address within `lookbackMs` before it registers, on the account that registers (or on
   * no named account), that make the registration suspect.
   */
  readonly failures: number;
  readonly lookbackMs: number;
}

/**
 * Other accounts the address failed on within the lookback that make a registration suspect whatever its own
 * count: a spray (one password tried on extension after extension) fails once per account. An office's phone
 * with a typo fails on one account, which does not make its colleague's registration suspect.
 */
export const SPRAY_ACCOUNTS = 3;

/** One suspect registration: who registered, from where, after what. */
export interface SuspectMark {
  readonly address: IpAddress;
  /** The account that registered (text from SIP). */
  readonly user: string;
  /** The provider that reported the registration. */
  readonly source: string;
  /** When it was judged (clock ms); the address is not shielded until `until`. */
  readonly at: number;
  readonly until: number;
  readonly failures: RecentFailures;
  /** When an admin cleared it (its `until` is then that time): the registration was the customer's. */
  readonly clearedAt?: number;
}

export interface SuspectRegistrations {
  /**
   * A binding the registry did not hold (its `onNew`, with `heldBefore`). An address that held another
   * binding within the lookback before it is a known customer's and is not judged: a second phone of the
   * office, or its phone registering again after its binding lapsed (a log line's registration lasts an hour;
   * a phone may re-register less often). Nor is one with a `neighbour`. Otherwise the registration is suspect
   * when its address failed `failures` times on that account (or on none named) within the lookback, or on
   * SPRAY_ACCOUNTS other accounts. Judged once per address and account within the lookback. Returns the new
   * mark, or null.
   */
  judge(entry: RegistrationEntry, heldBefore: number | null): SuspectMark | null;
  /** The mark on `address` in force at `at` (any time before its `until`), or null. */
  markOf(address: string, at: number): SuspectMark | null;
  /** Marks in force at `now`, newest first. */
  list(now: number): readonly SuspectMark[];
  /**
   * Marks kept from before (a restart, or a rule rebuilt by a reload), oldest first: each in force at `now`
   * holds again, and its address and account are not judged again before its `at` + lookback.
   */
  restore(marks: readonly SuspectMark[], now: number): void;
  /**
   * Ends the mark in force on `address` at `now` (an admin checked the registration: the customer's), and
   * returns it as ended; null when none is in force. The address is not judged again on that account
   * within the lookback.
   */
  clear(address: string, now: number): SuspectMark | null;
  /** Drops marks and judgements older than the lookback; call periodically. */
  expire(now: number): void;
}

export interface SuspectDeps {
  readonly memory: FailureMemory;
  /**
   * Whether another binding, live or lapsed within the lookback, shares the network `address`'s failures are
   * held under (an IPv6 prefix): an office whose phones each have an address of its /64 is one known
   * customer, as a NAT'd office behind one IPv4 address is. None: addresses are judged alone.
   */
  readonly neighbour?: (address: IpAddress, at: number) => boolean;
}

/** Marks held at most (one per address): past it the oldest tenth is dropped, their addresses shielded again. */
const MAX_MARKS = 10_000;
/** Judgements remembered at most (address and account). */
const MAX_JUDGED = 100_000;

export function createSuspectRegistrations(config: SuspectConfig, deps: SuspectDeps): SuspectRegistrations {
  const marks = new Map<string, SuspectMark>();
  const judged = new Map<string, number>();

  const markOf = (address: string, at: number): SuspectMark | null => {
    const m = marks.get(address);
    // No lower bound: the lines judged against it carry their own (event) time, which may be a little before
    // the clock time the registration came in, and the binding it overrides is no older than the mark.
    return m !== undefined && at < m.until ? m : null;
  };

  const keep = (mark: SuspectMark): void => {
    marks.delete(mark.address.text);
    marks.set(mark.address.text, mark);
    if (marks.size > MAX_MARKS) forgetOldest(marks, MAX_MARKS);
  };
  const judgedAt = (address: string, user: string, at: number): void => {
    const key = `${address}\0${user}`;
    judged.delete(key);
    judged.set(key, at);
    if (judged.size > MAX_JUDGED) forgetOldest(judged, MAX_JUDGED);
  };

  return {
    judge(entry, heldBefore) {
      const at = entry.seenAt;
      if (heldBefore !== null && at - heldBefore < config.lookbackMs) return null;
      // Most registrations come from addresses that never failed: nothing to judge nor remember.
      const failures = deps.memory.recent(entry.address, at, entry.user);
      if (failures === null || deps.neighbour?.(entry.address, at) === true) return null;
      const last = judged.get(`${entry.address.text}\0${entry.user}`);
      if (last !== undefined && at - last < config.lookbackMs) return null;
      judgedAt(entry.address.text, entry.user, at);
      if (failures.onAccount < config.failures && failures.otherAccounts < SPRAY_ACCOUNTS) return null;
      const mark: SuspectMark = {
        address: entry.address,
        user: entry.user,
        source: entry.source,
        at,
        until: at + config.lookbackMs,
        failures,
      };
      keep(mark);
      return mark;
    },

    restore(kept, now) {
      for (const mark of kept) {
        if (mark.until <= now) continue;
        keep(mark);
        judgedAt(mark.address.text, mark.user, mark.at);
      }
    },

    clear(address, now) {
      const mark = markOf(address, now);
      if (mark === null) return null;
      marks.delete(address);
      return { ...mark, until: now, clearedAt: now };
    },

    markOf,

    list(now) {
      return [...marks.values()].filter((m) => m.until > now).reverse();
    },

    expire(now) {
      for (const [address, m] of marks) if (m.until <= now) marks.delete(address);
      for (const [key, at] of judged) if (now - at >= config.lookbackMs) judged.delete(key);
    },
  };
}

/**
 * `registry` as detection and the ban judges see it: an address `marked` at a time is not registered then, so
 * failures from it count like anyone's. A network holding a marked address and a customer's is still the
 * customer's. Everything else is the registry's own.
 */
export function shieldRegistry(
  registry: Registry,
  marked: (address: string, at: number) => boolean,
): Registry {
  return {
    ...registry,
    isRegistered: (address: IpAddress, at: number) =>
      marked(address.text, at) ? null : registry.isRegistered(address, at),
    registeredIn: (network: Cidr, at: number, skip?: (address: string) => boolean) =>
      registry.registeredIn(network, at, (a) => marked(a, at) || skip?.(a) === true),
    heldIn: (network: Cidr, since: number, at: number, skip?: (address: string) => boolean) =>
      registry.heldIn(network, since, at, (a) => marked(a, at) || skip?.(a) === true),
  };
}

const evidenceShape = z.object({
  time: z.number(),
  source: z.string(),
  lineNo: z.number().int().optional(),
  line: z.string(),
});
const count = z.number().int().nonnegative();
/** A mark's JSON, as markJson writes it. */
const markShape = z.object({
  address: z.string(),
  user: z.string(),
  source: z.string(),
  at: z.number(),
  until: z.number(),
  clearedAt: z.number().optional(),
  failures: z.object({
    count,
    onAccount: count,
    otherAccounts: count,
    accounts: z.array(z.string()),
    jail: z.string(),
    evidence: z.array(evidenceShape),
  }),
});

/** A mark as the state database keeps it (SuspectMarkStore): plain JSON. */
export function markJson(mark: SuspectMark): Record<string, unknown> {
  return { ...mark, address: mark.address.text };
}

/**
 * A kept mark read back, or null when it does not read as one (a file from another version, or edited by
 * hand): its address is checked to be an IP address before it can unshield anything.
 */
export function markFromJson(value: unknown): SuspectMark | null {
  const parsed = markShape.safeParse(value);
  if (!parsed.success) return null;
  const address = parseIp(parsed.data.address);
  if (address === null) return null;
  const { evidence, ...counts } = parsed.data.failures;
  const { clearedAt, ...rest } = parsed.data;
  return {
    ...rest,
    ...(clearedAt === undefined ? {} : { clearedAt }),
    address,
    failures: {
      ...counts,
      // Written back without an absent lineNo, as Evidence has it (exactOptionalPropertyTypes).
      evidence: evidence.map(({ lineNo, ...e }) => (lineNo === undefined ? e : { ...e, lineNo })),
    },
  };
}
