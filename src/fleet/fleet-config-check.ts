// The fleet's settings as `sipwarden check` shows them, and the password file read before anything starts.

import type { Config, FleetConfig } from "../config/config.js";
import { UserError } from "../domain/errors.js";
import { ConfigFileError, readSecretLine } from "../domain/secret-file.js";

/** Reads the fleet's Redis password file now: unreadable or empty, it is refused at its key. */
export function checkFleetPassword(config: Config): void {
  const file = config.fleet?.passwordFile;
  if (file == null) return;
  try {
    readSecretLine(file, "password file");
  } catch (e) {
    if (!(e instanceof ConfigFileError)) throw e;
    throw new UserError("SW_CONFIG_INVALID", e.message, config.locate(["fleet", "password_file"]));
  }
}

/** "node pbx-a via redis://10.0.0.5:6379 (stream sipwarden:bans): shares …": a password never shown. */
export function fleetText(f: FleetConfig): string {
  const url = new URL(f.url);
  const login =
    url.password !== ""
      ? "password in the URL"
      : f.passwordFile !== null
        ? `password from ${f.passwordFile}`
        : "no password";
  url.username = "";
  url.password = "";
  const what = [
    f.share ? "shares this node's bans and unbans" : "shares nothing",
    f.receive ? "enforces the other nodes'" : "enforces none of the other nodes'",
  ];
  return `node ${f.node} via ${url.protocol}//${url.host} (stream ${f.key}, ${login}): ${what.join(", ")}`;
}
