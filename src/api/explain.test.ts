import { describe, expect, it } from "vitest";
import { explainAddress } from "./explain.js";
import type { DecisionRecord } from "./views.js";

const at = Date.UTC(2026, 10, 22);
const ban: DecisionRecord = {
  action: "ban",
  target: "45.0.0.0/16",
  origin: "feed:voipbl",
  reason: "listed by VoIPBL",
  scope: { kind: "service", protocols: ["udp"], ports: [{ from: 5060, to: 5061 }] },
  at,
  durationMs: 0,
  expiresAt: null,
  priorBans: 0,
  evidence: [],
  endedAt: null,
  endedBy: null,
};
const address = { family: 4 as const, text: "45.0.1.2" };

describe("explainAddress", () => {
  it("allow entries and trusted zones win, and are listed before what they override", () => {
    const r = explainAddress({
      address,
      active: [ban],
      past: [],
      allow: [
        {
          entry: "45.0.1.0/24",
          origin: "/etc/sipwarden/allow.txt:3",
          detail: "allowlist file",
          expiresAt: null,
        },
      ],
      trustedZones: [{ name: "trunk-provider", entry: "45.0.1.0/28" }],
      registrations: [{ source: "ami", detail: "2 live registrations: 1001, 1002" }],
    });
    expect(r.verdict).toBe("allowed");
    expect(r.because.map((b) => b.kind)).toEqual(["trusted-zone", "allowlist", "feed", "registration"]);
    expect(r.because[0]?.detail).toBe("trusted zone trunk-provider (45.0.1.0/28) is never banned");
    expect(r.because[1]?.expiresAt).toBeNull();
    expect(r.because[2]).toMatchObject({ origin: "feed:voipbl", expiresAt: null, scope: ban.scope });
  });

  it("feed memberships outside the store block too; a registration alone does not allow", () => {
    const r = explainAddress({
      address,
      active: [],
      past: [{ ...ban, origin: "jail:asterisk", action: "spare", reason: "spared: live registration" }],
      allow: [],
      feeds: [{ feed: "voipbl", entry: "45.0.0.0/16" }],
      registrations: [{ source: "kamailio", detail: "1 live registration: 2001" }],
    });
    expect(r.verdict).toBe("blocked");
    expect(r.because).toEqual([
      {
        kind: "feed",
        origin: "feed:voipbl",
        detail: "listed by feed voipbl (45.0.0.0/16)",
        target: "45.0.0.0/16",
      },
      { kind: "registration", origin: "kamailio", detail: "1 live registration: 2001" },
    ]);
    expect(r.history[0]).toMatchObject({ action: "spare", expiresAt: null, endedAt: null });
    expect(
      explainAddress({
        address,
        active: [],
        past: [],
        allow: [],
        registrations: [{ source: "log", detail: "x" }],
      }).verdict,
    ).toBe("not-blocked");
  });
});
