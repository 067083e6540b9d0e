// What goes on the fleet's stream and what is taken from it: anyone who can write to the stream writes
// these, so every field is checked before a ban comes near the kernel.
import { describe, expect, it } from "vitest";
import { decodeFleetMessage, encodeFleetMessage, fleetReason, MAX_FLEET_REASON } from "./fleet-message.js";

const ban = {
  op: "ban",
  node: "pbx-1",
  target: "45.83.64.1",
  at: 1_796_644_000_000,
  expiresAt: 1_796_647_600_000,
  reason: "jail:asterisk: 5 failures in 10m (asterisk)",
} as const;

/** The fields of a good ban with some replaced (undefined: left out). */
function fields(over: Record<string, string | undefined> = {}): string[] {
  const f: Record<string, string | undefined> = {
    v: "1",
    node: "pbx-1",
    op: "ban",
    target: "45.83.64.1",
    at: "1796644000000",
    expires: "1796647600000",
    reason: "r",
    ...over,
  };
  return Object.entries(f).flatMap(([k, v]) => (v === undefined ? [] : [k, v]));
}

describe("fleet messages", () => {
  it("round-trip: a ban, a permanent ban, an unban, a network", () => {
    expect(decodeFleetMessage(encodeFleetMessage(ban))).toEqual(ban);
    const permanent = { ...ban, expiresAt: null };
    expect(encodeFleetMessage(permanent)).toContain("expires");
    expect(decodeFleetMessage(encodeFleetMessage(permanent))).toEqual(permanent);
    const unban = { op: "unban", node: "pbx-2", target: "2a0b:6b86::/64", at: 1 } as const;
    expect(encodeFleetMessage(unban)).toEqual([
      "v",
      "1",
      "node",
      "pbx-2",
      "op",
      "unban",
      "target",
      "2a0b:6b86::/64",
      "at",
      "1",
    ]);
    expect(decodeFleetMessage(encodeFleetMessage(unban))).toEqual(unban);
  });

  it("round-trip: an allow entry for a time or until removed, and its removal", () => {
    const allow = {
      op: "allow",
      node: "pbx-3",
      target: "198.51.100.0/24",
      at: 5,
      expiresAt: 3_600_005,
    } as const;
    expect(encodeFleetMessage(allow)).toEqual([
      ...["v", "1", "node", "pbx-3", "op", "allow", "target", "198.51.100.0/24", "at", "5"],
      ...["expires", "3600005"],
    ]);
    expect(decodeFleetMessage(encodeFleetMessage(allow))).toEqual(allow);
    const forever = { ...allow, expiresAt: null };
    expect(decodeFleetMessage(encodeFleetMessage(forever))).toEqual(forever);
    const unallow = { op: "unallow", node: "pbx-3", target: "198.51.100.0/24", at: 9 } as const;
    expect(decodeFleetMessage(encodeFleetMessage(unallow))).toEqual(unallow);
    // An allow entry is checked as a ban is: no wider than /8, an end after its start, no reason needed.
    const allowFields = (over: Record<string, string | undefined>) =>
      fields({ op: "allow", reason: undefined, ...over });
    expect(decodeFleetMessage(allowFields({}))).toMatchObject({ op: "allow", target: "45.83.64.1" });
    expect(decodeFleetMessage(allowFields({ target: "0.0.0.0/1" }))).toEqual({
      refused: expect.stringMatching(/wider than \/8/),
    });
    expect(decodeFleetMessage(allowFields({ expires: undefined }))).toEqual({ refused: "no valid end" });
    expect(decodeFleetMessage(allowFields({ expires: "1" }))).toEqual({
      refused: "it ends before it starts",
    });
  });

  it("takes targets only as canonical addresses and networks no wider than /8 and /16", () => {
    expect(decodeFleetMessage(fields({ target: "2A0B:6B86:0::1" }))).toMatchObject({
      target: "2a0b:6b86::1",
    });
    expect(decodeFleetMessage(fields({ target: "10.0.0.0/8" }))).toMatchObject({ target: "10.0.0.0/8" });
    for (const [target, why] of [
      ["0.0.0.0/0", /wider than \/8/],
      ["::/0", /wider than \/16/],
      ["45.83.64.1/24", /not an IP address or network/], // host bits set
      ["45.83.64.1; nft flush ruleset", /not an IP address/],
      ["pbx.example.com", /not an IP address/],
      ["", /not an IP address/],
    ] as const)
      expect(decodeFleetMessage(fields({ target })), target).toEqual({ refused: expect.stringMatching(why) });
  });

  it("refuses entries that are not ours, whole", () => {
    const refused = (f: unknown, why: RegExp) =>
      expect(decodeFleetMessage(f), JSON.stringify(f)).toEqual({ refused: expect.stringMatching(why) });
    refused(fields({ v: "2" }), /unknown version/);
    refused(fields({ v: undefined }), /unknown version/);
    refused(fields({ node: "" }), /node/);
    refused(fields({ node: "pbx 1" }), /node/);
    refused(fields({ node: "-pbx" }), /node/);
    refused(fields({ node: "x".repeat(64) }), /node/);
    refused(fields({ op: "flush" }), /unknown op/);
    refused(fields({ at: "-1" }), /time/);
    refused(fields({ at: "1e12" }), /time/);
    refused(fields({ expires: "soon" }), /end/);
    refused(fields({ expires: undefined }), /end/);
    refused(fields({ expires: "1796644000000" }), /ends before it starts/);
    refused(fields({ reason: undefined }), /reason/);
    refused([...fields(), "v", "1"], /twice/);
    refused(["v", "1", "node"], /pairs/);
    refused("v=1", /pairs/);
    refused(
      Array.from({ length: 40 }, () => "x"),
      /pairs/,
    );
    refused([...fields().slice(0, -1), 7], /not text/);
  });

  it("keeps a reason one printable line of bounded length", () => {
    const got = decodeFleetMessage(fields({ reason: "a\nb\u001b[2J\u202ec" + "x".repeat(1000) }));
    expect(got).toMatchObject({ op: "ban" });
    const reason = (got as { reason: string }).reason;
    expect(reason.startsWith("a b [2J c")).toBe(true);
    expect(reason).toHaveLength(MAX_FLEET_REASON);
    expect(fleetReason("short")).toBe("short");
    expect(encodeFleetMessage({ ...ban, reason: "x\ny" })).toContain("x y");
  });
});
