// Files the config names for a secret or a certificate (an SMTP password, an API key, a CA), read when
// they are used, so that a rotated one needs no reload; errors say which file and why.

import { readFileSync } from "node:fs";
import { UserError, type ErrorLocation } from "./errors.js";

export class ConfigFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigFileError";
  }
}

/** The whole file, or "cannot read the <what> <file>: <code>". */
export function readConfigFile(file: string, what: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    throw new ConfigFileError(`cannot read the ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
}

/** The first line of a file holding a password or key, as written; an empty one is an error. */
export function readSecretLine(file: string, what: string): string {
  const line = readConfigFile(file, what).split(/\r?\n/, 1)[0] ?? "";
  if (line === "") throw new ConfigFileError(`the ${what} ${file} is empty`);
  return line;
}

/** Runs `read`; a file it cannot read becomes a config error at `at`, the key that names the file. */
export function readAtKey<T>(read: () => T, at: ErrorLocation): T {
  try {
    return read();
  } catch (e) {
    if (e instanceof ConfigFileError) throw new UserError("SW_CONFIG_INVALID", e.message, at);
    throw e;
  }
}
