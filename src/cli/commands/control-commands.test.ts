import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { createApiApp } from "../../api/app.js";
import { createMemoryControlServices, type MemoryControlServices } from "../../api/memory-services.js";
import { startApiServer, type ApiServer } from "../../api/server.js";
import { createManualClock } from "../../domain/clock.js";
import type { Decision } from "../../domain/decision.js";
import { isUserError } from "../../domain/errors.js";
import { packageRoot } from "../../daemon/package-root.js";
import { createRecordingIo } from "../test-io.js";
import type { Command } from "../io.js";
import { allowCommand } from "./allow.js";
import { banCommand } from "./ban.js";
import { bansCommand } from "./bans.js";
import { explainCommand, formatExplain } from "./explain.js";
import { historyCommand } from "./history.js";
import { registrationsCommand } from "./registrations.js";
import { statusCommand } from "./status.js";
import { unbanCommand } from "./unban.js";
import { userErrorText } from "../../domain/testing/user-error-text.js";
import { waitFor } from "../../sources/testing/wait-for.js";

const dir = mkdtempSync(join(tmpdir(), "sw-ctl-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const NOW = createRecordingIo().now();
const log = { info: () => {}, warn: () => {}, error: () => {} };

let services: MemoryControlServices;
let server: ApiServer;
let clock: ReturnType<typeof createManualClock>;
let n = 0;

beforeEach(async () => {
  clock = createManualClock(NOW - 5_400_000);
  services = createMemoryControlServices({
    clock,
    version: "0.1.0",
    allowlist: ["192.168.1.0/24"],
    backend: { name: "nftables", ok: true, detail: "nft v1.0.6, table inet sipwarden" },
    jails: [{ name: "asterisk", filter: "asterisk", failures: 120, bans: 3, tracked: 41 }],
    sources: [
      { id: "/var/log/asterisk/full", lines: 12345, errors: 0, lastLineAt: "2026-11-21T23:59:58.000Z" },
      { id: "journald:kamailio", lines: 0, errors: 1, lastLineAt: null },
      {
        id: "esl:127.0.0.1:8021",
        lines: 0,
        errors: 4,
        lastLineAt: null,
        link: { up: false, since: "2026-11-21T23:40:00.000Z", lastError: "auth refused" },
      },
      {
        id: "ami:127.0.0.1:5038",
        lines: 7,
        errors: 0,
        lastLineAt: "2026-11-21T23:59:00.000Z",
        link: { up: true, since: "2026-11-21T22:00:00.000Z", lastError: null },
      },
    ],
    lists: [
      {
        name: "blocklist voipbl",
        networks: 81234,
        url: "http://www.voipbl.org/update/",
        downloadedAt: "2026-11-21T20:00:00.000Z",
        downloadError: "HTTP 503",
      },
      { name: "blocklist mine", networks: 3, url: null, downloadedAt: null, downloadError: null },
      {
        name: "countries de, at",
        networks: 0,
        url: "https://www.ipdeny.com/ipblocks/data/aggregated/{cc}-aggregated.zone",
        downloadedAt: null,
        downloadError: "ENOTFOUND",
      },
    ],
    firewallNotes: [
      "firewall.countries: no networks for at (cannot read /var/lib/sipwarden/countries/at.zone (ENOENT))",
    ],
    registrations: [
      {
        source: "ami:pjsip",
        address: { family: 4, text: "203.0.113.5" },
        user: "101",
        contact: "sip:101@203.0.113.5:40001",
        seenAt: NOW - 5_400_000,
        expiresAt: NOW + 3_600_000,
      },
      {
        source: "ami:pjsip",
        address: { family: 4, text: "203.0.113.5" },
        // A user name from a SIP message: printed as inert text.
        user: "102\u001b[2J",
        seenAt: NOW - 5_400_000 - 1000,
        expiresAt: NOW + 60_000,
      },
    ],
    registrationProviders: [
      {
        id: "ami",
        up: false,
        since: "2026-11-21T23:50:00.000Z",
        lastError: "login refused",
        stats: { connects: 1, logins: 1, events: 12 },
      },
    ],
  });
  clock.set(NOW);
  server = await startApiServer(
    createApiApp(services, { log }),
    { socketPath: join(dir, `api-${n++}.sock`) },
    { log },
  );
});
afterEach(() => server.close());

/** Runs a command against the test daemon (via $SIPWARDEN_SOCKET); returns its status and output. */
async function cli(command: Command, args: string[]) {
  const io = createRecordingIo({ SIPWARDEN_SOCKET: server.socketPath });
  const code = await command(args, io);
  return { code, out: io.out(), err: io.err() };
}

async function userError(
  command: Command,
  args: string[],
  env: Record<string, string> = {},
): Promise<string> {
  return userErrorText(command(args, createRecordingIo({ SIPWARDEN_SOCKET: server.socketPath, ...env })));
}

function jailBan(target: string, at: number, ms: number, line: string): Decision {
  return {
    action: "ban",
    target,
    origin: "jail:asterisk",
    reason: "5 failures within 10m (filter asterisk)",
    scope: { kind: "service", protocols: ["udp", "tcp"], ports: [{ from: 5060, to: 5061 }] },
    at,
    durationMs: ms,
    expiresAt: at + ms,
    priorBans: 0,
    evidence: [{ time: at - 2000, source: "/var/log/asterisk/full", lineNo: 812, line }],
  };
}

describe("status", () => {
  it("shows version, uptime, backend, counts, jails, sources, lists and firewall notes", async () => {
    const r = await cli(statusCommand, []);
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      [
        "sipwarden 0.1.0, up 1h30m",
        "backend: nftables ok (nft v1.0.6, table inet sipwarden)",
        "bans in force: 0, spared: 0, allowlist: 1 entry, registrations: 2 at 1 address",
        "jails:",
        "  NAME      FILTER    FAILURES  BANS  TRACKED",
        "  asterisk  asterisk  120       3     41",
        "sources:",
        "  ID                      LINES  ERRORS  LAST LINE",
        "  /var/log/asterisk/full  12345  0       2026-11-21T23:59:58Z",
        "  journald:kamailio       0      1       -",
        "  esl:127.0.0.1:8021      0      4       -",
        "  ami:127.0.0.1:5038      7      0       2026-11-21T23:59:00Z",
        "source links: esl:127.0.0.1:8021 DOWN since 2026-11-21T23:40:00Z (auth refused); ami:127.0.0.1:5038 up since 2026-11-21T22:00:00Z",
        "lists:",
        "  NAME              NETWORKS  DOWNLOADED                                 FROM",
        "  blocklist voipbl  81234     2026-11-21T20:00:00Z (last try: HTTP 503)  http://www.voipbl.org/update/",
        "  blocklist mine    3         -                                          file",
        "  countries de, at  0         never (last try: ENOTFOUND)                https://www.ipdeny.com/ipblocks/data/aggregated/{cc}-aggregated.zone",
        "firewall note: firewall.countries: no networks for at (cannot read /var/lib/sipwarden/countries/at.zone (ENOENT))",
        "registration providers: ami DOWN since 2026-11-21T23:50:00Z (login refused)",
        "",
      ].join("\n"),
    );
    const json = JSON.parse((await cli(statusCommand, ["--json"])).out);
    expect(json.counts).toEqual({
      activeBans: 0,
      spares: 0,
      allowlist: 1,
      registrations: 2,
      registeredAddresses: 1,
    });
  });
});

describe("ban, bans, unban", () => {
  it("bans for a length, permanently, lists and unbans, CIDRs included", async () => {
    expect(await cli(bansCommand, [])).toEqual({ code: 0, out: "no bans in force\n", err: "" });
    expect((await cli(banCommand, ["203.0.113.9", "--for", "1h", "--reason", "toll fraud"])).out).toBe(
      "banned 203.0.113.9 (all ports) for 1h, until 2026-11-22T01:00:00Z (in 1h)\n",
    );
    expect((await cli(banCommand, ["2001:DB8:0::/48", "--for", "permanent"])).out).toBe(
      "banned 2001:db8::/48 (all ports) permanently\n",
    );
    // No --for: the daemon's default length for manual bans.
    expect((await cli(banCommand, ["198.51.100.0/24"])).out).toMatch(
      /^banned 198\.51\.100\.0\/24 \(all ports\) for 1h,/,
    );

    const list = await cli(bansCommand, []);
    expect(list.out).toBe(
      [
        "TARGET           ORIGIN  SCOPE      EXPIRES                             REASON",
        "203.0.113.9      manual  all ports  until 2026-11-22T01:00:00Z (in 1h)  toll fraud",
        "2001:db8::/48    manual  all ports  permanent                           banned by hand",
        "198.51.100.0/24  manual  all ports  until 2026-11-22T01:00:00Z (in 1h)  banned by hand",
        "3 bans in force (sipwarden explain <ip> shows the evidence)",
        "",
      ].join("\n"),
    );
    const json = JSON.parse((await cli(bansCommand, ["--json"])).out);
    expect(json.bans.map((b: { target: string }) => b.target)).toEqual([
      "203.0.113.9",
      "2001:db8::/48",
      "198.51.100.0/24",
    ]);

    expect(await cli(unbanCommand, ["198.51.100.0/24"])).toEqual({
      code: 0,
      out: "unbanned 198.51.100.0/24: ended 1 ban (manual)\n",
      err: "",
    });
    expect(await userError(unbanCommand, ["198.51.100.0/24"])).toBe(
      "no ban in force on 198.51.100.0/24 [SW_USAGE]",
    );
  });

  it("relays the daemon's refusal of a ban on an allowlisted address as a one-line error", async () => {
    expect(await userError(banCommand, ["192.168.1.7"])).toBe(
      "192.168.1.7 is allowlisted (192.168.1.0/24, config); allow entries win over bans [SW_USAGE]",
    );
    expect(await userError(banCommand, ["0.0.0.0/0"])).toBe(
      "refusing to ban 0.0.0.0/0: wider than /8 for IPv4 [SW_USAGE]",
    );
  });

  it.each([
    [banCommand, ["1.2.3.999"], /^ban: "1\.2\.3\.999" is not an IP address or CIDR \(usage: sipwarden ban /],
    [
      banCommand,
      ["10.1.2.3/8"],
      /^ban: "10\.1\.2\.3\/8" has host bits set \(the network is 10\.0\.0\.0\/8\)/,
    ],
    [
      banCommand,
      ["1.2.3.4", "--for", "soon"],
      /^ban: bad duration "soon" \(e\.g\. 90s, 30m, 1h, 2d, permanent\)/,
    ],
    [banCommand, ["1.2.3.4", "--for", "0s"], /^ban: bad duration "0s"/],
    [banCommand, [], /^ban: name an IP or CIDR \(usage: /],
    [banCommand, ["1.2.3.4", "5.6.7.8"], /^ban: wrong number of arguments/],
    [banCommand, ["1.2.3.4", "--forever"], /^ban: Unknown option '--forever'/],
    [unbanCommand, ["host.example"], /^unban: "host\.example" is not an IP address or CIDR/],
    [unbanCommand, [], /^unban: name an IP or CIDR/],
    [allowCommand, ["1.2.3.4", "--for", "-1h"], /^allow: /],
    [allowCommand, ["::1/129"], /^allow: "::1\/129" is not an IP address or CIDR/],
    [
      explainCommand,
      ["1.2.3.0/24"],
      /^explain: "1\.2\.3\.0\/24" is not an IP address \(usage: sipwarden explain <ip>/,
    ],
    [explainCommand, [], /^explain: name an IP address/],
    [bansCommand, ["extra"], /^bans: wrong number of arguments/],
    [statusCommand, ["--verbose"], /^status: Unknown option/],
  ] as [Command, string[], RegExp][])(
    "bad arguments %#: a one-line SW_USAGE error",
    async (command, args, re) => {
      const message = await userError(command, args, { SIPWARDEN_SOCKET: join(dir, "nowhere.sock") });
      expect(message).toMatch(re);
      expect(message).toMatch(/\[SW_USAGE\]$/);
      expect(message).not.toContain("\n");
    },
  );
});

describe("allow", () => {
  it("allowlists for a time and lifts the bans it covers", async () => {
    services.record([jailBan("198.51.100.7", NOW - 60_000, 600_000, "x")]);
    expect((await cli(allowCommand, ["198.51.100.0/24", "--for", "1d"])).out).toBe(
      "allowed 198.51.100.0/24 for 1d, until 2026-11-23T00:00:00Z (in 1d); lifted 1 ban: 198.51.100.7 (jail:asterisk)\n",
    );
    expect((await cli(allowCommand, ["2001:db8::5"])).out).toBe("allowed 2001:db8::5 until removed\n");
    expect((await cli(bansCommand, [])).out).toBe("no bans in force\n");
  });

  it("--remove takes a hand-made entry away, and says why it cannot when the config's covers the address", async () => {
    await cli(allowCommand, ["198.51.100.0/24", "--for", "1d"]);
    expect((await cli(allowCommand, ["--remove", "198.51.100.0/24"])).out).toBe(
      "removed the allow entry on 198.51.100.0/24 (it was until 2026-11-23T00:00:00Z (in 1d)); bans may follow again\n",
    );
    expect(await userError(allowCommand, ["--remove", "198.51.100.0/24"])).toMatch(
      /^no allow entry made by hand on 198\.51\.100\.0\/24 \[/,
    );
    expect(await userError(allowCommand, ["--remove", "192.168.1.7"])).toMatch(
      /^no allow entry made by hand on 192\.168\.1\.7; it is allowed by 192\.168\.1\.0\/24 \(config\) \[/,
    );
    expect(await userError(allowCommand, ["--remove", "192.168.1.7", "--for", "1d"])).toMatch(
      /--remove takes no --for/,
    );
  });
});

describe("allow --list, registrations", () => {
  it("lists the hand-made allow entries with their ends, then the config's", async () => {
    await cli(allowCommand, ["198.51.100.0/24", "--for", "1d"]);
    expect(await cli(allowCommand, ["--list"])).toEqual({
      code: 0,
      out: [
        "NETWORK          NAME  ORIGIN  WHERE            ENDS",
        "198.51.100.0/24        manual  allowed by hand  until 2026-11-23T00:00:00Z (in 1d)",
        "192.168.1.0/24         config  config",
        "2 allow entries, 1 made by hand (sipwarden allow --remove <ip|cidr> takes one away)",
        "",
      ].join("\n"),
      err: "",
    });
    const json = JSON.parse((await cli(allowCommand, ["--list", "--json"])).out);
    expect(json.entries.map((e: { network: string }) => e.network)).toEqual([
      "198.51.100.0/24",
      "192.168.1.0/24",
    ]);
    expect(await userError(allowCommand, ["--list", "10.0.0.1"])).toMatch(/--list takes no target/);
    expect(await userError(allowCommand, ["10.0.0.1", "--json"])).toMatch(/--json goes with --list/);
  });

  it("lists the live registrations, newest seen first, filtered by address, text and limit", async () => {
    expect(await cli(registrationsCommand, [])).toEqual({
      code: 0,
      out: [
        "ADDRESS      USER          SOURCE     SEEN                  EXPIRES               CONTACT",
        "203.0.113.5  101           ami:pjsip  2026-11-21T22:30:00Z  2026-11-22T01:00:00Z  sip:101@203.0.113.5:40001",
        "203.0.113.5  102\\u001b[2J  ami:pjsip  2026-11-21T22:29:59Z  2026-11-22T00:01:00Z",
        "2 live registrations; their addresses are not banned for one phone's failures",
        "provider ami DOWN since 2026-11-21T23:50:00Z (login refused): connects 1, logins 1, events 12",
        "",
      ].join("\n"),
      err: "",
    });
    const r = await cli(registrationsCommand, [
      "--address",
      "203.0.113.0/24",
      "--match",
      "10",
      "--limit",
      "1",
    ]);
    expect(r.out.split("\n").slice(1, 3)).toEqual([
      "203.0.113.5  101   ami:pjsip  2026-11-21T22:30:00Z  2026-11-22T01:00:00Z  sip:101@203.0.113.5:40001",
      "2 live registrations, the 1 seen last shown (--limit); their addresses are not banned for one phone's failures",
    ]);
    expect((await cli(registrationsCommand, ["--address", "198.51.100.0/24"])).out).toBe(
      "no live registrations\nprovider ami DOWN since 2026-11-21T23:50:00Z (login refused): connects 1, logins 1, events 12\n",
    );
    const json = JSON.parse((await cli(registrationsCommand, ["--json", "--match", "102"])).out);
    expect(json.total).toBe(1);
    expect(await userError(registrationsCommand, ["--address", "10.1.2.3/8"])).toMatch(/host bits set/);
    expect(await userError(registrationsCommand, ["--limit", "0"])).toMatch(/--limit takes a whole number/);
  });
});

describe("history", () => {
  it("lists the last day's decisions newest first with where each stands now, filtered", async () => {
    expect((await cli(historyCommand, [])).out).toBe("no decisions since 2026-11-21T00:00:00Z\n");
    services.record([
      jailBan("198.51.100.7", NOW - 3_600_000, 7_200_000, "old"),
      jailBan("198.51.100.8", NOW - 60_000, 600_000, "new"),
      {
        ...jailBan("192.168.1.9", NOW - 30_000, 0, "x"),
        action: "spare",
        reason: "allowlisted by 192.168.1.0/24",
      },
    ]);
    await cli(unbanCommand, ["198.51.100.7"]);
    expect((await cli(historyCommand, [])).out).toBe(
      [
        "AT                    ACTION  TARGET        ORIGIN         NOW                                          REASON",
        "2026-11-21T23:59:30Z  spare   192.168.1.9   jail:asterisk  spared                                       allowlisted by 192.168.1.0/24",
        "2026-11-21T23:59:00Z  ban     198.51.100.8  jail:asterisk  in force until 2026-11-22T00:09:00Z (in 9m)  5 failures within 10m (filter asterisk)",
        "2026-11-21T23:00:00Z  ban     198.51.100.7  jail:asterisk  ended 2026-11-22T00:00:00Z by manual         5 failures within 10m (filter asterisk)",
        "3 decisions since 2026-11-21T00:00:00Z, newest first (sipwarden explain <ip> shows the evidence)",
        "",
      ].join("\n"),
    );
    const filtered = ["--since", "2h", "--action", "ban", "--origin", "jail:", "--limit", "1"];
    const r = await cli(historyCommand, filtered);
    expect(r.out.split("\n").slice(1)).toEqual([
      "2026-11-21T23:59:00Z  ban     198.51.100.8  jail:asterisk  in force until 2026-11-22T00:09:00Z (in 9m)  5 failures within 10m (filter asterisk)",
      `1 decision since 2026-11-21T22:00:00Z, newest first; more were made: the same options with --before ${NOW - 60_000}.2 (sipwarden explain <ip> shows the evidence)`,
      "",
    ]);
    // The next page, by the cursor that footer named.
    const older = await cli(historyCommand, [...filtered, "--before", `${NOW - 60_000}.2`]);
    expect(older.out.split("\n").slice(1)).toEqual([
      "2026-11-21T23:00:00Z  ban     198.51.100.7  jail:asterisk  ended 2026-11-22T00:00:00Z by manual  5 failures within 10m (filter asterisk)",
      "1 decision since 2026-11-21T22:00:00Z, newest first (sipwarden explain <ip> shows the evidence)",
      "",
    ]);
    // In the order recorded, from a decision's id on: what an export reads, and where to go on.
    expect((await cli(historyCommand, ["--after", "1", "--limit", "1"])).out).toBe(
      [
        "ID  AT                    ACTION  TARGET        ORIGIN         NOW                                          REASON",
        "2   2026-11-21T23:59:00Z  ban     198.51.100.8  jail:asterisk  in force until 2026-11-22T00:09:00Z (in 9m)  5 failures within 10m (filter asterisk)",
        "1 decision recorded after the one asked for, in the order recorded; more: --after 2",
        "",
      ].join("\n"),
    );
    expect((await cli(historyCommand, ["--after", "3"])).out).toBe(
      "0 decisions recorded after the one asked for, in the order recorded; the next ones: --after 3\n",
    );
    expect((await cli(historyCommand, ["--after", "0", "--since", "2h"])).out.split("\n").at(-2)).toBe(
      "3 decisions recorded after the one asked for, in the order recorded (taken since 2026-11-21T22:00:00Z); the next ones: --after 3",
    );
    expect(await userError(historyCommand, ["--before", "yesterday"])).toMatch(/--before takes the cursor/);
    expect(await userError(historyCommand, ["--after", "x"])).toMatch(/--after takes a decision's id/);
    expect(await userError(historyCommand, ["--after", "1", "--before", "1.1"])).toMatch(
      /--before and --after: one or the other/,
    );
    const json = JSON.parse((await cli(historyCommand, ["--json", "--since", "2026-11-21T23:30:00Z"])).out);
    expect(json.decisions.map((d: { target: string }) => d.target)).toEqual(["192.168.1.9", "198.51.100.8"]);
    expect(await userError(historyCommand, ["--since", "yesterday"])).toMatch(/--since takes a length back/);
    expect(await userError(historyCommand, ["--action", "unban"])).toMatch(/--action takes ban or spare/);
  });
});

describe("history --follow", () => {
  it("prints each decision as it is recorded, from now, until a signal, and asks again through a daemon restart", async () => {
    services.record([jailBan("198.51.100.1", NOW - 60_000, 600_000, "before")]);
    // Counts the daemon's answers to GET /v1/decisions: the follower's first look, then its polls.
    let asked = 0;
    const list = services.recentDecisions.bind(services);
    services.recentDecisions = async (q) => {
      asked++;
      return list(q);
    };
    const io = createRecordingIo({ SIPWARDEN_SOCKET: server.socketPath });
    const done = historyCommand(["--follow", "--interval", "1s"], io);
    await waitFor(() => asked >= 2, "the follower's first poll", 5000);
    services.record([jailBan("198.51.100.2", NOW - 30_000, 600_000, "now")]);
    await waitFor(() => io.out().includes("198.51.100.2"), "the new decision printed", 5000);
    expect(io.out()).toMatch(
      /^#2 {2}2026-11-21T23:59:30Z {2}ban {2}198\.51\.100\.2 {2}jail:asterisk {2}in force until 2026-11-22T00:09:30Z \(in 9m30s\) {2}5 failures within 10m \(filter asterisk\)\n$/,
    );
    // The daemon goes away: said once; a decision recorded meanwhile is printed once it is back.
    const socketPath = server.socketPath;
    await server.close();
    services.record([jailBan("198.51.100.3", NOW - 10_000, 600_000, "while away")]);
    await waitFor(() => /asking again every 1s/.test(io.err()), "the follower's word on it", 5000);
    server = await startApiServer(createApiApp(services, { log }), { socketPath }, { log });
    await waitFor(() => io.out().includes("198.51.100.3"), "the decision recorded while away", 5000);
    expect(io.err().split("\n").filter(Boolean)).toHaveLength(1);
    io.signal();
    expect(await done).toBe(0);
    expect(io.out()).not.toContain("198.51.100.1");
    expect(io.out().match(/^#\d+/gm)).toEqual(["#2", "#3"]);
  });

  it("--json: one object a line, from a decision's id on; a bad option is refused before anything", async () => {
    services.record([
      jailBan("198.51.100.1", NOW - 60_000, 600_000, "a"),
      jailBan("198.51.100.2", NOW - 50_000, 600_000, "b"),
      jailBan("198.51.100.3", NOW - 40_000, 600_000, "c"),
    ]);
    const io = createRecordingIo({ SIPWARDEN_SOCKET: server.socketPath });
    const done = historyCommand(["--follow", "--after", "1", "--json", "--action", "ban"], io);
    await waitFor(() => io.out().split("\n").length >= 3, "two lines", 5000);
    io.signal();
    expect(await done).toBe(0);
    const lines = io
      .out()
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as { id: number; target: string });
    expect(lines.map((d) => [d.id, d.target])).toEqual([
      [2, "198.51.100.2"],
      [3, "198.51.100.3"],
    ]);
    expect(await userError(historyCommand, ["--follow", "--interval", "100ms"])).toMatch(
      /--interval takes a length from 1s to 1h/,
    );
    expect(await userError(historyCommand, ["--follow", "--before", "1.1"])).toMatch(
      /Unknown option '--before'/,
    );
    expect(await userError(historyCommand, ["--follow", "--origin", "jail asterisk"])).toMatch(
      /--origin takes/,
    );
  });
});

describe("explain", () => {
  it("names the ban, its rule, expiry and evidence, printing log text as inert data", async () => {
    const hostile = "Registration from '\"\u001b[2J\u202eevil\" <sip:100@x>' failed for '198.51.100.7:5060'";
    services.record([
      jailBan("198.51.100.7", NOW - 7_200_000, 600_000, "old line"),
      jailBan("198.51.100.7", NOW - 60_000, 600_000, hostile),
    ]);
    const r = await cli(explainCommand, ["198.51.100.7"]);
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      [
        "198.51.100.7 is BLOCKED",
        "  ban by jail:asterisk on 198.51.100.7 (udp/tcp 5060-5061), until 2026-11-22T00:09:00Z (in 9m)",
        "    reason: 5 failures within 10m (filter asterisk)",
        "    evidence (log text quoted as written):",
        String.raw`      2026-11-21T23:58:58Z /var/log/asterisk/full:812 "Registration from '\"\u001b[2J\u202eevil\" <sip:100@x>' failed for '198.51.100.7:5060'"`,
        "history (newest first):",
        "  2026-11-21T22:00:00Z ban jail:asterisk on 198.51.100.7: 5 failures within 10m (filter asterisk) (expired 2026-11-21T22:10:00Z)",
        "    evidence (log text quoted as written):",
        `      2026-11-21T21:59:58Z /var/log/asterisk/full:812 "old line"`,
        "",
      ].join("\n"),
    );
    // Nothing that could steer a terminal reaches it.
    expect(r.out).not.toContain("\u001b");
    expect(r.out).not.toContain("\u202e");
    const json = JSON.parse((await cli(explainCommand, ["198.51.100.7", "--json"])).out);
    expect(json.because[0].evidence[0].line).toBe(hostile);
  });

  it("says when the allowlist wins, and when nothing covers the address", async () => {
    services.record([jailBan("192.168.0.0/16", NOW, 600_000, "x")]);
    const allowed = await cli(explainCommand, ["192.168.1.20"]);
    expect(allowed.out).toBe(
      [
        "192.168.1.20 is ALLOWED (allow entries win over every ban and feed)",
        "  allowlist entry 192.168.1.0/24 (config)",
        "    detail: allowlisted in the config",
        "  ban by jail:asterisk on 192.168.0.0/16 (udp/tcp 5060-5061), until 2026-11-22T00:10:00Z (in 10m) — not enforced for this address",
        "    reason: 5 failures within 10m (filter asterisk)",
        "    evidence (log text quoted as written):",
        `      2026-11-21T23:59:58Z /var/log/asterisk/full:812 "x"`,
        "",
      ].join("\n"),
    );
    expect((await cli(explainCommand, ["[2001:db8::1]"])).out).toBe(
      "2001:db8::1 is NOT BLOCKED\n  no ban, feed entry, country restriction or allowlist entry covers it\n",
    );
  });
});

describe("formatExplain", () => {
  it("prints a feed's scope and a country restriction as what blocks the address", () => {
    const text = formatExplain(
      {
        address: "8.8.8.8",
        verdict: "blocked",
        because: [
          {
            kind: "feed",
            origin: "feed:voipbl",
            detail: "listed by feed voipbl (8.8.8.0/24)",
            target: "8.8.8.0/24",
            scope: { kind: "service", protocols: ["tcp", "udp"], ports: [{ from: 5060, to: 5061 }] },
          },
          {
            kind: "restriction",
            origin: "restriction:countries",
            detail:
              "sip, sip-tls are open only to countries de, at, and no list of theirs holds this address",
            scope: { kind: "service", protocols: ["tcp", "udp"], ports: [{ from: 5060, to: 5061 }] },
          },
        ],
        history: [],
      },
      NOW,
    );
    expect(text).toBe(
      [
        "8.8.8.8 is BLOCKED",
        "  listed by feed:voipbl in 8.8.8.0/24 (tcp/udp 5060-5061)",
        "    reason: listed by feed voipbl (8.8.8.0/24)",
        "  outside the countries allowed (tcp/udp 5060-5061)",
        "    reason: sip, sip-tls are open only to countries de, at, and no list of theirs holds this address",
        "",
      ].join("\n"),
    );
  });

  it("prints feeds, registrations, trusted zones and spares", () => {
    const text = formatExplain(
      {
        address: "45.0.1.2",
        verdict: "allowed",
        because: [
          {
            kind: "trusted-zone",
            origin: "config",
            detail: "trusted zone trunk (45.0.1.0/28) is never banned",
            target: "45.0.1.0/28",
          },
          {
            kind: "feed",
            origin: "feed:voipbl",
            detail: "listed by feed voipbl (45.0.0.0/16)",
            target: "45.0.0.0/16",
            expiresAt: null,
          },
          { kind: "registration", origin: "ami", detail: "2 live registrations: 1001, 1002" },
        ],
        history: [
          {
            action: "spare",
            target: "45.0.1.2",
            origin: "jail:asterisk",
            reason: "spared: live registration",
            scope: { kind: "all" },
            at: "2026-11-21T10:00:00.123Z",
            expiresAt: null,
            endedAt: null,
            endedBy: null,
            evidence: [],
          },
        ],
      },
      NOW,
    );
    expect(text).toBe(
      [
        "45.0.1.2 is ALLOWED (allow entries win over every ban and feed)",
        "  trusted zone 45.0.1.0/28 (config)",
        "    detail: trusted zone trunk (45.0.1.0/28) is never banned",
        "  listed by feed:voipbl in 45.0.0.0/16, permanent — not enforced for this address",
        "    reason: listed by feed voipbl (45.0.0.0/16)",
        "  live registration (ami)",
        "    detail: 2 live registrations: 1001, 1002",
        "history (newest first):",
        "  2026-11-21T10:00:00Z spare jail:asterisk on 45.0.1.2: spared: live registration (not banned)",
        "",
      ].join("\n"),
    );
  });
});

describe("talking to a daemon that is not there", () => {
  it("--socket and $SIPWARDEN_SOCKET choose the socket; a missing one is a one-line error", async () => {
    const missing = join(dir, "missing.sock");
    expect(await userError(statusCommand, ["--socket", missing])).toBe(
      `sipwarden is not running (no socket at ${missing}) [SW_USAGE]`,
    );
    expect(await userError(bansCommand, [], { SIPWARDEN_SOCKET: missing })).toBe(
      `sipwarden is not running (no socket at ${missing}) [SW_USAGE]`,
    );
    // --socket wins over the environment.
    const io = createRecordingIo({ SIPWARDEN_SOCKET: missing });
    expect(await bansCommand(["--socket", server.socketPath], io)).toBe(0);
  });

  it("a daemon failure is not a user error (main prints it as a bug, exit 1)", async () => {
    services.status = async () => {
      throw new Error("boom");
    };
    const e = await statusCommand([], createRecordingIo({ SIPWARDEN_SOCKET: server.socketPath })).catch(
      (x: unknown) => x,
    );
    expect(isUserError(e)).toBe(false);
    expect((e as Error).message).toBe("the daemon failed (HTTP 500): internal error; see the daemon's log");
  });

  it("the built CLI exits 2 with one line on stderr", () => {
    const main = join(packageRoot(), "dist", "cli", "main.js");
    if (!existsSync(main)) throw new Error(`${main} is missing: run "npm run build" (npm test does) first`);
    const socket = join(dir, "nonexistent.sock");
    const r = spawnSync(process.execPath, [main, "explain", "1.2.3.4", "--socket", socket], {
      encoding: "utf8",
    });
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(`sipwarden: sipwarden is not running (no socket at ${socket}) [SW_USAGE]\n`);
    expect(r.status).toBe(2);
    const bad = spawnSync(process.execPath, [main, "ban", "1.2.3", "--socket", socket], { encoding: "utf8" });
    expect(bad.stderr.trim().split("\n")).toHaveLength(1);
    expect(bad.status).toBe(2);
  });
});
