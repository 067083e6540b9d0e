// The decision a manual ban records: every port, origin `manual`, for the asked length or the default.

import type { Decision } from "../domain/decision.js";
import type { ControlBan } from "./services.js";

/** `priorBans`: earlier bans of the target, as the caller counts them. */
export function manualBanDecision(
  { target, forMs, reason }: ControlBan,
  now: number,
  defaultBanMs: number,
  priorBans: number,
): Decision {
  const durationMs = forMs === undefined ? defaultBanMs : forMs;
  return {
    action: "ban",
    target: target.text,
    origin: "manual",
    reason: reason ?? "banned by hand",
    scope: { kind: "all" },
    at: now,
    durationMs: durationMs ?? 0,
    expiresAt: durationMs === null ? null : now + durationMs,
    priorBans,
    evidence: [],
  };
}
