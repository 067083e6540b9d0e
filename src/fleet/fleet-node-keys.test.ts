// Node keys: each node signs as itself; an entry is taken only when the key listed for the node it names
// signed it, so one node's key cannot speak for another.
import { createPrivateKey, createPublicKey, generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ConfigFileError } from "../domain/secret-file.js";
import { encodeFleetMessage } from "./fleet-message.js";
import {
  fleetNodeKeys,
  identityMismatch,
  newFleetIdentity,
  parseFleetIdentity,
  parseFleetPeers,
} from "./fleet-node-keys.js";

const idA = newFleetIdentity();
const idB = newFleetIdentity();
const keyA = createPrivateKey(idA.pem);
const keyB = createPrivateKey(idB.pem);
const peers = parseFleetPeers(`# the fleet\npbx-a ${idA.publicKey}\n\npbx-b ${idB.publicKey}\n`, "peers");

const ban = (node: string) =>
  encodeFleetMessage({
    op: "ban",
    node,
    target: "203.0.113.9",
    at: 1_765_000_000_000,
    expiresAt: 1_765_003_600_000,
    reason: "5 failures",
  });

describe("fleet node keys", () => {
  it("takes what a node signed as itself, on every node that lists it", () => {
    const a = fleetNodeKeys(keyA, "pbx-a", peers);
    const b = fleetNodeKeys(keyB, "pbx-b", peers);
    const signed = a.sign(ban("pbx-a"));
    expect(signed.at(-2)).toBe("sig");
    expect(signed.at(-1)).toMatch(/^[0-9a-f]{12}\.[A-Za-z0-9_-]{86}$/);
    expect(b.refusal(signed)).toBeNull();
    expect(a.refusal(signed)).toBeNull();
  });

  it("refuses a node's key speaking for another, an unknown node, a changed field, the unsigned", () => {
    const a = fleetNodeKeys(keyA, "pbx-a", peers);
    const b = fleetNodeKeys(keyB, "pbx-b", peers);
    // pbx-b's key signs an entry that says it comes from pbx-a.
    expect(a.refusal(b.sign(ban("pbx-a")))).toMatch(
      /^signed with a key not listed for pbx-a \([0-9a-f]{12}\)$/,
    );
    expect(a.refusal(b.sign(ban("pbx-z")))).toBe("from a node not in the peers file (pbx-z)");
    // The writer's text is not repeated when it is no node name.
    expect(a.refusal(b.sign(ban("pbx\u001b[2J")))).toBe("no valid node name");
    const signed = b.sign(ban("pbx-b"));
    const changed = signed.map((f) => (f === "203.0.113.9" ? "198.51.100.1" : f));
    expect(a.refusal(changed)).toBe("the signature does not match");
    expect(a.refusal(ban("pbx-b"))).toBe("not signed");
    expect(a.refusal([...ban("pbx-b"), "sig", "abc"])).toBe("not a node's signature");
    // A stranger's key, however well formed its signature.
    const stranger = createPrivateKey(newFleetIdentity().pem);
    expect(a.refusal(fleetNodeKeys(stranger, "pbx-b", peers).sign(ban("pbx-b")))).toMatch(
      /^signed with a key not listed for pbx-b/,
    );
  });

  it("takes either of a node's two keys while it changes its key; its own entries without a peers line", () => {
    const next = newFleetIdentity();
    const two = parseFleetPeers(`pbx-b ${idB.publicKey}\npbx-b ${next.publicKey}\n`, "peers");
    const a = fleetNodeKeys(keyA, "pbx-a", two);
    const bNew = fleetNodeKeys(createPrivateKey(next.pem), "pbx-b", two);
    expect(a.refusal(bNew.sign(ban("pbx-b")))).toBeNull();
    expect(a.refusal(fleetNodeKeys(keyB, "pbx-b", two).sign(ban("pbx-b")))).toBeNull();
    // pbx-a is not listed: its own unbans read back from the stream still verify with its identity.
    expect(a.refusal(a.sign(ban("pbx-a")))).toBeNull();
  });

  it("reads the files strictly, saying where", () => {
    const bad = (text: string) => () => parseFleetPeers(text, "/etc/sipwarden/fleet-peers");
    expect(bad(`pbx-a ${idA.publicKey} extra\n`)).toThrow(
      /^\/etc\/sipwarden\/fleet-peers:1: expected "<node> <public key>"/,
    );
    expect(bad(`\n-bad ${idA.publicKey}\n`)).toThrow(/fleet-peers:2: "-bad" is not a node name/);
    expect(bad("pbx-a AAAA\n")).toThrow(/fleet-peers:1: not an Ed25519 public key/);
    expect(bad("# nobody\n")).toThrow(ConfigFileError);
    expect(() => parseFleetIdentity("not a key", "/k.pem")).toThrow(/\/k\.pem holds no private key in PEM/);
    const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({
      format: "pem",
      type: "pkcs8",
    }) as string;
    expect(() => parseFleetIdentity(rsa, "/k.pem")).toThrow(/holds an rsa key; the fleet uses Ed25519/);
    expect(parseFleetIdentity(idA.pem, "/k.pem").asymmetricKeyType).toBe("ed25519");
  });

  it("says when the peers file lists this node with another key than its identity", () => {
    expect(identityMismatch(keyA, "pbx-a", peers)).toBeNull();
    expect(identityMismatch(keyA, "pbx-c", peers)).toBeNull();
    expect(identityMismatch(keyB, "pbx-a", peers)).toMatch(
      /lists pbx-a with other keys than this node's identity/,
    );
    expect(createPublicKey(keyA).asymmetricKeyType).toBe("ed25519");
  });
});
