// Exponential restart delays with a ceiling, for sources that run a child program.

export interface BackoffPolicy {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
}

/** Delay before restart number `attempt` (1-based): initial, 2×, 4×, ... capped at the maximum. */
export function backoffDelay(attempt: number, policy: BackoffPolicy): number {
  const exp = Math.min(Math.max(attempt - 1, 0), 30);
  return Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** exp);
}
