// Per-node fleet signatures: each node signs what it writes to the stream with its own Ed25519 key
// (`fleet.identity_file`), and takes an entry only when a key the peers file (`fleet.peers_file`) lists for
// the node the entry names signed it. With a shared secret_file every node holds the key that speaks for
// all: a node that is taken over can ban and unban as any other. Here it can speak only as itself, its
// entries say so (`fleet:<node>`), and deleting its line from the other nodes' peers files silences it.
//
// The peers file holds `<node> <public key>` lines (the key as `sipwarden fleet-key` prints it: base64 of
// its 32 bytes); a node may have two lines while its key is changed. The identity file is the private key
// in PKCS#8 PEM, as `sipwarden fleet-key` writes it (mode 0600).

import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from "node:crypto";
import { FLEET_NODE } from "../config/daemon-schema.js";
import { ConfigFileError } from "../domain/secret-file.js";
import { signedBody, signedText, type FleetKeys } from "./fleet-signature.js";

/** A node's public keys, by the node's name. */
export type FleetPeers = ReadonlyMap<string, readonly KeyObject[]>;

/** The 32 bytes of an Ed25519 public key, in base64 (44 characters), as the peers file lists it. */
export function publicKeyText(key: KeyObject): string {
  const jwk = key.export({ format: "jwk" });
  return Buffer.from(jwk.x as string, "base64url").toString("base64");
}

/** An Ed25519 public key from its 32 bytes in base64 (or base64url); null when it is not one. */
function publicKeyOf(text: string): KeyObject | null {
  if (!/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) return null;
  const raw = Buffer.from(text.replace(/\+/g, "-").replace(/\//g, "_").replace(/=$/, ""), "base64url");
  if (raw.length !== 32) return null;
  try {
    return createPublicKey({
      key: { kty: "OKP", crv: "Ed25519", x: raw.toString("base64url") },
      format: "jwk",
    });
  } catch {
    return null;
  }
}

/** A key's public name in signatures: the start of the SHA-256 of its 32 bytes. */
function keyId(publicKey: KeyObject): string {
  return createHash("sha256").update(publicKeyText(publicKey)).digest("hex").slice(0, 12);
}

/** The peers file's text: `<node> <public key>` a line, blank lines and `#` comments skipped. */
export function parseFleetPeers(text: string, file: string): FleetPeers {
  const peers = new Map<string, KeyObject[]>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const [node, key, ...rest] = line.split(/\s+/);
    const where = `${file}:${i + 1}`;
    if (node === undefined || key === undefined || rest.length > 0)
      throw new ConfigFileError(
        `${where}: expected "<node> <public key>" (as sipwarden fleet-key prints it)`,
      );
    if (!FLEET_NODE.test(node))
      throw new ConfigFileError(`${where}: ${JSON.stringify(node)} is not a node name`);
    const publicKey = publicKeyOf(key);
    if (publicKey === null)
      throw new ConfigFileError(`${where}: not an Ed25519 public key (44 characters of base64)`);
    peers.set(node, [...(peers.get(node) ?? []), publicKey]);
  });
  if (peers.size === 0) throw new ConfigFileError(`the fleet peers file ${file} lists no node`);
  return peers;
}

/** The identity file's private key: an Ed25519 key in PEM, else a ConfigFileError saying what it is. */
export function parseFleetIdentity(pem: string, file: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new ConfigFileError(`${file} holds no private key in PEM (sipwarden fleet-key NEWFILE writes one)`);
  }
  if (key.asymmetricKeyType !== "ed25519")
    throw new ConfigFileError(
      `${file} holds an ${key.asymmetricKeyType ?? "unknown"} key; the fleet uses Ed25519`,
    );
  return key;
}

/** A new identity: the private key's PEM (for the identity file) and the public key's text (for peers). */
export function newFleetIdentity(): { readonly pem: string; readonly publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return {
    pem: privateKey.export({ format: "pem", type: "pkcs8" }) as string,
    publicKey: publicKeyText(publicKey),
  };
}

/**
 * Refuses a peers file that lists `node` (this node) without this identity's key: the other nodes,
 * holding the same file, would refuse all it writes. Null when it is consistent.
 */
export function identityMismatch(identity: KeyObject, node: string, peers: FleetPeers): string | null {
  const listed = peers.get(node);
  if (listed === undefined) return null;
  const own = publicKeyText(createPublicKey(identity));
  return listed.some((k) => publicKeyText(k) === own)
    ? null
    : `the peers file lists ${node} with other keys than this node's identity (${own})`;
}

/** Signs with `identity` as `node`; checks each entry against the keys listed for the node it names. */
export function fleetNodeKeys(identity: KeyObject, node: string, peers: FleetPeers): FleetKeys {
  const own = createPublicKey(identity);
  const ownId = keyId(own);
  // This node's own entries verify with its identity even when the peers file does not list it.
  const byNode = new Map<string, Map<string, KeyObject>>();
  for (const [name, keys] of peers) byNode.set(name, new Map(keys.map((k) => [keyId(k), k] as const)));
  if (!byNode.has(node)) byNode.set(node, new Map([[ownId, own]]));
  return {
    count: [...byNode.values()].reduce((n, m) => n + m.size, 0),
    sign: (fields) => [
      ...fields,
      "sig",
      `${ownId}.${sign(null, Buffer.from(signedText(fields)), identity).toString("base64url")}`,
    ],
    refusal(fields) {
      const signed = signedBody(fields);
      if (typeof signed === "string") return signed;
      const m = /^([0-9a-f]{12})\.([A-Za-z0-9_-]{86})$/.exec(signed.signature);
      if (m === null) return "not a node's signature";
      const i = signed.body.findIndex((f, k) => k % 2 === 0 && f === "node");
      const name = i < 0 ? undefined : signed.body[i + 1];
      const keys = name === undefined ? undefined : byNode.get(name);
      if (keys === undefined)
        return name !== undefined && FLEET_NODE.test(name)
          ? `from a node not in the peers file (${name})`
          : "no valid node name";
      const key = keys.get(m[1] as string);
      if (key === undefined) return `signed with a key not listed for ${name} (${m[1]})`;
      return verify(null, Buffer.from(signedText(signed.body)), key, Buffer.from(m[2] as string, "base64url"))
        ? null
        : "the signature does not match";
    },
  };
}
