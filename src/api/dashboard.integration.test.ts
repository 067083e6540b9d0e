// The dashboard in a real browser (Debian's chromium through playwright-core) against `sipwarden run`'s
// token-guarded TCP API: sign-in with a wrong token and the right one, the bans and jails as the daemon
// has them, "why is this IP blocked?", a ban, an unban and an allow by hand. An attacker's text in a log
// line is shown as text and never runs. Loopback only.
import { appendFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BanList } from "./contract.js";
import { waitFor } from "../sources/testing/wait-for.js";
import { childProcesses, freePort, pjsipFailure } from "../../test/loopback-processes.js";
import { httpGet, startTcpApiDaemon } from "../../test/tcp-api-daemon.js";
import { sipwarden } from "../../test/sipwarden-cli.js";
import { writeMmdb } from "../../test/geoip/mmdb-files.js";

const CHROMIUM = "/usr/bin/chromium";
const TOKEN = "dashboard-token-0123456789abcdef";
const ATTACKER = "203.0.113.66";
/** A user name an attacker chose, that would run as script if the page took it for HTML. */
const HOSTILE_USER = "<img src=x onerror=window.__pwned=1>";
/** A customer's phone, registered (a successful authentication in the log), whose account name is hostile too. */
const PHONE = "198.51.100.30";
const PHONE_USER = "<img src=x onerror=window.__pwned=2>";
/** An address that fails twice on an account and then registers as it: a suspect registration, shown as text. */
const GUESSER = "198.51.100.77";
const GUESSER_USER = "<img src=x onerror=window.__pwned=3>";

function successfulAuth(ip: string, user: string): string {
  const stamp = new Date().toISOString().slice(0, 19).replace("T", " ");
  return `[${stamp}] SECURITY[73]: res_security_log.c:114 security_event_stasis_cb: SecurityEvent="SuccessfulAuth",EventTV="${new Date().toISOString()}",Severity="Informational",Service="PJSIP",EventVersion="1",AccountID="${user}",SessionID="s1",LocalAddress="IPV4/UDP/192.0.2.1/5060",RemoteAddress="IPV4/UDP/${ip}/5060",UsingPassword="1"\n`;
}

let dir = "";
let port = 0;
let amiPort = 0;
let redisPort = 0;
let browser: Browser | undefined;
let log = "";
const children = childProcesses();

const socket = (): string => join(dir, "api.sock");
const bans = (): BanList["bans"] =>
  (JSON.parse(sipwarden("bans", "--json", "--socket", socket()).stdout) as BanList).bans;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);
  dir = mkdtempSync(join(tmpdir(), "sw-dash-"));
  // An AMI link to a port where nothing listens: the registrations provider the page must show as down.
  amiPort = await freePort();
  // And a fleet whose Redis is not there (its messages wait), signing with a key.
  redisPort = await freePort();
  writeFileSync(join(dir, "fleet.keys"), `${"5a".repeat(32)}\n`, { mode: 0o600 });
  // A blocklist of a hosting provider's networks out of an ASN database, which the facts name.
  writeMmdb(join(dir, "GeoLite2-ASN.mmdb"), {
    ip_version: 6,
    database_type: "GeoLite2-ASN",
    alias: 1,
    networks: [["45.55.0.0/16", { autonomous_system_number: 14061 }]],
  });
  const daemon = await startTcpApiDaemon(
    dir,
    TOKEN,
    children,
    [
      `registrations: { ami: { host: 127.0.0.1, port: ${amiPort}, username: sipwarden, secret: s3cret }, suspect: { failures: 2 } }`,
      `fleet: { redis: "redis://127.0.0.1:${redisPort}", node: pbx-dash, secret_file: ${join(dir, "fleet.keys")} }`,
      `firewall: { blocklists: { hosting: { file: ${join(dir, "GeoLite2-ASN.mmdb")}, asns: [14061] } } }`,
    ],
    // The same port for the AMI security events: a source whose link is down.
    { events: `{ type: ami, host: 127.0.0.1, port: ${amiPort}, username: sipwarden, secret: s3cret }` },
  );
  port = daemon.port;
  log = daemon.log;
  for (let i = 0; i < 3; i++) appendFileSync(log, pjsipFailure(ATTACKER, HOSTILE_USER));
  appendFileSync(log, successfulAuth(PHONE, PHONE_USER));
  for (let i = 0; i < 2; i++) appendFileSync(log, pjsipFailure(GUESSER, GUESSER_USER));
  appendFileSync(log, successfulAuth(GUESSER, GUESSER_USER));
  await waitFor(() => bans().some((b) => b.target === ATTACKER), "the attacker's ban", 10_000);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await children.stopAll();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function signedIn(): Promise<Page> {
  const page = await (browser as Browser).newPage();
  page.on("dialog", (d) => void d.accept());
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.fill("#token", TOKEN);
  await page.click("#login button");
  await page.waitForSelector("#app:not([hidden])");
  return page;
}

describe("the dashboard", () => {
  it("serves its page without a token, under a strict content policy; the data stays behind the token", async () => {
    const page = await httpGet(port, "/");
    expect(page.status).toBe(200);
    expect(page.headers["content-security-policy"]).toMatch(/script-src 'self'/);
    expect(page.headers["x-content-type-options"]).toBe("nosniff");
    expect(page.text).toContain('<script src="/dashboard.js"');
    expect((await httpGet(port, "/dashboard.js")).status).toBe(200);
    expect((await httpGet(port, "/v1/bans")).status).toBe(401);
    expect((await httpGet(port, "/v1/status")).status).toBe(401);
  });

  it("refuses a wrong token, and with the right one shows the bans and jails as the daemon has them", async () => {
    const page = await (browser as Browser).newPage();
    try {
      await page.goto(`http://127.0.0.1:${port}/`);
      await page.fill("#token", "not-the-token-at-all");
      await page.click("#login button");
      await expect.poll(() => page.textContent("#login-error")).toBe("wrong token");
      expect(await page.isHidden("#app")).toBe(true);
      await page.fill("#token", TOKEN);
      await page.click("#login button");
      await page.waitForSelector(`#bans tbody tr >> text=${ATTACKER}`);
      const rows = page.locator("#bans tbody tr");
      const cells: string[][] = [];
      for (let i = 0; i < (await rows.count()); i++)
        cells.push(await rows.nth(i).locator("td").allTextContents());
      expect(cells).toEqual([
        [
          ATTACKER,
          "jail:asterisk",
          expect.any(String),
          expect.any(String),
          expect.stringMatching(/^3 failures/),
          "Unban",
        ],
      ]);
      expect(await page.textContent("#jails tbody")).toMatch(/^asterisk\s*asterisk\s*5\s*1\s*\d+$/);
      expect(await page.textContent("#summary")).toMatch(
        /firewall dry-run ok; 1 ban in force \(jail:asterisk 1\)/,
      );
      // The AMI link that cannot connect: down, since when, and why (a customer's typo could ban them now).
      const facts = page.locator("#facts li", { hasText: "registrations from" });
      await expect
        .poll(() => facts.allTextContents())
        .toEqual([
          expect.stringMatching(
            new RegExp(
              `^registrations from ami: DOWN since \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC \\(.*ECONNREFUSED.*${amiPort}.*\\)$`,
            ),
          ),
        ]);
      // The source reading Asterisk's security events over that link: down too, its failures unseen.
      await expect
        .poll(() => page.locator("#facts li", { hasText: `source ami:` }).allTextContents())
        .toEqual([
          expect.stringMatching(
            new RegExp(
              `^source ami:127\\.0\\.0\\.1:${amiPort}: 0 lines, \\d+ errors, last never; link DOWN since \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC \\(.*ECONNREFUSED.*\\)$`,
            ),
          ),
        ]);
      // The registration after two failed logins on its account: suspect, its hostile account name as text.
      await expect
        .poll(() => page.locator("#facts li", { hasText: "suspect registration:" }).allTextContents())
        .toEqual([
          expect.stringMatching(
            new RegExp(
              `^suspect registration: <img src=x onerror=window\\.__pwned=3> from ${GUESSER.replace(/\./g, "\\.")} \\(log:asterisk\\) at \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC after 2 failed logins; not shielded from bans until \\d{4}-`,
            ),
          ),
        ]);
      // The ASN blocklist: its networks, the database they came from and when it was built.
      expect(
        await page.locator("#facts li", { hasText: "list blocklist hosting" }).allTextContents(),
      ).toEqual([
        expect.stringMatching(
          new RegExp(
            `^list blocklist hosting: 1 networks from ${dir.replaceAll(".", "\\.")}/GeoLite2-ASN\\.mmdb \\(GeoLite2-ASN built \\d{4}-\\d\\d-\\d\\d\\)$`,
          ),
        ),
      ]);
      // The fleet: cut off from its Redis, signing, the attacker's ban waiting to be published.
      await expect
        .poll(() => page.locator("#facts li", { hasText: "fleet:" }).allTextContents())
        .toEqual([
          expect.stringMatching(
            new RegExp(
              `^fleet: node pbx-dash, NOT connected, signed; 0 published, 0 received, \\d+ waiting \\(last error: .*ECONNREFUSED.*${redisPort}.*\\)$`,
            ),
          ),
        ]);
    } finally {
      await page.close();
    }
  });

  it("explains a ban with its evidence, the attacker's text shown as text and never run", async () => {
    const page = await signedIn();
    try {
      await page.fill("#explain-ip", ATTACKER);
      await page.click("#explain button");
      await page.waitForSelector("#explain-result .blocked");
      expect(await page.textContent("#explain-result p")).toBe(`${ATTACKER}: blocked`);
      const text = (await page.textContent("#explain-result")) ?? "";
      expect(text).toContain(HOSTILE_USER);
      expect(await page.$$("#explain-result img")).toHaveLength(0);
      expect(await page.evaluate("window.__pwned")).toBeUndefined();
      // An address of the ASN blocklist: blocked by the feed, its AS named beside the verdict.
      await page.fill("#explain-ip", "45.55.1.2");
      await page.click("#explain button");
      await expect.poll(() => page.textContent("#explain-result p")).toBe("45.55.1.2: blocked (AS14061)");
      expect(await page.textContent("#explain-result li")).toBe(
        "feed feed:hosting on 45.55.0.0/16: listed by feed hosting (45.55.0.0/16, AS14061)",
      );
    } finally {
      await page.close();
    }
  });

  it("lists the registered phones the daemon will not ban, filtered by the daemon, their text shown as text", async () => {
    const page = await signedIn();
    try {
      const phone = page.locator("#registrations tbody tr", { hasText: PHONE });
      await phone.waitFor();
      expect(await phone.locator("td").allTextContents()).toEqual([
        PHONE,
        PHONE_USER,
        "log:asterisk",
        expect.stringMatching(/UTC$/),
        expect.stringMatching(/UTC$/),
        "",
        "yes",
      ]);
      // The guesser is registered too, but its address shields nothing.
      const guesser = page.locator("#registrations tbody tr", { hasText: GUESSER });
      expect(await guesser.locator("td").allTextContents()).toEqual([
        GUESSER,
        GUESSER_USER,
        "log:asterisk",
        expect.stringMatching(/UTC$/),
        expect.stringMatching(/UTC$/),
        "",
        expect.stringMatching(/^no: suspect until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC Clear$/),
      ]);
      expect(await page.textContent("#registration-count")).toBe("(2)");
      expect(await page.textContent("#summary")).toMatch(/, 2 registrations$/);
      // The filter is the daemon's (?match=): nothing matches, then the phone again.
      await page.fill("#registration-filter", "no-such-phone");
      await phone.waitFor({ state: "detached" });
      expect(await page.textContent("#registration-count")).toBe("(0)");
      await page.fill("#registration-filter", "198.51.100.3");
      await phone.waitFor();
      expect(await page.textContent("#registration-count")).toBe("(1)");
      expect(await page.$$("#registrations img")).toHaveLength(0);
      expect(await page.evaluate("window.__pwned")).toBeUndefined();
      // The admin checked the guesser's registration (the customer's after all) and clears it, as
      // sipwarden clear-suspect would: its address shields again, and the facts no longer list it.
      await page.fill("#registration-filter", "");
      await guesser.locator("button", { hasText: "Clear" }).click();
      await expect
        .poll(async () => (await guesser.locator("td").allTextContents()).at(-1), { timeout: 10_000 })
        .toBe("yes");
      expect(await page.locator("#facts li", { hasText: "suspect registration:" }).count()).toBe(0);
      expect(await page.evaluate("window.__pwned")).toBeUndefined();
    } finally {
      await page.close();
    }
  });

  it("shows the last day's decisions with where each stands, bans or spares as asked", async () => {
    const page = await signedIn();
    try {
      const ban = page.locator("#decisions tbody tr", { hasText: ATTACKER });
      await ban.waitFor();
      expect(await ban.locator("td").allTextContents()).toEqual([
        expect.stringMatching(/UTC$/),
        "ban",
        ATTACKER,
        "jail:asterisk",
        expect.stringMatching(/^in force until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/),
        expect.stringMatching(/^3 failures/),
      ]);
      // The daemon filters: no spare was decided, then the bans again.
      await page.selectOption("#decision-action", "spare");
      await ban.waitFor({ state: "detached" });
      expect(await page.textContent("#decision-count")).toBe("(0)");
      await page.selectOption("#decision-action", "ban");
      await ban.waitFor();
      expect(await page.$$("#decisions img")).toHaveLength(0);
    } finally {
      await page.close();
    }
  });

  it("bans, unbans, allows and removes the allow by hand, as sipwarden ban, unban and allow [--remove] would", async () => {
    const page = await signedIn();
    try {
      await page.fill("#ban-target", "198.51.100.77");
      await page.selectOption("#ban-for", "86400000");
      await page.fill("#ban-reason", "toll fraud attempt");
      await page.click("#ban button");
      await page.waitForSelector("#bans tbody tr >> text=198.51.100.77");
      const manual = bans().find((b) => b.target === "198.51.100.77");
      expect(manual).toMatchObject({ origin: "manual", reason: "toll fraud attempt" });
      expect(Date.parse(manual!.expiresAt!) - Date.parse(manual!.at)).toBe(86_400_000);

      await page.click(`#bans button[data-target="${ATTACKER}"]`);
      await page.waitForSelector(`#bans tbody tr >> text=${ATTACKER}`, { state: "detached" });
      expect(bans().map((b) => b.target)).toEqual(["198.51.100.77"]);
      // A ban in the ASN database's networks says where, beside its address; the filter finds it by that.
      await page.fill("#ban-target", "45.55.1.3");
      await page.click("#ban button");
      const droplet = page.locator("#bans tbody tr", { hasText: "45.55.1.3" });
      await droplet.waitFor();
      expect(await droplet.locator("td").first().textContent()).toBe("45.55.1.3 AS14061");
      await page.fill("#filter", "as14061");
      await expect.poll(() => page.locator("#bans tbody tr").count()).toBe(1);
      await page.fill("#filter", "");
      await page.click('#bans button[data-target="45.55.1.3"]');
      await droplet.waitFor({ state: "detached" });
      expect(bans().map((b) => b.target)).toEqual(["198.51.100.77"]);
      // Allowing the address lifts its ban, as sipwarden allow would.
      await page.fill("#allow-target", "198.51.100.77");
      await page.selectOption("#allow-for", "604800000");
      await page.click("#allow button");
      await expect
        .poll(() => page.textContent("#allow-result"))
        .toMatch(
          /^198\.51\.100\.77 allowed until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC; lifted the bans on 198\.51\.100\.77$/,
        );
      expect(bans()).toEqual([]);
      await page.fill("#explain-ip", "198.51.100.77");
      await page.click("#explain button");
      await page.waitForSelector("#explain-result .allowed");
      // Listed among the allow entries, with when it ends; and taken away again with its Remove button.
      const entry = page.locator("#allows tbody tr", { hasText: "198.51.100.77" });
      await entry.waitFor();
      expect(await entry.locator("td").allTextContents()).toEqual([
        "198.51.100.77",
        "",
        "allowed by hand",
        expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/),
        "Remove",
      ]);
      await page.click('#allows button[data-target="198.51.100.77"]');
      await entry.waitFor({ state: "detached" });
      await expect
        .poll(() => page.textContent("#allow-result"))
        .toBe("198.51.100.77 is no longer allowed by hand; bans may follow again");
      await page.click("#explain button");
      await expect.poll(() => page.textContent("#explain-result p")).toBe("198.51.100.77: not-blocked");
      expect(JSON.parse(sipwarden("allow", "--list", "--json", "--socket", socket()).stdout).entries).toEqual(
        [],
      );
      // A refusal comes back in the API's words.
      await page.fill("#ban-target", "0.0.0.0/0");
      await page.click("#ban button");
      await expect.poll(() => page.textContent("#error")).toMatch(/refusing to ban 0\.0\.0\.0\/0/);
    } finally {
      await page.close();
    }
  });

  it("pages back through more decisions than it shows at once, by the daemon's cursor, and back to the newest", async () => {
    const page = await signedIn();
    try {
      // 55 bans by hand, through the API as the page itself calls it: with the jail's and the earlier
      // test's, more than the 50 shown.
      await page.evaluate(async (token) => {
        for (let i = 1; i <= 55; i++) {
          const r = await fetch("/v1/bans", {
            method: "POST",
            headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
            body: JSON.stringify({ target: `192.0.2.${i}`, reason: `paging ${i}` }),
          });
          if (!r.ok) throw new Error(`ban ${i}: ${r.status} ${await r.text()}`);
        }
      }, TOKEN);
      await page.selectOption("#decision-action", "ban");
      const rows = page.locator("#decisions tbody tr");
      const targets = async (): Promise<string[]> => rows.locator("td:nth-child(3)").allTextContents();
      await expect.poll(targets).toContain("192.0.2.55");
      expect(await rows.count()).toBe(50);
      expect((await targets())[0]).toBe("192.0.2.55");
      expect(await page.textContent("#decision-count")).toBe("(50+, the newest shown)");
      expect(await page.isDisabled("#decisions-newest")).toBe(true);

      await page.click("#decisions-older");
      await expect.poll(() => page.textContent("#decision-count")).toMatch(/, an older page\)$/);
      const older = await targets();
      // The rest: the first five by hand, the earlier test's and the jail's ban, newest first, none twice.
      expect(older.slice(0, 5)).toEqual(["192.0.2.5", "192.0.2.4", "192.0.2.3", "192.0.2.2", "192.0.2.1"]);
      expect(older).toContain(ATTACKER);
      expect(older.filter((t) => t.startsWith("192.0.2."))).toHaveLength(5);
      expect(await page.isDisabled("#decisions-older")).toBe(true);
      // The page stays as it is across the page's refreshes (every 5 s), then back to the newest.
      await page.waitForTimeout(5500);
      expect(await targets()).toEqual(older);
      await page.click("#decisions-newest");
      await expect.poll(async () => (await targets())[0]).toBe("192.0.2.55");
      expect(await page.textContent("#decision-count")).toBe("(50+, the newest shown)");
    } finally {
      await page.close();
    }
  });
});
