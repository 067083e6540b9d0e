// The detection core: offenses in, ban or spare decisions out, computed from event time alone.

import { parseCidr, type Cidr, type IpAddress } from "../domain/address.js";
import type { BanScope, Decision } from "../domain/decision.js";
import type { Evidence, Offense } from "../domain/offense.js";
import type { Allowlist } from "./allowlist.js";
import { createBanLedger, type BanLedger } from "./ban-ledger.js";
import { computeBanDuration } from "./ban-duration.js";
import { describeFailures, describeRecidive, describeSpare } from "./decision-reason.js";
import { capEvidence } from "./evidence-cap.js";
import { createFailureWindow, type FailureWindow } from "./failure-window.js";
import { RECIDIVE_JAIL, type DetectorSpec, type JailSpec } from "./jail-spec.js";
import type { RegistrationJudge, RegistrationVerdictView, RegistrationView } from "./registration-view.js";

export interface DetectorDeps {
  /** What detection asks of the allowlist: an address's entry, a network's. */
  readonly allowlist: Pick<Allowlist, "match" | "overlapping">;
  readonly registrations?: RegistrationView;
  /** When set, failures from registered addresses are judged by it rather than counted in the jail. */
  readonly registrationJudge?: RegistrationJudge;
}

/** A ban remembered from before a restart (the store's ban history), so escalation and recidive go on. */
export interface RememberedBan {
  readonly target: string;
  /** `jail:<name>` origins count; others (manual, feeds) only matter as all-port covers. */
  readonly jail: string;
  readonly at: number;
  readonly expiresAt: number | null;
  readonly allPorts: boolean;
  readonly lastEvidence?: Evidence;
}

export interface DetectorStats {
  /** Offenses handled, by what became of them. */
  readonly offenses: {
    readonly total: number;
    /** Successes are not counted toward bans (they feed registrations elsewhere). */
    readonly successes: number;
    /** Older than findtime before the address's newest failure: could not count. */
    readonly late: number;
    /** Arrived while the address was already banned for that jail (log lag): no duplicate ban. */
    readonly whileBanned: number;
  };
  readonly decisions: { readonly bans: number; readonly spares: number; readonly recidiveBans: number };
  /** Current memory: addresses and failures held in jail windows, and bans remembered. */
  readonly tracked: {
    readonly addresses: number;
    readonly failures: number;
    /** IPv6 networks whose failures are held besides their addresses' (`ipv6Prefix`). */
    readonly networks: number;
    readonly bannedAddresses: number;
    readonly bans: number;
  };
  /** Per jail: addresses and failures inside its find window now. */
  readonly jails: readonly { readonly name: string; readonly addresses: number; readonly failures: number }[];
}

export interface Detector {
  /**
   * Feeds one offense of `jail` (a configured jail name; unknown names are a wiring bug and throw).
   * Returns the decisions it causes, usually none; at most a jail decision followed by a recidive ban.
   */
  handle(jail: string, offense: Offense): readonly Decision[];
  /**
   * Drops state that no rule can use any more at `now`: failures older than their findtime, bans both
   * expired and older than the escalation/recidive memory. Call it periodically to bound memory. It only
   * changes later results for offenses arriving more than findtime late, or after their ban expired.
   */
  expire(now: number): void;
  stats(): DetectorStats;
  /**
   * Whether a ban of `jail` covers the offense's address (or its IPv6 network) at its time: `handle` does not
   * count such a failure (log lag, or a replayed log's lines the ban would have kept out), nor should others.
   */
  banned(jail: string, offense: Offense): boolean;
  /**
   * Bans `address` for `jail` on a finding made outside the jail's window (a registration after many failed
   * logins from the address): the jail's scope and bantime, escalation and recidive as for its other bans;
   * an allowlisted address is spared, and one the jail has banned already gets nothing.
   */
  banFor(
    jail: string,
    address: IpAddress,
    at: number,
    reason: string,
    evidence: readonly Evidence[],
  ): readonly Decision[];
  /** Reloads bans taken before a restart; call once before the first `handle`. */
  restore(bans: readonly RememberedBan[]): void;
}

interface Jail {
  readonly spec: JailSpec;
  readonly window: FailureWindow;
  /** The same failures counted per IPv6 network (`ipv6Prefix`), keyed by the network's text. */
  readonly networks: FailureWindow;
}

const ALL_PORTS: BanScope = { kind: "all" };

/**
 * Pure over its inputs: no clock, no randomness, Map iteration in insertion order. The same sequence of
 * `handle`/`expire` calls always yields the same decisions, which is what makes replays match live runs.
 */
export function createDetector(spec: DetectorSpec, deps: DetectorDeps): Detector {
  checkSpec(spec);
  const jails = new Map<string, Jail>(
    spec.jails.map(
      (j) => [j.name, { spec: j, window: createFailureWindow(j), networks: createFailureWindow(j) }] as const,
    ),
  );
  const v6Prefix = spec.ipv6Prefix ?? 128;
  /** The network an IPv6 address counts in besides itself, or null (IPv4, or networks off). */
  const networkOf = (address: IpAddress): Cidr | null =>
    address.family === 6 && v6Prefix < 128 ? parseCidr(`${address.text}/${v6Prefix}`) : null;
  const memoryMs = Math.max(spec.escalation.memoryMs, spec.recidive.enabled ? spec.recidive.findtimeMs : 0);
  const ledger: BanLedger = createBanLedger(memoryMs);
  const counts = { total: 0, successes: 0, late: 0, whileBanned: 0, bans: 0, spares: 0, recidiveBans: 0 };

  /** `banned`'s last answer: asked just before `handle` for the same offense, it is not looked up twice. */
  const asked: { offense: Offense | null; jail: string; banned: boolean } = {
    offense: null,
    jail: "",
    banned: false,
  };

  function coveredByBan(jailName: string, address: string, network: Cidr | null, time: number): boolean {
    return (
      ledger.coveringBan(address, jailName, time) !== null ||
      (network !== null && ledger.coveringBan(network.text, jailName, time) !== null)
    );
  }

  function handle(jailName: string, offense: Offense): readonly Decision[] {
    const jail = jails.get(jailName);
    if (!jail) throw new Error(`detector: no jail named "${jailName}"`);
    counts.total++;
    if (offense.kind !== "failure") {
      counts.successes++;
      return [];
    }
    const address = offense.address.text;
    const time = offense.time;
    const network = networkOf(offense.address);
    // Checked before counting: failures seen while banned are log lag, not a new attack.
    const covered =
      offense === asked.offense && jailName === asked.jail
        ? asked.banned
        : coveredByBan(jailName, address, network, time);
    asked.offense = null;
    if (covered) {
      counts.whileBanned++;
      return [];
    }
    const verdict = deps.registrationJudge?.judge(jail.spec, offense);
    if (verdict && verdict.kind !== "unregistered") return judged(jail.spec, offense, verdict);
    const result = jail.window.add(address, time, offense.evidence);
    if (result.status === "late") counts.late++;
    // The address on its own first: a network is banned only for failures spread over its addresses.
    const spread = network === null ? null : jail.networks.add(network.text, time, offense.evidence);
    if (result.status !== "full")
      return spread?.status === "full" ? networkDecision(jail, network as Cidr, spread.evidence) : [];
    if (network !== null) jail.networks.clear(network.text);

    const { spec: js } = jail;
    const evidence = capEvidence(result.evidence);
    const newest = result.evidence[result.evidence.length - 1];
    // The newest counted failure, not the triggering one: with a late line they differ, and a decision
    // must not be dated before a failure it counts.
    const at = newest ? newest.time : time;
    const priorBans = ledger.bansWithin(address, at, spec.escalation.memoryMs).length;

    const spared = protection(offense.address, at);
    if (spared) {
      const wouldBe = describeFailures(result.evidence.length, js.findtimeMs, js.filter);
      return spareOf(js, address, at, priorBans, describeSpare(spared, wouldBe), evidence);
    }

    const reason = describeFailures(result.evidence.length, js.findtimeMs, js.filter, newest);
    return banOf(js, address, at, priorBans, reason, evidence, newest);
  }

  /**
   * Several addresses of one IPv6 network reached the jail's maxretry together: the network is banned, unless
   * it holds an allowlisted or registered address (then it is a spare, and each address still counts alone).
   */
  function networkDecision(jail: Jail, network: Cidr, counted: readonly Evidence[]): readonly Decision[] {
    const js = jail.spec;
    const evidence = capEvidence(counted);
    const newest = counted[counted.length - 1];
    const at = newest ? newest.time : 0;
    const priorBans = ledger.bansWithin(network.text, at, spec.escalation.memoryMs).length;
    const head = describeFailures(counted.length, js.findtimeMs, js.filter, undefined, network.text);
    const allowed = deps.allowlist.overlapping(network);
    const registered = allowed ? null : deps.registrations?.registeredIn(network, at);
    if (allowed || registered) {
      const why = allowed
        ? `the network holds allowlisted ${allowed.entry} (${allowed.detail})`
        : `the network holds ${registered?.address}, with a live registration${registered?.user ? ` (user ${registered.user})` : ""}`;
      return spareOf(js, network.text, at, priorBans, describeSpare(why, head), evidence);
    }
    const reason = describeFailures(counted.length, js.findtimeMs, js.filter, newest, network.text);
    return banOf(js, network.text, at, priorBans, reason, evidence, newest);
  }

  /** Counts and returns a jail spare: the ban an allowlist entry or a registration kept from happening. */
  function spareOf(
    js: JailSpec,
    target: string,
    at: number,
    priorBans: number,
    reason: string,
    evidence: readonly Evidence[],
  ): readonly Decision[] {
    counts.spares++;
    return [
      {
        action: "spare",
        target,
        origin: `jail:${js.name}`,
        reason,
        scope: js.scope,
        at,
        durationMs: 0,
        expiresAt: at,
        priorBans,
        evidence,
      },
    ];
  }

  /** Records and returns a jail ban (escalated), followed by a recidive ban when that is due. */
  function banOf(
    js: JailSpec,
    target: string,
    at: number,
    priorBans: number,
    reason: string,
    evidence: readonly Evidence[],
    newest: Evidence | undefined,
  ): readonly Decision[] {
    const durationMs = computeBanDuration(js.bantimeMs, priorBans, spec.escalation);
    const ban: Decision = {
      action: "ban",
      target,
      origin: `jail:${js.name}`,
      reason,
      scope: js.scope,
      at,
      // Permanent bans say so with expiresAt null; durationMs 0 keeps the value JSON-safe.
      durationMs: durationMs ?? 0,
      expiresAt: durationMs === null ? null : at + durationMs,
      priorBans,
      evidence,
    };
    ledger.record(target, {
      jail: js.name,
      at,
      expiresAt: ban.expiresAt,
      allPorts: js.scope.kind === "all",
      lastEvidence: newest,
    });
    counts.bans++;
    const recidive = checkRecidive(target, at, priorBans + 1);
    return recidive ? [ban, recidive] : [ban];
  }

  /** A failure from a registered address, as the registration judge saw it. */
  function judged(
    js: JailSpec,
    offense: Offense,
    verdict: Exclude<RegistrationVerdictView, { kind: "unregistered" }>,
  ): readonly Decision[] {
    if (verdict.kind === "counted") return [];
    const at = offense.time;
    const evidence = capEvidence(verdict.evidence);
    const priorBans = ledger.bansWithin(offense.address.text, at, spec.escalation.memoryMs).length;
    const allowed = deps.allowlist.match(offense.address);
    if (verdict.kind === "spare" || allowed) {
      const reason = allowed
        ? describeSpare(`allowlisted by ${allowed.entry} (${allowed.detail})`, verdict.reason)
        : verdict.reason;
      return spareOf(js, offense.address.text, at, priorBans, reason, evidence);
    }
    return banOf(
      js,
      offense.address.text,
      at,
      priorBans,
      verdict.reason,
      evidence,
      evidence[evidence.length - 1],
    );
  }

  function restore(bans: readonly RememberedBan[]): void {
    for (const b of bans)
      ledger.record(b.target, {
        jail: b.jail,
        at: b.at,
        expiresAt: b.expiresAt,
        allPorts: b.allPorts,
        lastEvidence: b.lastEvidence,
      });
  }

  function banFor(
    jailName: string,
    address: IpAddress,
    at: number,
    reason: string,
    evidence: readonly Evidence[],
  ): readonly Decision[] {
    const jail = jails.get(jailName);
    if (!jail) throw new Error(`detector: no jail named "${jailName}"`);
    if (ledger.coveringBan(address.text, jailName, at)) return [];
    const js = jail.spec;
    const kept = capEvidence(evidence);
    const priorBans = ledger.bansWithin(address.text, at, spec.escalation.memoryMs).length;
    const allowed = deps.allowlist.match(address);
    if (allowed)
      return spareOf(
        js,
        address.text,
        at,
        priorBans,
        describeSpare(`allowlisted by ${allowed.entry} (${allowed.detail})`, reason),
        kept,
      );
    jail.window.clear(address.text);
    return banOf(js, address.text, at, priorBans, reason, kept, kept[kept.length - 1]);
  }

  /** The reason an address must not be banned at `time`, or null. Allowlist first: it is the admin's word. */
  function protection(address: IpAddress, time: number): string | null {
    const allowed = deps.allowlist.match(address);
    if (allowed) return `allowlisted by ${allowed.entry} (${allowed.detail})`;
    const registered = deps.registrations?.isRegistered(address, time);
    if (registered)
      return registered.user ? `live registration (user ${registered.user})` : "live registration";
    return null;
  }

  /**
   * Counts jail bans (not recidive ones) since the later of `time - findtime` and the last recidive ban,
   * so one recidive ban is not re-triggered by the same jail bans once it expires.
   */
  function checkRecidive(key: string, time: number, priorBans: number): Decision | null {
    const rs = spec.recidive;
    if (!rs.enabled) return null;
    const lastRecidive = ledger
      .bansWithin(key, time, rs.findtimeMs, (j) => j === RECIDIVE_JAIL)
      .reduce((latest, b) => Math.max(latest, b.at), -Infinity);
    const bans = ledger
      .bansWithin(key, time, rs.findtimeMs, (j) => j !== RECIDIVE_JAIL)
      .filter((b) => b.at > lastRecidive);
    if (bans.length < rs.maxretry) return null;
    const evidence = capEvidence(bans.flatMap((b) => (b.lastEvidence ? [b.lastEvidence] : [])));
    const expiresAt = rs.bantimeMs === null ? null : time + rs.bantimeMs;
    ledger.record(key, { jail: RECIDIVE_JAIL, at: time, expiresAt, allPorts: true, lastEvidence: undefined });
    counts.recidiveBans++;
    return {
      action: "ban",
      target: key,
      origin: `jail:${RECIDIVE_JAIL}`,
      reason: describeRecidive(
        bans.length,
        rs.findtimeMs,
        bans.map((b) => b.jail),
      ),
      scope: ALL_PORTS,
      at: time,
      durationMs: rs.bantimeMs ?? 0,
      expiresAt,
      priorBans,
      evidence,
    };
  }

  function expire(now: number): void {
    for (const jail of jails.values()) {
      jail.window.expire(now);
      jail.networks.expire(now);
    }
    ledger.expire(now);
    deps.registrationJudge?.expire(now);
  }

  function stats(): DetectorStats {
    let addresses = 0;
    let failures = 0;
    const perJail: { name: string; addresses: number; failures: number }[] = [];
    for (const jail of jails.values()) {
      const size = jail.window.size();
      addresses += size.addresses;
      failures += size.failures;
      perJail.push({ name: jail.spec.name, ...size });
    }
    const remembered = ledger.size();
    return {
      offenses: {
        total: counts.total,
        successes: counts.successes,
        late: counts.late,
        whileBanned: counts.whileBanned,
      },
      decisions: { bans: counts.bans, spares: counts.spares, recidiveBans: counts.recidiveBans },
      tracked: {
        addresses,
        failures,
        networks: [...jails.values()].reduce((n, j) => n + j.networks.size().addresses, 0),
        bannedAddresses: remembered.addresses,
        bans: remembered.bans,
      },
      jails: perJail,
    };
  }

  return {
    handle,
    expire,
    stats,
    restore,
    banFor,
    banned(jail, offense) {
      asked.offense = offense;
      asked.jail = jail;
      asked.banned = coveredByBan(jail, offense.address.text, networkOf(offense.address), offense.time);
      return asked.banned;
    },
  };
}

/** Invariants the config layer should already enforce; a violation here is a bug, so a plain Error. */
function checkSpec(spec: DetectorSpec): void {
  const seen = new Set<string>();
  for (const j of spec.jails) {
    if (seen.has(j.name)) throw new Error(`detector: duplicate jail "${j.name}"`);
    seen.add(j.name);
    if (spec.recidive.enabled && j.name === RECIDIVE_JAIL) {
      throw new Error(`detector: jail name "${RECIDIVE_JAIL}" is reserved while recidive is enabled`);
    }
    if (!Number.isInteger(j.maxretry) || j.maxretry < 1)
      throw new Error(`detector: jail "${j.name}": maxretry < 1`);
    if (!(j.findtimeMs >= 0)) throw new Error(`detector: jail "${j.name}": negative findtime`);
  }
  if (spec.recidive.enabled && !(spec.recidive.maxretry >= 1))
    throw new Error("detector: recidive maxretry < 1");
}
