// Asterisk's AMI security events turned into the security log's lines: read by the built-in asterisk filter
// as it reads /var/log/asterisk/security, the address only from RemoteAddress, whatever else an attacker
// wrote into the fields he controls.
import { describe, expect, it } from "vitest";
import { resolveFilter } from "../filters/resolve.js";
import { createAmiMessage } from "../pbx-link/ami-wire.js";
import { securityEventLine } from "./ami-security.js";

/** An event as Asterisk 18-22 sends it over AMI: its fields in Asterisk's order. */
function event(name: string, over: Record<string, string> = {}): ReturnType<typeof createAmiMessage> {
  return createAmiMessage(
    Object.entries({
      Event: name,
      Privilege: "security,all",
      EventTV: "2026-12-07T17:50:01.123+0000",
      Severity: name === "SuccessfulAuth" ? "Informational" : "Error",
      Service: "PJSIP",
      EventVersion: "1",
      AccountID: "1001",
      SessionID: "0x7f2a3c01d2a8",
      LocalAddress: "IPV4/UDP/192.0.2.10/5060",
      RemoteAddress: "IPV4/UDP/203.0.113.77/5062",
      ...(name === "ChallengeResponseFailed"
        ? { Challenge: "1b2c", ReceivedChallenge: "1b2c", ReceivedHash: "9f8e" }
        : {}),
      ...over,
    }),
  );
}

const asterisk = resolveFilter("asterisk");
const read = (text: string) => asterisk.match(text, { referenceTime: Date.now(), time: Date.now() });

describe("AMI security events as log lines", () => {
  it("writes what res_security_log writes, in its field order and case, which the asterisk filter reads", () => {
    const line = securityEventLine(event("ChallengeResponseFailed"));
    expect(line).toBe(
      'SECURITY[0] res_security_log.c: SecurityEvent="ChallengeResponseFailed",EventTV="2026-12-07T17:50:01.123+0000",Severity="Error",Service="PJSIP",EventVersion="1",AccountID="1001",SessionID="0x7f2a3c01d2a8",LocalAddress="IPV4/UDP/192.0.2.10/5060",RemoteAddress="IPV4/UDP/203.0.113.77/5062",Challenge="1b2c",ReceivedChallenge="1b2c",ReceivedHash="9f8e"',
    );
    for (const name of ["InvalidAccountID", "ChallengeResponseFailed", "InvalidPassword", "FailedACL"]) {
      const r = read(securityEventLine(event(name))!);
      expect(r.status, name).toBe("matched");
      if (r.status === "matched")
        expect([r.match.kind, r.match.address.text, r.match.user]).toEqual([
          "failure",
          "203.0.113.77",
          "1001",
        ]);
    }
    // A successful authentication is a success (the phone is registered), IPv6 too.
    const ok = read(
      securityEventLine(event("SuccessfulAuth", { RemoteAddress: "IPV6/UDP/2001:db8::7/5060" }))!,
    );
    expect(ok.status === "matched" && [ok.match.kind, ok.match.address.text]).toEqual([
      "success",
      "2001:db8::7",
    ]);
    // A challenge sent is no failure; AMI's other events are no security events.
    expect(read(securityEventLine(event("ChallengeSent"))!).status).not.toBe("matched");
    expect(securityEventLine(event("PeerStatus", { Privilege: "system,all" }))).toBeNull();
    expect(securityEventLine(event("Bad Name"))).toBeNull();
  });

  it("lets no text of the attacker's name another address or add a field", () => {
    const forged = 'x",RemoteAddress="IPV4/UDP/198.51.100.66/5060';
    const attempts: Record<string, string>[] = [
      { AccountID: forged },
      { AccountID: "1001\\" },
      { ReceivedHash: forged },
      { Challenge: `a\u0000b\u2028c ${forged}` },
    ];
    for (const over of attempts) {
      const line = securityEventLine(event("InvalidPassword", over))!;
      expect(line).not.toContain('RemoteAddress="IPV4/UDP/198.51.100.66');
      expect(line.split('"').length % 2, JSON.stringify(over)).toBe(1);
      const r = read(line);
      expect(r.status).toBe("matched");
      if (r.status === "matched") expect(r.match.address.text).toBe("203.0.113.77");
    }
    // A huge value is cut; the line stays one line of bounded length.
    const long = securityEventLine(event("InvalidPassword", { ReceivedHash: "f".repeat(100_000) }))!;
    expect(long.length).toBeLessThan(2048);
    expect(read(long).status).toBe("matched");
  });
});
