// What detection is told to do: the jails, how bans escalate for repeat offenders, and the recidive jail.

import type { BanScope } from "../domain/decision.js";

/** One jail: ban an address that fails `maxretry` times within `findtimeMs` (event time). */
export interface JailSpec {
  /** Unique; decisions carry origin `jail:<name>`. `recidive` is reserved for the built-in recidive jail. */
  readonly name: string;
  /** Name of the filter feeding this jail; used in reasons ("5 failures in 10m (asterisk)"). */
  readonly filter: string;
  /** Failures that trigger a ban; at least 1. */
  readonly maxretry: number;
  /** Sliding window length; a failure counts while `time >= newest - findtimeMs` (inclusive, as fail2ban). */
  readonly findtimeMs: number;
  /** Base ban length; null means permanent. */
  readonly bantimeMs: number | null;
  readonly scope: BanScope;
}

/** Longer bans for addresses banned before, over all jails. Never changes any threshold. */
export interface EscalationSpec {
  readonly enabled: boolean;
  /** Ban n lasts `bantime × factor^n`, n = prior bans remembered; e.g. 2. */
  readonly factor: number;
  /** Upper bound for an escalated ban; a base bantime above it is not shortened. */
  readonly maxBantimeMs: number;
  /** How long a past ban is remembered for escalation (e.g. 30 days). */
  readonly memoryMs: number;
}

/** The built-in recidive jail: bans, not failures, are counted; its ban always covers all ports. */
export interface RecidiveSpec {
  readonly enabled: boolean;
  /** Jail bans (any jail) within `findtimeMs` that trigger a recidive ban. */
  readonly maxretry: number;
  readonly findtimeMs: number;
  /** null means permanent. */
  readonly bantimeMs: number | null;
}

export interface DetectorSpec {
  readonly jails: readonly JailSpec[];
  /**
   * IPv6 failures also count per network of this prefix length (an attacker's /64 hands out addresses
   * freely): when several addresses of one network reach a jail's maxretry together, the network is banned.
   * Absent or 128: per address only.
   */
  readonly ipv6Prefix?: number;
  readonly escalation: EscalationSpec;
  readonly recidive: RecidiveSpec;
}

/** The origin name the recidive jail uses; no configured jail may take it while recidive is enabled. */
export const RECIDIVE_JAIL = "recidive";
