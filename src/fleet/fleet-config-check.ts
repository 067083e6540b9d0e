// The fleet's settings as `sipwarden check` shows them, and the password file read before anything starts.

import { createPublicKey, type KeyObject } from "node:crypto";
import { statSync } from "node:fs";
import type { Config, FleetConfig } from "../config/config.js";
import { UserError } from "../domain/errors.js";
import { ConfigFileError, readAtKey, readConfigFile, readSecretLine } from "../domain/secret-file.js";
import {
  identityMismatch,
  parseFleetIdentity,
  parseFleetPeers,
  publicKeyText,
  type FleetPeers,
} from "./fleet-node-keys.js";
import { parseFleetKeys } from "./fleet-signature.js";

/** What the fleet's password, CA and secret files hold, read once for the link that uses them. */
export interface FleetSecrets {
  readonly password?: string;
  readonly ca?: string;
  /** The keys messages are signed with (the first) and checked against (all). */
  readonly keys?: readonly string[];
  /** Or: this node's private key, which signs, and each node's public keys, which check. */
  readonly nodeKeys?: { readonly identity: KeyObject; readonly peers: FleetPeers };
}

/** Reads the fleet's password, CA and secret files now: unreadable or empty, each is refused at its key. */
export function checkFleetFiles(config: Config): FleetSecrets {
  const f = config.fleet;
  if (f === null) return {};
  const at = (key: string) => config.locate(["fleet", key]);
  const password = f.passwordFile;
  const ca = f.caFile;
  const secret = f.secretFile;
  const nodeKeys = readNodeKeys(f, at);
  return {
    ...(nodeKeys === null ? {} : { nodeKeys }),
    ...(password === null
      ? {}
      : { password: readAtKey(() => readSecretLine(password, "password file"), at("password_file")) }),
    ...(ca === null ? {} : { ca: readAtKey(() => readConfigFile(ca, "CA file"), at("ca_file")) }),
    ...(secret === null
      ? {}
      : {
          keys: readAtKey(
            () => parseFleetKeys(readConfigFile(secret, "fleet secret file"), secret),
            at("secret_file"),
          ),
        }),
  };
}

function readNodeKeys(
  f: FleetConfig,
  at: (key: string) => ReturnType<Config["locate"]>,
): FleetSecrets["nodeKeys"] | null {
  const { identityFile, peersFile } = f;
  if (identityFile === null || peersFile === null) return null;
  const identity = readAtKey(() => {
    const pem = readConfigFile(identityFile, "fleet identity file");
    // As ssh refuses a private key others can read: whoever reads it speaks for this node.
    if ((statSync(identityFile).mode & 0o077) !== 0)
      throw new ConfigFileError(
        `${identityFile} can be read by others than its owner: chmod 600 ${identityFile} (and make a new key if it went further)`,
      );
    return parseFleetIdentity(pem, identityFile);
  }, at("identity_file"));
  const peers = readAtKey(
    () => parseFleetPeers(readConfigFile(peersFile, "fleet peers file"), peersFile),
    at("peers_file"),
  );
  const mismatch = identityMismatch(identity, f.node, peers);
  if (mismatch !== null) throw new UserError("SW_CONFIG_INVALID", mismatch, at("peers_file"));
  return { identity, peers };
}

/**
 * What the files held, as text that differs when any of them changed: a reload restarts the fleet link when
 * it does. Keys are objects that JSON would write as `{}`, so node keys go in as their public keys' text.
 */
export function fleetSecretsFingerprint(s: FleetSecrets): string {
  const node = s.nodeKeys;
  return JSON.stringify([
    s.password ?? null,
    s.ca ?? null,
    s.keys ?? null,
    node === undefined
      ? null
      : [
          publicKeyText(createPublicKey(node.identity)),
          [...node.peers].map(([name, keys]) => [name, keys.map(publicKeyText)]),
        ],
  ]);
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
  if (f.secretFile !== null) what.push(`messages signed and checked with the keys in ${f.secretFile}`);
  else if (f.identityFile !== null)
    what.push(
      `messages signed with this node's key in ${f.identityFile}, each checked against its node's keys in ${f.peersFile}`,
    );
  else what.push("messages not signed (no secret_file, nor identity_file)");
  return `node ${f.node} via ${url.protocol}//${url.host} (stream ${f.key}, ${login}${ca}): ${what.join(", ")}`;
}
