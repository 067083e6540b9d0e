import { describe, expect, it } from "vitest";
import { defaultConfig, loadConfigText } from "./load.js";
import { configRejection } from "./testing/config-rejection.js";
import { presetNames } from "./schema.js";

describe("config loading", () => {
  it("a three-line config gets the preset's sources and jails", () => {
    const c = loadConfigText(
      "preset: freepbx\nallowlist: [192.168.1.0/24]\ndefaults: { bantime: 1d }\n",
      "x.yaml",
    );
    expect(c.jails.map((j) => j.name)).toEqual(["sshd", "asterisk", "freepbx"]);
    const asterisk = c.jails.find((j) => j.name === "asterisk")!;
    expect(asterisk).toMatchObject({
      filter: "asterisk",
      maxretry: 5,
      findtimeMs: 600_000,
      bantimeMs: 86_400_000,
    });
    expect(c.sources.asterisk).toMatchObject({ type: "file", paths: ["/var/log/asterisk/full"] });
    expect(c.allowlist).toEqual(["192.168.1.0/24"]);
    expect(Object.isFrozen(c.jails)).toBe(true);
  });

  it("every preset normalizes and passes the rules", () => {
    for (const p of presetNames) expect(defaultConfig(p).jails.length).toBeGreaterThan(1);
  });

  it("user jails override only what they set and can be disabled", () => {
    const c = loadConfigText(
      [
        "preset: asterisk",
        "jails:",
        "  asterisk: { maxretry: 3, bantime: permanent, scope: service }",
        "  sshd: { enabled: false }",
      ].join("\n"),
      "x.yaml",
    );
    expect(c.jails.map((j) => j.name)).toEqual(["asterisk"]);
    expect(c.jails[0]).toMatchObject({ maxretry: 3, bantimeMs: null, filter: "asterisk" });
    expect(c.jails[0]!.scope).toEqual({
      kind: "service",
      protocols: ["udp", "tcp"],
      ports: [
        { from: 5060, to: 5060 },
        { from: 5061, to: 5061 },
        { from: 4569, to: 4569 },
        { from: 5038, to: 5038 },
      ],
    });
  });

  it("an AMI source of security events: its connection, port 5038 by default; a missing secret is refused at its key", () => {
    const c = loadConfigText(
      [
        "preset: asterisk",
        "sources:",
        "  ami-events: { type: ami, host: 127.0.0.1, username: sipwarden, secret: s3cret }",
        "jails:",
        "  asterisk: { sources: [ami-events] }",
      ].join("\n"),
      "x",
    );
    expect(c.sources["ami-events"]).toEqual({
      name: "ami-events",
      type: "ami",
      host: "127.0.0.1",
      port: 5038,
      username: "sipwarden",
      secret: "s3cret",
    });
    expect(c.jails.find((j) => j.name === "asterisk")?.sources).toEqual(["ami-events"]);
    const e = configRejection("sources:\n  ami: { type: ami, host: 127.0.0.1, username: sw }\n");
    expect(e.location).toMatchObject({ line: 2, key: "sources.ami.secret" });
    expect(
      configRejection("sources:\n  ami: { type: ami, host: 'a b', username: u, secret: s }\n").message,
    ).toMatch(/a host name or address/);
  });

  it("an unknown key is reported with file, line and key", () => {
    const e = configRejection("preset: asterisk\njails:\n  asterisk:\n    maxretyr: 3\n");
    expect(e.format()).toBe(
      '/etc/sipwarden/sipwarden.yaml:4:5: jails.asterisk.maxretyr: unknown key "maxretyr" [SW_CONFIG_INVALID]',
    );
  });

  it("suspect registrations: on by default (10 failures in 1d, report); a bad setting names its key", () => {
    expect(loadConfigText("preset: asterisk\n", "x.yaml").registrations.suspect).toEqual({
      failures: 10,
      lookbackMs: 86_400_000,
      action: "report",
    });
    const set = "preset: asterisk\nregistrations:\n  suspect: { failures: 3, lookback: 2h, action: ban }\n";
    expect(loadConfigText(set, "x.yaml").registrations.suspect).toEqual({
      failures: 3,
      lookbackMs: 7_200_000,
      action: "ban",
    });
    expect(
      loadConfigText("registrations: { suspect: { enabled: false } }\n", "x.yaml").registrations.suspect,
    ).toBeNull();
    const short = configRejection("preset: asterisk\nregistrations:\n  suspect:\n    lookback: 10s\n");
    expect(short.location).toMatchObject({ line: 4, key: "registrations.suspect.lookback" });
    expect(short.message).toMatch(/from 1m to 30d/);
    const action = configRejection("registrations:\n  suspect: { action: block }\n");
    expect(action.location).toMatchObject({ line: 2, key: "registrations.suspect.action" });
  });

  it("a wrong type points at the value", () => {
    const e = configRejection("preset: asterisk\ndefaults:\n  maxretry: five\n");
    expect(e.location).toMatchObject({ line: 3, key: "defaults.maxretry" });
    expect(e.message).toMatch(/expected number/);
  });

  it("a bad duration names the key", () => {
    const e = configRejection("preset: asterisk\njails:\n  asterisk:\n    findtime: 10 parsecs\n");
    expect(e.location).toMatchObject({ line: 4, key: "jails.asterisk.findtime" });
    expect(e.message).toMatch(/duration/);
  });

  it("logtimezone, in defaults or on a jail, becomes the filter's parameter; the filter's own wins", () => {
    const c = loadConfigText(
      [
        "preset: asterisk",
        'defaults: { logtimezone: "+0100" }',
        "jails:",
        '  sshd: { filter: "sshd[mode=ddos]", logtimezone: UTC }',
        '  mine: { filter: "asterisk[logtimezone=-0500]", sources: [asterisk] }',
      ].join("\n"),
      "tz.yaml",
    );
    expect(Object.fromEntries(c.jails.map((j) => [j.name, j.filter]))).toEqual({
      sshd: "sshd[mode=ddos, logtimezone=UTC]",
      asterisk: "asterisk[logtimezone=+0100]",
      mine: "asterisk[logtimezone=-0500]",
    });
  });

  it("a logtimezone that is no fixed offset, or an unquoted one YAML read as a number, names the key", () => {
    const named = configRejection("preset: asterisk\njails:\n  asterisk:\n    logtimezone: Europe/Paris\n");
    expect(named.location).toMatchObject({ line: 4, key: "jails.asterisk.logtimezone" });
    expect(named.message).toMatch(
      /^"Europe\/Paris" is not a zone sipwarden can place: give UTC or a fixed offset/,
    );
    const number = configRejection("preset: asterisk\ndefaults:\n  logtimezone: +0100\n");
    expect(number.location).toMatchObject({ line: 3, key: "defaults.logtimezone" });
    expect(number.message).toBe(
      'expected a zone in quotes: YAML reads an unquoted offset as the number 100 (write logtimezone: "+0100")',
    );
  });

  it("a jail reading an unknown source is refused", () => {
    const e = configRejection("preset: asterisk\njails:\n  asterisk:\n    sources: [nope]\n");
    expect(e.location).toMatchObject({ line: 4, key: "jails.asterisk.sources.0" });
    expect(e.message).toMatch(/unknown source "nope"/);
  });

  it("an unknown preset lists what was expected", () => {
    const e = configRejection("preset: trixbox\n");
    expect(e.location).toMatchObject({ line: 1, key: "preset" });
    expect(e.message).toMatch(/asterisk/);
  });

  it("YAML syntax errors carry the position", () => {
    const e = configRejection("preset: asterisk\njails: [\n");
    expect(e.code).toBe("SW_CONFIG_PARSE");
    expect(e.location.line).toBeGreaterThanOrEqual(2);
  });

  it("bad allowlist entries are refused, names and files are accepted", () => {
    expect(configRejection("allowlist: [1.2.3.4/40]\n").location).toMatchObject({
      line: 1,
      key: "allowlist.0",
    });
    const c = loadConfigText(
      "allowlist: [trunk.example.com, 'file:/etc/sipwarden/allow.txt', 2001:db8::/32]\n",
      "x",
    );
    expect(c.allowlist).toHaveLength(3);
  });

  it("duplicate keys are a parse error", () => {
    expect(configRejection("preset: asterisk\npreset: kamailio\n").code).toBe("SW_CONFIG_PARSE");
  });
});

describe("notify", () => {
  it("defaults to bans, the firewall and links, a minute's window and SMTP to 127.0.0.1:25; absent means no notifications", () => {
    expect(loadConfigText("preset: asterisk\n", "x").notify).toBeNull();
    const n = loadConfigText("preset: asterisk\nnotify:\n  email: { to: admin@example.com }\n", "x").notify;
    expect(n).toMatchObject({
      on: ["ban", "firewall", "link", "suspect"],
      batchMs: 60_000,
      linkDownAfterMs: 300_000,
      email: { to: ["admin@example.com"], via: { kind: "smtp", host: "127.0.0.1", port: 25 } },
      command: null,
    });
    expect(n?.email?.from).toMatch(/^sipwarden@/);
    const v6 = loadConfigText("notify:\n  email: { to: a@b.com, smtp: '[::1]:2525' }\n", "x").notify;
    expect(v6?.email?.via).toEqual({
      kind: "smtp",
      host: "::1",
      port: 2525,
      tls: "auto",
      auth: null,
      caFile: null,
    });
    const relay = loadConfigText(
      [
        "notify:",
        "  email:",
        "    to: a@b.com",
        "    smtp: smtp.example.com:587",
        "    smtp_tls: starttls",
        "    smtp_auth: { user: alerts@example.com, password_file: /etc/sipwarden/smtp-password }",
        "    smtp_ca: /etc/sipwarden/relay-ca.pem",
        "",
      ].join("\n"),
      "x",
    ).notify;
    expect(relay?.email?.via).toEqual({
      kind: "smtp",
      host: "smtp.example.com",
      port: 587,
      tls: "starttls",
      auth: { user: "alerts@example.com", passwordFile: "/etc/sipwarden/smtp-password" },
      caFile: "/etc/sipwarden/relay-ca.pem",
    });
    const sm = loadConfigText(
      "notify:\n  email: { to: a@b.com, sendmail: [/usr/bin/msmtp, -t] }\n",
      "x",
    ).notify;
    expect(sm?.email?.via).toEqual({ kind: "sendmail", argv: ["/usr/bin/msmtp", "-t"] });
    const hook = (w: string) => loadConfigText(`notify:\n  webhook: ${w}\n`, "x").notify?.webhook;
    expect(hook("{ url: 'https://hooks.example.net/T/B/x' }")).toEqual({
      url: { inline: "https://hooks.example.net/T/B/x" },
      format: "json",
      tokenFile: null,
    });
    // http:// to this host only (a relay on the PBX itself).
    expect(hook("{ url: 'http://[::1]:8080/x', format: slack, token_file: /etc/sipwarden/t }")).toEqual({
      url: { inline: "http://[::1]:8080/x" },
      format: "slack",
      tokenFile: "/etc/sipwarden/t",
    });
    expect(hook("{ url_file: /etc/sipwarden/hook-url }")?.url).toEqual({ file: "/etc/sipwarden/hook-url" });
  });

  it("refuses what would reach a header or a shell, at its key", () => {
    const cases: [string, RegExp, string][] = [
      ["notify:\n  on: [ban]\n", /say where to notify/, "notify"],
      ['notify:\n  email: { to: "a@b.com\\nBcc: x@y.com" }\n', /e-mail address/, "notify.email.to"],
      ["notify:\n  email: { to: a@b.com, from: 'x <y@z.com>' }\n", /e-mail address/, "notify.email.from"],
      ["notify:\n  command: [curl, https://x]\n", /absolute path/, "notify.command.0"],
      ["notify:\n  webhook: { format: slack }\n", /url or url_file/, "notify.webhook"],
      [
        "notify:\n  webhook: { url: 'https://h/x', url_file: /etc/u }\n",
        /url or url_file/,
        "notify.webhook.url_file",
      ],
      ["notify:\n  webhook: { url: 'ftp://h/x' }\n", /must be https/, "notify.webhook.url"],
      ["notify:\n  webhook: { url: 'http://[2001:db8::1]/x' }\n", /must be https/, "notify.webhook.url"],
      [
        "notify:\n  webhook: { url: 'https://h/x', format: discord }\n",
        /json|slack/,
        "notify.webhook.format",
      ],
      [
        "notify:\n  email: { to: a@b.com, sendmail: [sendmail] }\n",
        /absolute path/,
        "notify.email.sendmail.0",
      ],
      ["notify:\n  command: [/bin/true]\n  on: [unban]\n", /ban|spare/, "notify.on.0"],
      ["notify:\n  email: { to: a@b.com, smtp: 'mail server:25' }\n", /host:port/, "notify.email.smtp"],
      ["notify:\n  email: { to: a@b.com, smtp: 'localhost:99999' }\n", /out of range/, "notify.email.smtp"],
      [
        "notify:\n  email: { to: a@b.com, smtp: 'localhost:25', sendmail: [/usr/sbin/sendmail] }\n",
        /not both/,
        "notify.email.sendmail",
      ],
      [
        "notify:\n  email: { to: a@b.com, smtp: 'smtp.example.com:587', smtp_auth: { user: u } }\n",
        /password or password_file/,
        "notify.email.smtp_auth",
      ],
      [
        "notify:\n  email: { to: a@b.com, smtp: 'mx:25', smtp_auth: { user: u, password: p, password_file: /f } }\n",
        /one of them/,
        "notify.email.smtp_auth",
      ],
      [
        "notify:\n  email: { to: a@b.com, smtp: 'smtp.example.com:25', smtp_tls: none, smtp_auth: { user: u, password: p } }\n",
        /clear text/,
        "notify.email.smtp_tls",
      ],
      ["notify:\n  email: { to: a@b.com, smtp_tls: ssl }\n", /auto|starttls/, "notify.email.smtp_tls"],
      [
        "notify:\n  email: { to: a@b.com, smtp_auth: { user: u, password_file: smtp.pw } }\n",
        /absolute path/,
        "notify.email.smtp_auth.password_file",
      ],
      [
        "notify:\n  email: { to: a@b.com, sendmail: [/usr/sbin/sendmail], smtp_ca: /etc/ca.pem }\n",
        /for smtp/,
        "notify.email.smtp_ca",
      ],
    ];
    for (const [text, message, key] of cases) {
      const e = configRejection(`preset: asterisk\n${text}`);
      expect(e.message, text).toMatch(message);
      expect(e.location.key, text).toBe(key);
    }
  });
});

describe("report", () => {
  it("takes an AbuseIPDB key or key file, with defaults; refuses both, neither, and unknown categories", () => {
    expect(loadConfigText("preset: asterisk\n", "x").report).toBeNull();
    expect(
      loadConfigText("report:\n  abuseipdb: { key_file: /etc/sipwarden/abuseipdb.key }\n", "x").report,
    ).toEqual({
      abuseipdb: {
        key: { file: "/etc/sipwarden/abuseipdb.key" },
        categories: null,
        maxPerDay: 1000,
        url: "https://api.abuseipdb.com/api/v2/report",
      },
    });
    const cases: [string, RegExp, string][] = [
      ["report:\n  abuseipdb: {}\n", /key or key_file/, "report.abuseipdb"],
      ["report:\n  abuseipdb: { key: k, key_file: /k }\n", /one of them/, "report.abuseipdb"],
      ["report:\n  abuseipdb: { key: k, categories: [99] }\n", /23/, "report.abuseipdb.categories.0"],
      ["report:\n  abuseipdb: { key_file: abuse.key }\n", /absolute path/, "report.abuseipdb.key_file"],
      ["report:\n  abuseipdb: { key: k, url: 'not a url' }\n", /URL/i, "report.abuseipdb.url"],
    ];
    for (const [text, message, key] of cases) {
      const e = configRejection(`preset: asterisk\n${text}`);
      expect(e.message, text).toMatch(message);
      expect(e.location.key, text).toBe(key);
    }
  });
});

describe("http_proxy", () => {
  it("takes http://[user:password@]host:port, and says where a bad one is", () => {
    expect(loadConfigText("http_proxy: http://proxy.example:3128\n", "x").httpProxy).toBe(
      "http://proxy.example:3128",
    );
    expect(loadConfigText("preset: asterisk\n", "x").httpProxy).toBeNull();
    const e = configRejection("preset: asterisk\nhttp_proxy: proxy.example:3128\n");
    expect(e.location).toMatchObject({ line: 2, key: "http_proxy" });
  });
});
