// fail2ban's times as sipwarden reads them (MyTime.str2seconds' units), and the conversion's choices on a
// jail config built here; the stock Debian config, read by fail2ban itself, is in convert-fail2ban.integration.
import { describe, expect, it } from "vitest";
import { convertFail2banJails, fail2banSeconds } from "./fail2ban-convert.js";
import type { Fail2banJail } from "./fail2ban-jails.js";

describe("fail2banSeconds", () => {
  it("reads plain seconds, units, sums and -1", () => {
    const cases: [string, number | null][] = [
      ["600", 600],
      ["10m", 600],
      ["1h 30m", 5400],
      ["1hour+30min", 5400],
      ["1d", 86400],
      ["2w", 1_209_600],
      ["1mo", 2_629_800],
      ["1y", 31_557_600],
      ["90s", 90],
      ["-1", -1],
      ["1.5h", 5400],
      ["", null],
      ["soon", null],
      ["10 parsecs", null],
    ];
    for (const [text, seconds] of cases) expect(fail2banSeconds(text), text).toBe(seconds);
  });
});

describe("convertFail2banJails", () => {
  const jail = (over: Partial<Fail2banJail> & { name: string }): Fail2banJail => ({
    enabled: true,
    filter: `${over.name}[mode=normal]`,
    logpath: ["/var/log/asterisk/messages"],
    backend: "auto",
    ...over,
  });

  it("carries jails, shared logs, recidive and escalation, and says what it could not", () => {
    const { config, notes } = convertFail2banJails(
      {
        files: [],
        ignoreip: "127.0.0.1/8 ::1 10.0.0.0/255.0.0.0 10.1.0.0/255.0.255.0 bad_name!",
        jails: [
          jail({ name: "asterisk", maxretry: "3", findtime: "1h", bantime: "-1", port: "5060,5061" }),
          jail({
            name: "asterisk-udp",
            filter: "asterisk",
            maxretry: "many",
            bantime: "1d",
            action: 'iptables-allports\nabuseipdb[abuseipdb_apikey="k", abuseipdb_category="8"]',
          }),
          jail({ name: "nginx-http-auth", filter: "no-such-filter" }),
          jail({
            name: "recidive",
            maxretry: "3",
            findtime: "2d",
            bantime: "4w",
            bantimeIncrement: "true",
            bantimeMaxtime: "8w",
            bantimeFactor: "3",
          }),
          jail({ name: "off", enabled: false, filter: "sshd" }),
        ],
      },
      "/nonexistent",
    );
    expect(config).toEqual({
      allowlist: ["127.0.0.1/8", "::1", "10.0.0.0/8"],
      recidive: { maxretry: 3, findtime: "2d", bantime: "4w" },
      escalation: { enabled: true, factor: 2, max_bantime: "8w" },
      sources: { asterisk: { type: "file", path: "/var/log/asterisk/messages" } },
      jails: {
        asterisk: {
          filter: "asterisk",
          sources: ["asterisk"],
          maxretry: 3,
          findtime: "1h",
          bantime: "permanent",
        },
        "asterisk-udp": { filter: "asterisk", sources: ["asterisk"], bantime: "1d" },
      },
    });
    expect(notes).toEqual([
      "ignoreip 10.1.0.0/255.0.255.0: neither an address, a network nor a name; left out of the allowlist",
      "ignoreip bad_name!: neither an address, a network nor a name; left out of the allowlist",
      expect.stringMatching(
        /^jail asterisk: fail2ban banned on port 5060,5061 only; sipwarden bans on every port/,
      ),
      "jail asterisk-udp: maxretry = many is not a whole number ≥ 1; left at sipwarden's default",
      expect.stringMatching(
        /^jail nginx-http-auth: no filter sipwarden can load for "no-such-filter"; the jail is left out$/,
      ),
      expect.stringMatching(/^recidive: sipwarden counts its own bans/),
      expect.stringMatching(/^jails asterisk-udp reported to AbuseIPDB: sipwarden's report/),
      expect.stringMatching(
        /^bantime\.increment: fail2ban's own formula, multipliers or factor are not carried/,
      ),
      "bantime.increment was on for some jails only: sipwarden's escalation covers every jail",
    ]);
  });
});
