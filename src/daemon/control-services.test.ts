import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Config } from "../config/config.js";
import { loadConfigText } from "../config/load.js";
import { parseCidr, parseIp } from "../domain/address.js";
import { createManualClock } from "../domain/clock.js";
import { waitFor } from "../sources/testing/wait-for.js";
import { startAmiTestServer } from "../../test/registrations/ami-server.js";
import { renderMetrics } from "../api/metrics.js";
import { createDaemonServices } from "./control-services.js";
import { startDryRunDaemon } from "./testing/dry-run-daemon.js";

const dir = mkdtempSync(join(tmpdir(), "sw-ctl-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const stamp = (): string => new Date().toISOString().slice(0, 19).replace("T", " ");
const failure = (ip: string): string =>
  `[${stamp()}] NOTICE[1] res_pjsip/pjsip_distributor.c: Request 'REGISTER' from '<sip:1001@pbx>' failed for '${ip}:5060' (callid: x) - Failed to authenticate\n`;

/**
 * A config whose one log source `pbx` is a new empty file read by the asterisk jail (`jail`: more of its
 * options), with `extra` top-level lines; its state in its own directory.
 */
function pbxConfig(
  name: string,
  jail: string,
  extra: readonly string[] = [],
): { config: Config; log: string } {
  const log = join(dir, `${name}.log`);
  writeFileSync(log, "");
  const text = [
    `state_dir: ${join(dir, `state-${name}`)}`,
    ...extra,
    "sources:",
    `  pbx: { type: file, path: ${log} }`,
    "jails:",
    `  asterisk: { filter: asterisk, sources: [pbx]${jail} }`,
  ].join("\n");
  return { config: loadConfigText(text, `${name}.yaml`), log };
}

const start = startDryRunDaemon;

describe("daemon control services (dry-run firewall)", () => {
  it("status shares one backend health check per 2 s among its requests (a Prometheus scrape queues no ban)", async () => {
    const { daemon } = await start(pbxConfig("health", "").config);
    try {
      let checks = 0;
      const backend = daemon.backend as { health: typeof daemon.backend.health };
      const real = backend.health.bind(daemon.backend);
      backend.health = () => (checks++, real());
      const clock = createManualClock(Date.now());
      const services = createDaemonServices(daemon, { version: "test", defaultBanMs: 60_000 }, { clock });
      await Promise.all([services.status(), services.status(), services.status()]);
      clock.advance(1999);
      await services.status();
      expect(checks).toBe(1);
      clock.advance(1);
      expect((await services.status()).backend.ok).toBe(true);
      expect(checks).toBe(2);
    } finally {
      await daemon.stop();
    }
  });

  it("bans and unbans by hand, explains why, and lets an allow entry lift a ban", async () => {
    const { config, log } = pbxConfig("manual", ", maxretry: 2", ["allowlist: [192.168.1.0/24]"]);
    const { daemon, services } = await start(config);
    try {
      appendFileSync(log, failure("203.0.113.8").repeat(2));
      await waitFor(async () => (await services.listBans()).length === 1, "a jail ban");

      const why = await services.explain(parseIp("203.0.113.8")!);
      expect(why.verdict).toBe("blocked");
      expect(why.because[0]).toMatchObject({ kind: "decision", origin: "jail:asterisk" });
      expect(why.because[0]!.evidence).toHaveLength(2);

      const manual = await services.ban({
        target: parseCidr("198.51.100.77")!,
        forMs: undefined,
        reason: "seen in CDRs",
      });
      expect(manual).toMatchObject({ target: "198.51.100.77", origin: "manual", reason: "seen in CDRs" });
      expect((await daemon.backend.listBans()).map((b) => b.target).sort()).toEqual([
        "198.51.100.77",
        "203.0.113.8",
      ]);

      await expect(
        services.ban({ target: parseCidr("192.168.1.9")!, forMs: null, reason: undefined }),
      ).rejects.toThrow(/allowlisted by 192\.168\.1\.0\/24/);

      expect((await services.unban(parseCidr("198.51.100.77")!)).map((b) => b.target)).toEqual([
        "198.51.100.77",
      ]);
      expect((await daemon.backend.listBans()).map((b) => b.target)).toEqual(["203.0.113.8"]);

      const allowed = await services.allow({ target: parseCidr("203.0.113.0/24")!, forMs: undefined });
      expect(allowed.unbanned.map((b) => b.target)).toEqual(["203.0.113.8"]);
      // Removed and added again: the entry leaves the allow file (and the kernel's allow set) and comes back.
      expect(await services.unallow(parseCidr("203.0.113.0/24")!)).toEqual({
        removed: [{ target: "203.0.113.0/24", expiresAt: null }],
      });
      expect((await services.explain(parseIp("203.0.113.8")!)).verdict).not.toBe("allowed");
      await expect(services.unallow(parseCidr("192.168.1.7")!)).rejects.toThrow(
        /no allow entry made by hand on 192\.168\.1\.7; it is allowed by 192\.168\.1\.0\/24/,
      );
      await services.allow({ target: parseCidr("203.0.113.0/24")!, forMs: undefined });
      expect(await daemon.backend.listBans()).toEqual([]);
      const now = await services.explain(parseIp("203.0.113.8")!);
      expect(now.verdict).toBe("allowed");
      expect(now.history[0]).toMatchObject({ origin: "jail:asterisk", endedBy: "allow" });

      const status = await services.status();
      expect(status.jails).toEqual([
        { name: "asterisk", filter: "asterisk", failures: 2, bans: 1, tracked: 0, echoes: 0 },
      ]);
      expect(status.counts.activeBans).toBe(0);
      expect(status.sources[0]).toMatchObject({ id: log, lines: 2 });

      // The day's decisions from the state database, newest first, each as it stands now.
      const recent = await services.recentDecisions({ limit: 10 });
      expect(recent.decisions.map((d) => [d.target, d.origin, d.inForce, d.endedBy])).toEqual([
        ["198.51.100.77", "manual", false, "manual"],
        ["203.0.113.8", "jail:asterisk", false, "allow"],
      ]);
      expect(recent.more).toBe(false);
      const jailOnly = await services.recentDecisions({ limit: 1, origin: "jail:", action: "ban" });
      expect(jailOnly.decisions.map((d) => d.target)).toEqual(["203.0.113.8"]);
      expect(jailOnly.decisions[0]!.evidence).toHaveLength(2);
      // From the database in the order recorded: an export's read, and where it goes on from.
      const exported = await services.recentDecisions({ limit: 10, after: 0 });
      expect(exported.order).toBe("recorded");
      expect(exported.decisions.map((d) => d.target)).toEqual(["203.0.113.8", "198.51.100.77"]);
      expect(exported.next).toBe(String(exported.decisions[1]!.id));
      expect(exported.lastId).toBe(exported.decisions[1]!.id);
      const onward = await services.recentDecisions({ limit: 10, after: exported.decisions[0]!.id });
      expect(onward.decisions.map((d) => d.target)).toEqual(["198.51.100.77"]);
      // Newest first, a page of one and the next by its cursor.
      const top = await services.recentDecisions({ limit: 1 });
      expect(top.next).toBe(`${Date.parse(top.decisions[0]!.at)}.${top.decisions[0]!.id}`);
      const [at, id] = top.next!.split(".").map(Number);
      const below = await services.recentDecisions({ limit: 1, before: { at: at!, id: id! } });
      expect([below.decisions.map((d) => d.target), below.more, below.next]).toEqual([
        ["203.0.113.8"],
        false,
        null,
      ]);
    } finally {
      await daemon.stop();
    }
  });

  it("lists every allow entry (by hand, config, file, zone, host) and the live registrations with their providers", async () => {
    const allowFile = join(dir, "allow-list.txt");
    writeFileSync(allowFile, "# the branch offices\n10.9.0.0/16\nnot-an-address\n");
    // A live-registration provider for real: the daemon's AMI link to a protocol-level AMI server.
    const inAnHour = Math.floor(Date.now() / 1000) + 3600;
    const ami = await startAmiTestServer({
      username: "sipwarden",
      secret: "s3cret",
      contacts: [
        { aor: "301", endpoint: "301", uri: "sip:301@198.51.100.40:5060", expirationTime: inAnHour },
      ],
      peers: [],
    });
    const { config } = pbxConfig("listing", "", [
      "registrations:",
      `  ami: { host: 127.0.0.1, port: ${ami.port}, username: sipwarden, secret: s3cret }`,
      `allowlist: [192.168.1.0/24, "file:${allowFile}"]`,
      "firewall:",
      "  zones:",
      "    office: { networks: [10.20.0.0/16], services: [ssh] }",
      "  hosts:",
      "    carrier: { addresses: [203.0.113.10], services: [sip] }",
    ]);
    const started = await start(config).catch(async (e: unknown) => {
      await ami.close();
      throw e;
    });
    const { daemon, services } = started;
    try {
      await services.allow({ target: parseCidr("198.51.100.0/24")!, forMs: 3_600_000 });
      const { entries, problems } = await services.listAllows();
      expect(entries.map((e) => [e.network, e.origin, e.detail])).toEqual([
        ["198.51.100.0/24", "manual", "allowed by hand"],
        ["192.168.1.0/24", "config", "config"],
        ["10.20.0.0/16", "config", "zone office"],
        ["203.0.113.10", "config", "zone carrier"],
        ["10.9.0.0/16", "config", `${allowFile}:2`],
      ]);
      expect(Date.parse(entries[0]!.expiresAt!) - Date.parse(entries[0]!.addedAt!)).toBe(3_600_000);
      expect(problems).toEqual([
        expect.objectContaining({ entry: "not-an-address", where: `${allowFile}:3` }),
      ]);

      await waitFor(
        async () => (await services.listRegistrations({ limit: 10 })).total === 1,
        "the AMI listing",
      );
      const now = Date.now();
      const upsert = (source: string, address: string, user: string): void => {
        daemon.registry.upsert({ source, address, user, expiresAt: now + 600_000 });
      };
      upsert("kamailio", "198.51.100.20", "office-1");
      upsert("kamailio", "198.51.100.20", "office-2");
      upsert("kamailio", "2001:db8::5", "alice");
      const list = await services.listRegistrations({ limit: 10 });
      expect(list.total).toBe(4);
      expect(list.registrations.map((r) => `${r.address} ${r.user} ${r.source}`).sort()).toEqual([
        "198.51.100.20 office-1 kamailio",
        "198.51.100.20 office-2 kamailio",
        "198.51.100.40 301 ami:pjsip",
        "2001:db8::5 alice kamailio",
      ]);
      const v6 = await services.listRegistrations({ network: parseCidr("2001:db8::/32")!, limit: 10 });
      expect(v6.registrations.map((r) => r.user)).toEqual(["alice"]);
      expect(list.providers).toEqual([
        {
          id: "ami",
          up: true,
          since: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
          lastError: null,
          stats: expect.objectContaining({ connects: 1, logins: 1 }),
        },
      ]);
      const status = await services.status();
      expect([status.counts.registrations, status.counts.registeredAddresses]).toEqual([4, 3]);
      expect(status.registrationProviders?.map((p) => [p.id, p.up])).toEqual([["ami", true]]);
      // The PBX goes away: the provider is down, says why, and the metric an alert watches says 0.
      await ami.close();
      await waitFor(
        async () => (await services.status()).registrationProviders?.[0]?.up === false,
        "ami down",
      );
      const down = (await services.status()).registrationProviders?.[0];
      expect(down?.lastError).not.toBeNull();
      expect(renderMetrics(await services.status())).toContain(
        'sipwarden_registration_provider_up{provider="ami"} 0',
      );
    } finally {
      await daemon.stop();
      await ami.close();
    }
  });

  it("imports bans another tool enforced: in the kernel, not for a registered customer or an allowed network", async () => {
    const { config } = pbxConfig("import", "", ["allowlist: [192.168.1.0/24]"]);
    const { daemon, services } = await start(config);
    try {
      const now = Date.now();
      daemon.registry.upsert({
        source: "kamailio",
        address: "198.51.100.20",
        user: "office",
        expiresAt: now + 600_000,
      });
      const imported = (target: string, expiresAt: number | null) => ({
        target: parseCidr(target)!,
        at: now - 60_000,
        expiresAt,
        reason: "imported from fail2ban: jail asterisk",
        priorBans: 1,
        evidence: [{ time: now - 60_000, source: "fail2ban:asterisk", line: `failed for '${target}:5060'` }],
      });
      const r = await services.importBans([
        imported("203.0.113.5", now + 3_540_000),
        imported("203.0.113.5", null),
        imported("198.51.100.20", now + 3_540_000),
        imported("192.168.1.9", null),
      ]);
      expect(r).toEqual({
        imported: 1,
        skipped: [
          { target: "198.51.100.20", why: "spared: a registered customer's address (office)" },
          { target: "192.168.1.9", why: "spared: 192.168.1.0/24 (config)" },
        ],
      });
      expect(await daemon.backend.listBans()).toEqual([
        expect.objectContaining({ target: "203.0.113.5", expiresAt: null }),
      ]);
      const [ban] = await services.listBans();
      expect(ban).toMatchObject({
        origin: "manual",
        expiresAt: null,
        evidence: [{ source: "fail2ban:asterisk" }],
      });
      // Escalation goes on from fail2ban's count.
      expect(daemon.store.activeDecisions(Date.now())[0]?.priorBans).toBe(1);
    } finally {
      await daemon.stop();
    }
  });

  it("reports its jail bans to AbuseIPDB (a stand-in on loopback), not the manual ones, and shows how it fares", async () => {
    const forms: Record<string, string>[] = [];
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString("utf8")));
      req.on("end", () => {
        forms.push({ ...Object.fromEntries(new URLSearchParams(body)), key: String(req.headers.key) });
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v2/report`;
    const { config, log } = pbxConfig("report", ", maxretry: 2", [
      `report: { abuseipdb: { key: inline-key, url: "${url}" } }`,
    ]);
    const { daemon, services } = await start(config);
    try {
      appendFileSync(log, failure("45.83.64.1").repeat(2));
      await services.ban({ target: parseCidr("45.83.64.2")!, forMs: undefined, reason: "by hand" });
      await waitFor(() => forms.length === 1, "the report");
      expect(forms[0]).toMatchObject({ ip: "45.83.64.1", categories: "8,18", key: "inline-key" });
      expect(forms[0]?.comment).toMatch(/^2 failures in 10m \(asterisk\) \(sipwarden\)$/);
      // Counted once the service's answer is read.
      await waitFor(
        async () => (await services.status()).notifications?.[0]?.sent === 1,
        "the report counted",
      );
      const status = await services.status();
      expect(status.notifications).toEqual([
        { via: "abuseipdb", sent: 1, failed: 0, skipped: 0, lastAt: expect.any(String), lastError: null },
      ]);
    } finally {
      await daemon.stop();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it("explains a blocklist entry and a country restriction from the policy it applied, and follows a reload", async () => {
    const lists = join(dir, "lists");
    mkdirSync(lists, { recursive: true });
    writeFileSync(join(lists, "voipbl.txt"), "# VoIPBL\n45.134.26.0/24\n");
    writeFileSync(join(lists, "de.zone"), "2.160.0.0/12\n2001:67c::/32\n");
    const yaml = (countries: string) =>
      [
        `state_dir: ${join(dir, "state-lists")}`,
        "preset: asterisk",
        "allowlist: [198.51.100.7]",
        "firewall:",
        `  blocklists: { voipbl: { file: ${join(lists, "voipbl.txt")} } }`,
        `  countries: { allow: [${countries}], files: ["${lists}/{cc}.zone"] }`,
      ].join("\n");
    const { daemon, services } = await start(loadConfigText(yaml("de"), "lists.yaml"));
    try {
      const listed = await services.explain(parseIp("45.134.26.9")!);
      expect(listed.verdict).toBe("blocked");
      expect(listed.because.map((b) => [b.kind, b.origin, b.target ?? null])).toEqual([
        ["feed", "feed:voipbl", "45.134.26.0/24"],
        ["restriction", "restriction:countries", null],
      ]);
      expect((await services.explain(parseIp("2.161.0.1")!)).verdict).toBe("not-blocked");
      expect((await services.explain(parseIp("2001:67c::9")!)).verdict).toBe("not-blocked");
      // A customer abroad allowed by hand: the allowlist wins over the restriction, in the kernel as here.
      const abroad = await services.explain(parseIp("198.51.100.7")!);
      expect(abroad.verdict).toBe("allowed");

      // Austria's file is missing: the restriction is left out (open to all), not closed to Austria.
      await daemon.reload(loadConfigText(yaml("de, at"), "lists.yaml"));
      expect(daemon.policy()?.restrictions).toBeUndefined();
      const status = await services.status();
      expect(status.lists.map((l) => [l.name, l.networks])).toEqual([
        ["blocklist voipbl", 1],
        ["countries de, at", 0],
      ]);
      expect(status.firewallNotes).toEqual([
        expect.stringContaining("firewall.countries: no networks for at"),
      ]);
      expect((await services.explain(parseIp("8.8.8.8")!)).verdict).toBe("not-blocked");
      writeFileSync(join(lists, "at.zone"), "77.116.0.0/14\n");
      await daemon.reload(loadConfigText(yaml("de, at"), "lists.yaml"));
      expect(daemon.policy()?.restrictions?.[0]?.lists.map((l) => l.label)).toEqual(["de", "at"]);
      expect((await services.explain(parseIp("8.8.8.8")!)).verdict).toBe("blocked");
      expect((await services.explain(parseIp("77.116.3.3")!)).verdict).toBe("not-blocked");

      // A cron job replaces the feed: the daemon applies it again by itself, no reload.
      writeFileSync(join(lists, "voipbl.new"), "45.134.26.0/24\n8.8.8.0/24\n");
      renameSync(join(lists, "voipbl.new"), join(lists, "voipbl.txt"));
      await waitFor(
        async () => (await services.explain(parseIp("8.8.8.8")!)).because.some((b) => b.kind === "feed"),
        "the replaced feed applied",
      );
    } finally {
      await daemon.stop();
    }
  });

  it("downloads a blocklist with a URL at start and applies it without a reload", async () => {
    const server = createServer((_req, res) => void res.writeHead(200).end("# feed\n203.0.113.0/24\n"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    const file = join(dir, "feeds", "voipbl.txt");
    const { daemon, services } = await start(
      loadConfigText(
        [
          `state_dir: ${join(dir, "state-feed")}`,
          "preset: asterisk",
          "firewall:",
          `  blocklists: { voipbl: { file: ${file}, url: "http://127.0.0.1:${port}/update/" } }`,
        ].join("\n"),
        "feed.yaml",
      ),
    );
    try {
      await waitFor(
        async () => (await services.explain(parseIp("203.0.113.9")!)).verdict === "blocked",
        "the downloaded feed applied",
      );
      expect(readFileSync(file, "utf8")).toBe("# feed\n203.0.113.0/24\n");
      expect(daemon.policy()?.blocklists).toEqual([
        expect.objectContaining({ name: "voipbl", entries: ["203.0.113.0/24"] }),
      ]);
      expect((await services.status()).lists).toEqual([
        {
          name: "blocklist voipbl",
          networks: 1,
          url: `http://127.0.0.1:${port}/update/`,
          downloadedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
          downloadError: null,
        },
      ]);
    } finally {
      await daemon.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it("bans an IPv6 network whose addresses fail together in the ban set of the jail's ports; other networks in lists", async () => {
    const { config, log } = pbxConfig("v6", ", maxretry: 3", [
      "preset: asterisk",
      "defaults: { ipv6_prefix: 64, scope: service }",
    ]);
    const { daemon, services } = await start(config);
    try {
      for (const host of ["a", "b", "c"]) appendFileSync(log, failure(`[2001:db8:77:1::${host}]`));
      await waitFor(async () => (await services.listBans()).length === 1, "the network ban");
      const [ban] = await services.listBans();
      expect(ban).toMatchObject({ target: "2001:db8:77:1::/64", origin: "jail:asterisk" });
      expect(ban?.scope).toEqual(daemon.config().jails.find((j) => j.name === "asterisk")?.scope);
      // A /64 of the config's ipv6_prefix is a ban set member with its own timeout: no policy re-apply.
      await waitFor(async () => (await daemon.backend.listBans()).length === 1, "the kernel's network ban");
      const [inKernel] = await daemon.backend.listBans();
      expect(inKernel).toMatchObject({ target: "2001:db8:77:1::/64", scope: ban?.scope });
      expect(inKernel?.expiresAt).not.toBeNull();
      expect(daemon.policy()?.networkBanPrefix6).toBe(64);
      expect(daemon.policy()?.blocklists).toEqual([]);
      const why = await services.explain(parseIp("2001:db8:77:1::ffff")!);
      expect(why.verdict).toBe("blocked");
      expect(why.because.map((b) => [b.kind, b.target])).toEqual([["decision", "2001:db8:77:1::/64"]]);
      // A network of another length (a /48 by hand) can only be an interval list entry.
      await services.ban({ target: parseCidr("2001:db8:99::/48")!, forMs: null, reason: undefined });
      expect(daemon.policy()?.blocklists).toEqual([
        { name: "manual", scope: { kind: "all" }, entries: ["2001:db8:99::/48"] },
      ]);
      expect((await daemon.backend.listBans()).map((b) => b.target)).toEqual(["2001:db8:77:1::/64"]);
      // Lifting the /64 takes it out of the ban set; the /48 stays listed.
      await services.unban(parseCidr("2001:db8:77:1::/64")!);
      expect(await daemon.backend.listBans()).toEqual([]);
      expect(daemon.policy()?.blocklists.map((b) => b.entries)).toEqual([["2001:db8:99::/48"]]);
    } finally {
      await daemon.stop();
    }
  });
});
