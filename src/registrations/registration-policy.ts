// The rule for failures from a registered address: report one account's wrong password, ban only a flood.

import type { IpAddress } from "../domain/address.js";
import type { Evidence, Offense } from "../domain/offense.js";
import { forgetOldest } from "../domain/forget-oldest.js";

/** The part of the registry the policy asks; detection's `RegistrationView` has this shape. */
export interface RegistrationLookup {
  isRegistered(address: IpAddress, at: number): { readonly user?: string } | null;
}

/** The jail the failure belongs to: the policy counts per jail, with the jail's own findtime. */
export interface PolicyJail {
  readonly name: string;
  /** The jail's ordinary maxretry: one account reaching it is reported (spared), not banned. */
  readonly maxretry: number;
  readonly findtimeMs: number;
}

export interface RegistrationPolicyConfig {
  /**
   * `registered_maxretry`: failures from one registered address (all accounts together) within the jail's
   * findtime that ban the address anyway. High (default 50): a NAT'd office is not cut off by one phone.
   */
  readonly registeredMaxretry: number;
  /** Evidence lines kept per window (newest win). Default 20. */
  readonly evidenceCap?: number;
  /** Addresses tracked at most per jail; past it the oldest tenth is forgotten. Default 50 000. */
  readonly maxAddresses?: number;
}

export interface RegistrationPolicyDeps {
  readonly registrations: RegistrationLookup;
}

/** What the detector should do with one failure. */
export type RegistrationVerdict =
  /** No live registration: the jail's ordinary counting applies. */
  | { readonly kind: "unregistered" }
  /** Registered; counted on its own, nothing to emit yet. Do not add it to the jail window. */
  | {
      readonly kind: "counted";
      readonly registeredUser?: string;
      readonly account: string;
      readonly accountFailures: number;
      readonly addressFailures: number;
    }
  /**
   * Registered; this account reached the jail's maxretry. Emit a `spare` decision (a report: which phone
   * behind the address keeps failing). The account window restarts.
   */
  | {
      readonly kind: "spare";
      readonly registeredUser?: string;
      readonly account: string;
      readonly accountFailures: number;
      readonly addressFailures: number;
      readonly reason: string;
      readonly evidence: readonly Evidence[];
    }
  /**
   * Registered, but `registered_maxretry` failures within findtime: ban through the ordinary path (allowlist
   * first, escalation, recidive). The address windows restart.
   */
  | {
      readonly kind: "ban";
      readonly registeredUser?: string;
      readonly addressFailures: number;
      readonly distinctAccounts: number;
      readonly reason: string;
      readonly evidence: readonly Evidence[];
    };

export interface RegistrationPolicy {
  /** Judges one failure of `jail`; successes are `unregistered` (they feed the registry elsewhere). */
  judge(jail: PolicyJail, offense: Offense): RegistrationVerdict;
  /** Drops failures older than their jail's findtime before `now`. */
  expire(now: number): void;
  size(): { readonly addresses: number; readonly failures: number };
}

/** The account name used when a filter captured none: all such failures of an address count together. */
export const UNKNOWN_ACCOUNT = "(unknown)";

interface Window {
  times: number[];
  evidence: Evidence[];
}

interface AddressState {
  readonly findtimeMs: number;
  readonly all: Window;
  readonly accounts: Map<string, Window>;
}

/**
 * Pure over event time: no clock, no timers; the same offenses give the same verdicts, so replays agree
 * with live runs. Counting is a sliding window per (jail, address) and per (jail, address, account), inclusive
 * at `newest - findtime` like the jail windows. Memory: at most `registeredMaxretry` times per address
 * window (reaching it empties the window) and `evidenceCap` evidence lines per window.
 */
export function createRegistrationPolicy(
  config: RegistrationPolicyConfig,
  deps: RegistrationPolicyDeps,
): RegistrationPolicy {
  if (!Number.isInteger(config.registeredMaxretry) || config.registeredMaxretry < 1)
    throw new Error("registration policy: registered_maxretry must be an integer ≥ 1");
  const evidenceCap = config.evidenceCap ?? 20;
  const maxAddresses = config.maxAddresses ?? 50_000;
  const jails = new Map<string, Map<string, AddressState>>();

  function judge(jail: PolicyJail, offense: Offense): RegistrationVerdict {
    if (offense.kind !== "failure") return { kind: "unregistered" };
    const registration = deps.registrations.isRegistered(offense.address, offense.time);
    if (!registration) return { kind: "unregistered" };
    const registeredUser = registration.user;
    const account = accountOf(offense.user);

    let byAddress = jails.get(jail.name);
    if (!byAddress) jails.set(jail.name, (byAddress = new Map()));
    const key = offense.address.text;
    let state = byAddress.get(key);
    if (!state) {
      if (byAddress.size >= maxAddresses) forgetOldest(byAddress, maxAddresses);
      state = { findtimeMs: jail.findtimeMs, all: newWindow(), accounts: new Map() };
      byAddress.set(key, state);
    }
    let accountWindow = state.accounts.get(account);
    if (!accountWindow) state.accounts.set(account, (accountWindow = newWindow()));

    const evidence =
      offense.evidence.time === offense.time ? offense.evidence : { ...offense.evidence, time: offense.time };
    const addressFailures = push(state.all, offense.time, evidence, jail.findtimeMs, evidenceCap);
    const accountFailures = push(accountWindow, offense.time, evidence, jail.findtimeMs, evidenceCap);
    const named = registeredUser === undefined ? {} : { registeredUser };

    if (addressFailures >= config.registeredMaxretry) {
      const distinctAccounts = [...state.accounts.values()].filter((w) => w.times.length > 0).length;
      const out: RegistrationVerdict = {
        kind: "ban",
        ...named,
        addressFailures,
        distinctAccounts,
        reason:
          `${addressFailures} failures in ${seconds(jail.findtimeMs)} from an address with a live registration ` +
          `reached registered_maxretry ${config.registeredMaxretry} (${distinctAccounts} account(s) failing)`,
        evidence: [...state.all.evidence],
      };
      byAddress.delete(key);
      return out;
    }
    if (accountFailures >= jail.maxretry) {
      const out: RegistrationVerdict = {
        kind: "spare",
        ...named,
        account,
        accountFailures,
        addressFailures,
        reason:
          `live registration${registeredUser === undefined ? "" : ` (user ${registeredUser})`}: ` +
          `account ${account} failed ${accountFailures} times in ${seconds(jail.findtimeMs)}; ` +
          `the address is banned only after ${config.registeredMaxretry} failures`,
        evidence: [...accountWindow.evidence],
      };
      state.accounts.delete(account);
      return out;
    }
    return { kind: "counted", ...named, account, accountFailures, addressFailures };
  }

  function expire(now: number): void {
    for (const [jailName, byAddress] of jails) {
      for (const [key, state] of byAddress) {
        const cutoff = now - state.findtimeMs;
        trim(state.all, cutoff);
        for (const [account, w] of state.accounts) {
          trim(w, cutoff);
          if (w.times.length === 0) state.accounts.delete(account);
        }
        if (state.all.times.length === 0) byAddress.delete(key);
      }
      if (byAddress.size === 0) jails.delete(jailName);
    }
  }

  function size(): { addresses: number; failures: number } {
    let addresses = 0;
    let failures = 0;
    for (const byAddress of jails.values()) {
      addresses += byAddress.size;
      for (const s of byAddress.values()) failures += s.all.times.length;
    }
    return { addresses, failures };
  }

  return { judge, expire, size };
}

function newWindow(): Window {
  return { times: [], evidence: [] };
}

/** Inserts in time order, drops what fell out of findtime, returns the count held. */
function push(w: Window, time: number, evidence: Evidence, findtimeMs: number, evidenceCap: number): number {
  let at = w.times.length;
  while (at > 0 && (w.times[at - 1] as number) > time) at--;
  w.times.splice(at, 0, time);
  const newest = w.times[w.times.length - 1] as number;
  trim(w, newest - findtimeMs);
  w.evidence.push(evidence);
  w.evidence.sort((a, b) => a.time - b.time);
  while (
    w.evidence.length > evidenceCap ||
    (w.evidence.length > 0 && (w.evidence[0] as Evidence).time < newest - findtimeMs)
  )
    w.evidence.shift();
  return w.times.length;
}

function trim(w: Window, cutoff: number): void {
  let stale = 0;
  while (stale < w.times.length && (w.times[stale] as number) < cutoff) stale++;
  if (stale > 0) w.times.splice(0, stale);
  while (w.evidence.length > 0 && (w.evidence[0] as Evidence).time < cutoff) w.evidence.shift();
}

/** Accounts compare case-insensitively and without the domain: `1001@pbx.example` is `1001`. */
function accountOf(user: string | undefined): string {
  const u = user?.trim().toLowerCase() ?? "";
  const bare = u.includes("@") ? u.slice(0, u.indexOf("@")) : u;
  return bare === "" ? UNKNOWN_ACCOUNT : bare.slice(0, 128);
}

function seconds(ms: number): string {
  return `${Math.round(ms / 1000)}s`;
}
