// The fleet's settings as `sipwarden check` shows them, and the password file read before anything starts.

import type { Config, FleetConfig } from "../config/config.js";
import { readAtKey, readConfigFile, readSecretLine } from "../domain/secret-file.js";

/** What the fleet's password and CA files hold, read once for the link that uses them. */
export interface FleetSecrets {
  readonly password?: string;
  readonly ca?: string;
}

/** Reads the fleet's password and CA files now: unreadable or empty, each is refused at its key. */
export function checkFleetFiles(config: Config): FleetSecrets {
  const f = config.fleet;
  if (f === null) return {};
  const at = (key: string) => config.locate(["fleet", key]);
  const password = f.passwordFile;
  const ca = f.caFile;
  return {
    ...(password === null
      ? {}
      : { password: readAtKey(() => readSecretLine(password, "password file"), at("password_file")) }),
    ...(ca === null ? {} : { ca: readAtKey(() => readConfigFile(ca, "CA file"), at("ca_file")) }),
  };
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
