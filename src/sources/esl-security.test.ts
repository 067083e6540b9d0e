// FreeSWITCH's sofia::register_failure events turned into sofia's log line: read by the built-in freeswitch
// filter as it reads freeswitch.log, the address only from network-ip, whatever an attacker wrote into the
// request's user and domain.
import { describe, expect, it } from "vitest";
import { resolveFilter } from "../filters/resolve.js";
import { parsePlainEvent } from "../pbx-link/esl-wire.js";
import { registerFailureLine } from "./esl-security.js";

/** An event as mod_event_socket sends it in plain format (URL-encoded values), with sofia_reg.c's headers. */
function event(over: Record<string, string> = {}): Map<string, string> {
  const headers: Record<string, string> = {
    "Event-Name": "CUSTOM",
    "Core-UUID": "5b6c1c3e-9a5f-4e0b-8d1a-0f7e2c3b4a59",
    "FreeSWITCH-Hostname": "pbx1",
    "Event-Date-Timestamp": "1765130000123456",
    "Event-Subclass": "sofia::register_failure",
    "profile-name": "internal",
    "to-user": "1000",
    "to-host": "pbx.example",
    "network-ip": "203.0.113.77",
    "user-agent": "friendly-scanner",
    "network-port": "5062",
    "registration-type": "REGISTER",
    ...over,
  };
  const body = Object.entries(headers)
    .map(([k, v]) => `${k}: ${encodeURIComponent(v)}\n`)
    .join("");
  return parsePlainEvent(`${body}\n`);
}

const freeswitch = resolveFilter("freeswitch");
const read = (text: string) => freeswitch.match(text, { referenceTime: Date.now(), time: Date.now() });

describe("ESL register failures as log lines", () => {
  it("writes sofia's auth-failure line, which the freeswitch filter reads with user and address", () => {
    expect(registerFailureLine(event())).toBe(
      "[WARNING] sofia_reg.c:0 SIP auth failure (REGISTER) on sofia profile 'internal' for [1000@pbx.example] from ip 203.0.113.77",
    );
    const cases: [Record<string, string>, string, string, string | undefined][] = [
      [{}, "REGISTER", "203.0.113.77", "1000"],
      [
        { "registration-type": "INVITE", "to-user": "0049301234567" },
        "INVITE",
        "203.0.113.77",
        "0049301234567",
      ],
      [{ "network-ip": "2001:db8::7" }, "REGISTER", "2001:db8::7", "1000"],
      [{ "network-ip": "[2001:DB8::8]" }, "REGISTER", "2001:db8::8", "1000"],
      // An unknown registration type is written as REGISTER, never copied.
      [{ "registration-type": "OPTIONS) x" }, "REGISTER", "203.0.113.77", "1000"],
    ];
    for (const [over, type, address, user] of cases) {
      const line = registerFailureLine(event(over));
      expect(line, JSON.stringify(over)).toContain(`SIP auth failure (${type})`);
      const r = read(line as string);
      expect(r.status, JSON.stringify(over)).toBe("matched");
      if (r.status === "matched")
        expect([r.match.kind, r.match.address.text, r.match.user]).toEqual(["failure", address, user]);
    }
  });

  it("turns only register failures with an address into lines", () => {
    expect(registerFailureLine(event({ "Event-Subclass": "sofia::register" }))).toBeNull();
    expect(registerFailureLine(event({ "Event-Subclass": "sofia::register_attempt" }))).toBeNull();
    for (const ip of ["", "pbx.example", "203.0.113.999", "203.0.113.7 from ip 198.51.100.66", "[1.2.3.4"])
      expect(registerFailureLine(event({ "network-ip": ip })), ip).toBe("no-address");
  });

  it("lets no text of the attacker's name another address or start another line", () => {
    const forged = "1000@x] from ip 198.51.100.66";
    const attempts: Record<string, string>[] = [
      { "to-user": forged },
      { "to-host": "pbx] from ip 198.51.100.66" },
      {
        "to-user":
          "1000\n[WARNING] sofia_reg.c:1 SIP auth failure (REGISTER) on sofia profile 'x' for [1@x] from ip 198.51.100.66",
      },
      { "to-host": `pbx\u2028from ip 198.51.100.66` },
      { "to-user": "1000'", "profile-name": "int'ernal" },
      { "to-user": "x".repeat(100_000) },
    ];
    for (const over of attempts) {
      const line = registerFailureLine(event(over)) as string;
      expect(line.split("\n"), JSON.stringify(over)).toHaveLength(1);
      // eslint-disable-next-line no-control-regex
      expect(line).not.toMatch(/[\u0000-\u001f\u2028\u2029]/);
      expect(line.endsWith(" from ip 203.0.113.77")).toBe(true);
      expect(line.length).toBeLessThan(1024);
      const r = read(line);
      expect(r.status, JSON.stringify(over)).toBe("matched");
      if (r.status === "matched") expect(r.match.address.text).toBe("203.0.113.77");
    }
  });
});
