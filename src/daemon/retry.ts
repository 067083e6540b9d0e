// Trying a request again when the other side could not take it for the moment (the webhook, AbuseIPDB):
// a few waits, then the last error, saying how often it was tried.

export interface RetryPolicy {
  /** The waits before the second, third, ... tries; their count bounds the tries. */
  readonly waitsMs: readonly number[];
  /** How long to wait before trying again after `e` (`planned`: the policy's wait), or null: `e` is final. */
  retryAfter(e: unknown, planned: number): number | null;
  sleep(ms: number): Promise<void>;
  /** True when the caller is going away: no further try (asked before and after each wait). */
  readonly stopped?: () => boolean;
  /** Told before each wait. */
  readonly onRetry?: (e: unknown, waitMs: number) => void;
}

/** `attempt`'s result, or its last error, its message ending `(after N tries)` when it was tried again. */
export async function withRetries<T>(attempt: () => Promise<T>, policy: RetryPolicy): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (e) {
      const planned = policy.waitsMs[tries - 1];
      const wait = planned === undefined || policy.stopped?.() ? null : policy.retryAfter(e, planned);
      if (wait !== null) {
        policy.onRetry?.(e, wait);
        await policy.sleep(wait);
        if (!policy.stopped?.()) continue;
      }
      if (tries > 1 && e instanceof Error) e.message = `${e.message} (after ${tries} tries)`;
      throw e;
    }
  }
}
