// Registrations in a replay, as the daemon keeps those it reads from the log: a successful login registers
// its address for `registrations.success_lifetime` from the line's time, a registered address's failures go
// to the registration policy (one phone's typos reported, not banned), and a registration after many failed
// logins is suspect (suspect-watch.ts) and shields nothing. So a replayed log gives the decisions the daemon
// gave tailing it. A provider's registrations (Kamailio, AMI, ESL) were never in the log and are not replayed.

import type { Config } from "../config/config.js";
import { createManualClock } from "../domain/clock.js";
import type { Decision } from "../domain/decision.js";
import type { Offense } from "../domain/offense.js";
import type { Detector } from "../detect/detector.js";
import type { RegistrationJudge, RegistrationView } from "../detect/registration-view.js";
import { createRegistrationPolicy } from "../registrations/registration-policy.js";
import { createRegistry } from "../registrations/registry.js";
import { createSuccessRegistrations } from "../registrations/success-registrations.js";
import { createSuspectWatch } from "./suspect-watch.js";

export interface ReplayRegistrations {
  /** What detection asks: the registry as bans see it (a suspect address is not registered). */
  readonly view: RegistrationView;
  readonly judge: RegistrationJudge;
  /**
   * The pipeline's `onOffense`: successes register, failures are remembered for the suspect rule, except
   * those the detector does not count either (its ban covers them: the daemon's firewall would have kept
   * them out of the log).
   */
  onOffense(jail: string, offense: Offense, line: object): void;
  /** With the detector's expiry, at the newest line's time. */
  expire(now: number): void;
  /** Suspect registrations found so far. */
  suspects(): number;
}

export interface ReplayRegistrationsDeps {
  /** The detector, once composed: `action: ban` bans through it. */
  readonly detector: () => Detector | undefined;
  /** Decisions the suspect rule took (its bans), handed out with the pipeline's. */
  readonly decided: (decisions: readonly Decision[]) => void;
}

export function createReplayRegistrations(
  config: Config,
  deps: ReplayRegistrationsDeps,
): ReplayRegistrations {
  // Registrations are dated by the clock: it is set to each success line's time before it registers.
  const clock = createManualClock(0);
  const quiet = { warn: () => undefined, error: () => undefined };
  const watch = createSuspectWatch(config.registrations.suspect, config.ipv6Prefix, {
    clock,
    log: quiet,
    tell: () => undefined,
    detection: () => {
      const detector = deps.detector();
      return detector === undefined ? undefined : { detector, jails: config.jails };
    },
    enforce: (decisions) => deps.decided(decisions),
  });
  const registry = createRegistry({ clock, onNew: (entry, held) => watch.onNew(entry, held) });
  const shielded = watch.shield(registry);
  const successes = createSuccessRegistrations(
    { lifetimeMs: config.registrations.successLifetimeMs },
    { registry },
  );
  return {
    view: shielded,
    judge: createRegistrationPolicy(
      { registeredMaxretry: config.registrations.registeredMaxretry },
      { registrations: shielded },
    ),
    onOffense(jail, offense, line) {
      if (offense.kind === "success") {
        clock.set(offense.time);
        successes.handle(offense);
      } else if (deps.detector()?.banned(jail, offense) !== true) watch.record(jail, offense, line);
    },
    expire(now) {
      registry.expire(now);
      watch.expire(now);
    },
    suspects: () => watch.stats().found,
  };
}
