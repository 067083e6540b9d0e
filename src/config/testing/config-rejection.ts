// The UserError a config text is refused with; for tests that check what the admin would read.

import { isUserError, type UserError } from "../../domain/errors.js";
import { loadConfigText } from "../load.js";

/** Throws when the text loads, or when loading fails with anything but a UserError (a bug). */
export function configRejection(text: string): UserError {
  try {
    loadConfigText(text, "/etc/sipwarden/sipwarden.yaml");
  } catch (e) {
    if (isUserError(e)) return e;
    throw e;
  }
  throw new Error("expected the config to be rejected");
}
