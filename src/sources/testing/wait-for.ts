// Test helper: polls a condition until it holds or a bounded time passes, so tests never sleep blindly. The
// default bound is generous (10 s): it only costs time when the test fails, and a loaded CI machine can
// stall a loopback round trip for seconds.

export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  what = "condition",
  timeoutMs = 10_000,
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
