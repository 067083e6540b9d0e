// Signed fleet messages: only what a key this node holds signed is taken, whatever else was written to
// the stream; keys change without a moment in which nodes refuse each other.
import { describe, expect, it } from "vitest";
import { ConfigFileError } from "../domain/secret-file.js";
import { decodeFleetMessage, encodeFleetMessage } from "./fleet-message.js";
import { fleetKeys, parseFleetKeys } from "./fleet-signature.js";

const OLD = "0f".repeat(32);
const NEW = "a1".repeat(32);
const OTHER = "c3".repeat(32);
// An admin's allow entry: the message whose forgery would open every node to an attacker.
const allow = encodeFleetMessage({
  op: "allow",
  node: "pbx-1",
  target: "45.83.64.0/24",
  at: 1_796_644_000_000,
  expiresAt: 1_796_647_600_000,
});

describe("fleet signatures", () => {
  it("a signed message verifies with the key, decodes as before, and nothing but it does", () => {
    const keys = fleetKeys([OLD]);
    const signed = keys.sign(allow);
    expect(signed.slice(0, -2)).toEqual(allow);
    expect(signed.at(-2)).toBe("sig");
    expect(keys.refusal(signed)).toBeNull();
    expect(decodeFleetMessage(signed)).toEqual(decodeFleetMessage(allow));

    const changed = (i: number, v: string) => signed.map((f, k) => (k === i ? v : f));
    // Any field changed, one added before the signature or after it, the order of two pairs swapped.
    expect(keys.refusal(changed(allow.indexOf("target") + 1, "45.83.64.2"))).toBe(
      "the signature does not match",
    );
    expect(keys.refusal(changed(allow.indexOf("expires") + 1, ""))).toBe("the signature does not match");
    expect(keys.refusal([...allow, "x", "y", ...signed.slice(-2)])).toBe("the signature does not match");
    expect(keys.refusal([...signed, "expires", ""])).toBe("not signed");
    const swapped = [...allow.slice(2, 4), ...allow.slice(0, 2), ...allow.slice(4), ...signed.slice(-2)];
    expect(keys.refusal(swapped)).toBe("the signature does not match");
    // Unsigned, signed by a stranger's key, a signature that is not one, signed twice, not text.
    expect(keys.refusal(allow)).toBe("not signed");
    expect(keys.refusal(fleetKeys([OTHER]).sign(allow))).toMatch(
      /^signed with a key this node does not hold \([0-9a-f]{12}\)$/,
    );
    expect(keys.refusal([...allow, "sig", "0123456789ab.short"])).toBe("not a signature");
    expect(keys.refusal(keys.sign(keys.sign(allow)))).toBe("signed twice");
    expect(keys.refusal([...allow.slice(0, -1), 7, ...signed.slice(-2)])).toBe("a field that is not text");
    expect(keys.refusal([])).toBe("not signed");
    // The right key id with a forged code.
    const forged = signed.slice(-1)[0]!.replace(/\.(.)/, (_, c: string) => `.${c === "A" ? "B" : "A"}`);
    expect(keys.refusal([...allow, "sig", forged])).toBe("the signature does not match");
  });

  it("signs with the first key and verifies with all: a key changes without refusals", () => {
    const before = fleetKeys([OLD]);
    const during = fleetKeys([NEW, OLD]);
    const after = fleetKeys([NEW]);
    expect(during.count).toBe(2);
    expect(during.refusal(before.sign(allow))).toBeNull();
    expect(before.refusal(during.sign(allow))).toMatch(/does not hold/);
    expect(after.refusal(during.sign(allow))).toBeNull();
    expect(after.refusal(before.sign(allow))).toMatch(/does not hold/);
  });

  it("reads one key a line, skips blanks and comments, and refuses short keys and empty files by line", () => {
    expect(
      parseFleetKeys(`# rotated 2026-12\n${NEW}\n\n  ${OLD}  \r\n`, "/etc/sipwarden/fleet.keys"),
    ).toEqual([NEW, OLD]);
    expect(() => parseFleetKeys(`${NEW}\nshort-key\n`, "/etc/sipwarden/fleet.keys")).toThrow(
      new ConfigFileError(
        "/etc/sipwarden/fleet.keys:2: a fleet key is 32 to 1024 characters without spaces (openssl rand -hex 32)",
      ),
    );
    expect(() => parseFleetKeys(`${"x".repeat(20)} ${"y".repeat(20)}\n`, "/k")).toThrow(/\/k:1: a fleet key/);
    expect(() => parseFleetKeys("# nothing yet\n\n", "/k")).toThrow("the fleet secret file /k holds no key");
  });
});
