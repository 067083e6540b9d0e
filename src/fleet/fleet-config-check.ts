// The fleet's settings as `sipwarden check` shows them, and the password file read before anything starts.

import type { Config, FleetConfig } from "../config/config.js";
import { UserError } from "../domain/errors.js";
import { ConfigFileError, readConfigFile, readSecretLine } from "../domain/secret-file.js";

/** Reads the fleet's password and CA files now: unreadable or empty, each is refused at its key. */
export function checkFleetFiles(config: Config): void {
  const f = config.fleet;
  if (f === null) return;
  for (const [key, file, what] of [
    ["password_file", f.passwordFile, "password file"],
    ["ca_file", f.caFile, "CA file"],
  ] as const) {
    if (file === null) continue;
    try {
      if (key === "password_file") readSecretLine(file, what);
      else readConfigFile(file, what);
    } catch (e) {
      if (!(e instanceof ConfigFileError)) throw e;
      throw new UserError("SW_CONFIG_INVALID", e.message, config.locate(["fleet", key]));
    }
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
  const ca = f.caFile === null ? "" : `, CA ${f.caFile}`;
  return `node ${f.node} via ${url.protocol}//${url.host} (stream ${f.key}, ${login}${ca}): ${what.join(", ")}`;
}
