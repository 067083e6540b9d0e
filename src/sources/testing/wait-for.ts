// Test helper: polls a condition until it holds or a bounded time passes, so tests never sleep blindly.

export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  what = "condition",
  timeoutMs = 2000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Resolves after `ms`; only for proving that something does NOT happen within a short window. */
export function pause(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
