// The daemon's side of suspect registrations (registrations/suspect-registrations.ts): failures recorded as
// jails match them, every new binding judged, and a suspect one told, logged and, with `action: ban`, banned
// by the jail of the newest failure. Marks are kept in the state database while in force, so neither a restart
// nor a reload that rebuilds the rule (a changed `registrations.suspect`) shields their addresses again.

import type { Config } from "../config/config.js";
import { parseCidr, type IpAddress } from "../domain/address.js";
import type { Clock } from "../domain/clock.js";
import type { Decision } from "../domain/decision.js";
import type { Detector } from "../detect/detector.js";
import { formatDuration } from "../domain/duration.js";
import { createIsoFormatter } from "../domain/iso-time.js";
import type { Offense } from "../domain/offense.js";
import type { RegistrationEntry } from "../domain/registration.js";
import type { SuspectMarkStore } from "../store/decision-store.js";
import { describeSuspectRegistration, quoteLineTail } from "../detect/decision-reason.js";
import { createFailureMemory, type FailureMemory } from "../registrations/failure-memory.js";
import type { Registry } from "../registrations/registry.js";
import {
  createSuspectRegistrations,
  markFromJson,
  markJson,
  shieldRegistry,
  SPRAY_ACCOUNTS,
  type SuspectMark,
  type SuspectRegistrations,
} from "../registrations/suspect-registrations.js";

type SuspectConfig = Config["registrations"]["suspect"];

export interface SuspectWatchDeps {
  readonly clock: Clock;
  readonly log: {
    warn(fields: Record<string, unknown>, message: string): void;
    error(fields: Record<string, unknown>, message: string): void;
  };
  /** Where marks are kept while in force (the state database); none: they last as long as the process. */
  readonly marks?: SuspectMarkStore;
  /** Tells a suspect registration (notify's `suspect` topic). */
  readonly tell: (text: string) => void;
  /**
   * The detector in use and the jails configured now, or undefined before detection starts (a provider's
   * first dump): `action: ban` bans through the jail of the newest failure, unless a reload removed it.
   */
  readonly detection: () =>
    { readonly detector: Detector; readonly jails: readonly { readonly name: string }[] } | undefined;
  readonly enforce: (decisions: readonly Decision[]) => void;
}

export interface SuspectWatch {
  /** The registry's `onNew`. */
  onNew(entry: RegistrationEntry, heldBefore: number | null): void;
  /** The pipeline's `onOffense`: failures are remembered, a line matched by two jails once. */
  record(jail: string, offense: Offense, from: object): void;
  /**
   * `registry` as bans see it: a suspect address is not registered. Also what a new IPv6 binding's network
   * is asked about (another binding there, live or lapsed within the lookback, makes it a known customer's).
   */
  shield(registry: Registry): Registry;
  /**
   * After a reload: a new `registrations.suspect` or `ipv6_prefix` starts the failures afresh (the marks are
   * kept).
   */
  configure(config: SuspectConfig, ipv6Prefix: number): void;
  /** The mark on an address now, or null. */
  markOf(address: string): SuspectMark | null;
  /** The latest mark on an address, in force or over (kept for the store's retention), or null. */
  lastMark(address: string): SuspectMark | null;
  /** Ends the mark in force on an address (an admin's word): returns it as ended, or null for none. */
  clear(address: string): SuspectMark | null;
  /**
   * The suspect registrations kept (in force, over or cleared; the store keeps them for the retention), the
   * newest first, at most `limit`; without a store, those in force.
   */
  recent(limit: number): readonly SuspectMark[];
  /** Suspect registrations found since start, and those whose address is unshielded now. */
  stats(): { readonly found: number; readonly marked: readonly SuspectMark[] };
  expire(now: number): void;
}

export function createSuspectWatch(
  initial: SuspectConfig,
  initialPrefix: number,
  deps: SuspectWatchDeps,
): SuspectWatch {
  const iso = createIsoFormatter();
  let config = initial;
  let ipv6Prefix = initialPrefix;
  let found = 0;
  let memory: FailureMemory | null = null;
  let suspects: SuspectRegistrations | null = null;
  let shielded: Registry | null = null;

  /**
   * Another binding, not a suspect one, in the IPv6 network `address`'s failures are held under, live or
   * lapsed within the lookback: the network is a known customer's, as an address that held one is.
   */
  const neighbour = (address: IpAddress, at: number): boolean => {
    if (address.family !== 6 || ipv6Prefix >= 128 || shielded === null || config === null) return false;
    const network = parseCidr(`${address.text}/${ipv6Prefix}`);
    const lookback = config.lookbackMs;
    return network !== null && shielded.heldIn(network, at - lookback, at, (a) => a === address.text);
  };

  const build = (c: SuspectConfig): void => {
    config = c;
    memory =
      c === null ? null : createFailureMemory({ keep: c.failures, lookbackMs: c.lookbackMs, ipv6Prefix });
    suspects = c === null || memory === null ? null : createSuspectRegistrations(c, { memory, neighbour });
    if (suspects !== null)
      suspects.restore(read(deps.marks?.inForce(deps.clock.now()) ?? []), deps.clock.now());
  };

  /** Kept marks that read as marks; the others are left out, and said. */
  const read = (kept: readonly { readonly mark: Readonly<Record<string, unknown>> }[]): SuspectMark[] => {
    const marks = kept.map((k) => markFromJson(k.mark)).filter((m): m is SuspectMark => m !== null);
    if (marks.length < kept.length)
      deps.log.warn(
        { unreadable: kept.length - marks.length },
        "suspect registration marks in the state database that do not read as marks were left out",
      );
    return marks;
  };
  build(initial);

  /** Keeps a mark (new, or ended) in the store; a failing disk is logged, and the daemon goes on. */
  const keep = (mark: SuspectMark): void => {
    try {
      deps.marks?.save(mark.address.text, mark.until, markJson(mark));
    } catch (e) {
      deps.log.error(
        { address: mark.address.text, err: e instanceof Error ? e.message : String(e) },
        "could not keep a suspect registration's mark in the state database",
      );
    }
  };

  /** The jail's ban (its `banFor`), or null when there is no such jail (now) to ban with. */
  const banFor = (jail: string, mark: SuspectMark, reason: string): readonly Decision[] | null => {
    const d = deps.detection();
    if (d === undefined || !d.jails.some((j) => j.name === jail)) return null;
    return d.detector.banFor(jail, mark.address, mark.at, reason, mark.failures.evidence);
  };

  const onSuspect = (mark: SuspectMark, c: NonNullable<SuspectConfig>): void => {
    found++;
    // In memory it holds even when the store fails, until a restart.
    keep(mark);
    const f = mark.failures;
    const reason = describeSuspectRegistration(mark.user, f.count, c.lookbackMs, f.accounts);
    const banned = c.action === "ban" ? banFor(f.jail, mark, reason) : null;
    if (banned !== null && banned.length > 0) deps.enforce(banned);
    const outcome =
      banned === null
        ? c.action === "ban"
          ? `; not banned: jail ${f.jail} is no longer configured`
          : ""
        : banned.length === 0
          ? `; already banned by jail ${f.jail}`
          : banned[0]?.action === "ban"
            ? `; banned by jail ${f.jail}`
            : "; not banned: allowlisted";
    deps.log.warn(
      {
        address: mark.address.text,
        user: mark.user,
        source: mark.source,
        failures: f.count,
        accounts: f.accounts,
        jail: f.jail,
        action: c.action,
      },
      "a registration after many failed logins from its address: a guessed password? Its address is not shielded from bans",
    );
    deps.tell(
      `${mark.address.text} (${mark.source}) ${reason} Not shielded from bans until ${iso(mark.until)}${outcome}`,
    );
  };

  return {
    onNew(entry, heldBefore) {
      const c = config;
      const mark = suspects?.judge(entry, heldBefore) ?? null;
      if (mark !== null && c !== null) onSuspect(mark, c);
    },
    record: (jail, offense, from) => memory?.record(jail, offense, from),
    shield(registry) {
      shielded = shieldRegistry(registry, (address, at) => suspects?.markOf(address, at) != null);
      return shielded;
    },
    configure(c, prefix) {
      // Only what the memory and the rule are built on starts them afresh; the action is read at each finding.
      const same =
        c?.failures === config?.failures && c?.lookbackMs === config?.lookbackMs && prefix === ipv6Prefix;
      ipv6Prefix = prefix;
      if (same) config = c;
      else build(c);
    },
    markOf: (address) => suspects?.markOf(address, deps.clock.now()) ?? null,
    lastMark(address) {
      const live = suspects?.markOf(address, deps.clock.now()) ?? null;
      if (live !== null) return live;
      const kept = deps.marks?.latest(address);
      return kept === undefined ? null : markFromJson(kept);
    },
    clear(address) {
      const cleared = suspects?.clear(address, deps.clock.now()) ?? null;
      if (cleared === null) return null;
      keep(cleared);
      // Whoever was told of the mark hears that it ended, and why.
      deps.tell(
        `${cleared.address.text} (${cleared.source}): the suspect registration as "${quoteLineTail(cleared.user, 32)}" was cleared by hand; the address is shielded from bans again`,
      );
      return cleared;
    },
    recent(limit) {
      if (deps.marks === undefined) return (suspects?.list(deps.clock.now()) ?? []).slice(0, limit);
      return read(deps.marks.recent(limit));
    },
    stats: () => ({ found, marked: suspects?.list(deps.clock.now()) ?? [] }),
    expire(now) {
      suspects?.expire(now);
      memory?.expire(now);
    },
  };
}

/** How check describes the setting: "a registration after 10 failed logins from its address within 1d: …". */
export function suspectSettingText(c: SuspectConfig): string {
  if (c === null) return "off";
  const d = formatDuration(c.lookbackMs);
  const then =
    c.action === "ban"
      ? "told, and banned by the jail of its failures"
      : `told, and not shielded from bans for ${d}`;
  return `a registration after ${c.failures} failed logins on its account (or on ${SPRAY_ACCOUNTS} others) from its address within ${d}: ${then}`;
}
