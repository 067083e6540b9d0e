// Registrations inferred from log lines: a successful authentication keeps its address "registered" for a while.

import type { Offense } from "../domain/offense.js";
import type { Registry } from "./registry.js";

export interface SuccessRegistrationsConfig {
  /** How long one success keeps the address registered (event time). Default 1 h. */
  readonly lifetimeMs?: number;
  /** Registry source prefix; the filter name is appended (`log:asterisk`). Default `log`. */
  readonly sourcePrefix?: string;
}

export interface SuccessRegistrationsDeps {
  readonly registry: Pick<Registry, "upsert">;
}

export interface SuccessRegistrations {
  /** Feeds one offense; returns true when it was a success that is now stored. Failures are ignored. */
  handle(offense: Offense): boolean;
}

/** The account name kept when the filter captured none; the address is what matters for sparing. */
const ANONYMOUS = "(log)";

/**
 * For PBXs without an API configured. The address is the offense's, which our filters take only from
 * transport-level fields the PBX writes (e.g. SuccessfulAuth's RemoteAddress), never from SIP headers.
 * Expiry runs from event time, so replayed lines expire as they did live; a line older than the lifetime
 * stores nothing.
 */
export function createSuccessRegistrations(
  config: SuccessRegistrationsConfig,
  deps: SuccessRegistrationsDeps,
): SuccessRegistrations {
  const lifetimeMs = config.lifetimeMs ?? 3_600_000;
  const prefix = config.sourcePrefix ?? "log";
  return {
    handle(offense) {
      if (offense.kind !== "success") return false;
      return deps.registry.upsert({
        source: `${prefix}:${offense.filter}`,
        address: offense.address,
        user: offense.user && offense.user.trim() !== "" ? offense.user : ANONYMOUS,
        expiresAt: offense.time + lifetimeMs,
      });
    },
  };
}
