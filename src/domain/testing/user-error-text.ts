// The one line a user would read when a call is refused: its UserError, formatted; for tests.

import { isUserError } from "../errors.js";

/** Rejects when `p` resolves, or rejects with anything but a UserError (a bug, not a refusal). */
export async function userErrorText(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (isUserError(e)) return e.format();
    throw e;
  }
  throw new Error("expected a user error");
}
