// Signed fleet messages: with `fleet.secret_file`, each node signs what it writes to the stream with a key
// the fleet shares (HMAC-SHA256), and takes from it only what a key it holds signed. Whoever can write to
// the Redis stream (its password leaked, a Redis shared with other programs) can then no longer ban or
// allow addresses on every node. The file holds one key per line: the first signs, all verify, so a key is
// changed without a moment in which nodes refuse each other (add the new one second everywhere, then move
// it first everywhere, then drop the old one).

import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { ConfigFileError } from "../domain/secret-file.js";

/** Shortest key accepted: 32 characters (`openssl rand -hex 32` writes 64). */
const MIN_FLEET_KEY = 32;
const MAX_FLEET_KEY = 1024;
const SIG = "sig";

/** How a node signs what it writes and checks what it reads: a shared key (here) or node keys. */
export interface FleetKeys {
  /** How many keys verify (with a shared key, the first of them signs). */
  readonly count: number;
  /** The entry's fields with the signature appended as their last pair. */
  sign(fields: readonly string[]): string[];
  /** Null when a key held signed these fields (the signature their last pair), else why they are refused. */
  refusal(fields: readonly unknown[]): string | null;
}

/** The keys of a secret file's text: one a line, blank lines and `#` comments skipped. */
export function parseFleetKeys(text: string, file: string): string[] {
  const keys: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    if (line.length < MIN_FLEET_KEY || line.length > MAX_FLEET_KEY || /\s/.test(line))
      throw new ConfigFileError(
        `${file}:${i + 1}: a fleet key is ${MIN_FLEET_KEY} to ${MAX_FLEET_KEY} characters without spaces (openssl rand -hex 32)`,
      );
    keys.push(line);
  });
  if (keys.length === 0) throw new ConfigFileError(`the fleet secret file ${file} holds no key`);
  return keys;
}

/** A key's public name: the start of its SHA-256, so a refusal can say which key signed. */
function keyId(key: string): string {
  return createHash("sha256").update(key).digest("hex").slice(0, 12);
}

/** What is signed: the fields before the signature, each as written, unambiguously joined. */
export function signedText(fields: readonly string[]): string {
  return JSON.stringify(fields);
}

/**
 * An entry's fields split into what was signed and the signature (the value of the last pair, `sig`), or
 * why the entry is not a signed one. Shared by the fleet's two ways of signing (a shared key, node keys).
 */
export function signedBody(
  fields: readonly unknown[],
): { readonly body: readonly string[]; readonly signature: string } | string {
  const n = fields.length;
  const value = fields[n - 1];
  if (n < 2 || fields[n - 2] !== SIG || typeof value !== "string") return "not signed";
  const body = fields.slice(0, n - 2);
  if (body.some((f) => typeof f !== "string")) return "a field that is not text";
  if (body.some((f, i) => i % 2 === 0 && f === SIG)) return "signed twice";
  return { body: body as string[], signature: value };
}

export function fleetKeys(keys: readonly string[]): FleetKeys {
  if (keys.length === 0) throw new Error("fleetKeys: no key");
  const byId = new Map(keys.map((k) => [keyId(k), k] as const));
  const mac = (key: string, fields: readonly string[]): Buffer =>
    createHmac("sha256", key).update(signedText(fields)).digest();
  const signer = keys[0] as string;
  const signerId = keyId(signer);
  return {
    count: keys.length,
    sign: (fields) => [...fields, SIG, `${signerId}.${mac(signer, fields).toString("base64url")}`],
    refusal(fields) {
      const signed = signedBody(fields);
      if (typeof signed === "string") return signed;
      const m = /^([0-9a-f]{12})\.([A-Za-z0-9_-]{43})$/.exec(signed.signature);
      if (m === null) return "not a signature";
      const key = byId.get(m[1] as string);
      if (key === undefined) return `signed with a key this node does not hold (${m[1]})`;
      const given = Buffer.from(m[2] as string, "base64url");
      return given.length === 32 && timingSafeEqual(given, mac(key, signed.body))
        ? null
        : "the signature does not match";
    },
  };
}
