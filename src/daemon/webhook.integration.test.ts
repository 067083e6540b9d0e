// Notifications as HTTP POSTs to a webhook: a real HTTP server on loopback (the stand-in for a chat's or the
// admin's endpoint) takes the JSON or a Slack-style message, with the token from its file; a busy server is
// tried again, a refusal is not, a redirect is not followed; `sipwarden notify-test` and `check` prove the
// setup through the built CLI.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { NotifyConfig } from "../config/config.js";
import type { Decision } from "../domain/decision.js";
import { builtCli } from "../../test/sipwarden-cli.js";
import { createNotifier, type Notifier } from "./notify.js";

const dir = mkdtempSync(join(tmpdir(), "sw-webhook-"));
const TOKEN_FILE = join(dir, "token");
writeFileSync(TOKEN_FILE, "s3cret-webhook-token\n");

interface Hit {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}
let hits: Hit[] = [];
/** The statuses the server answers with, one per request; then 200. */
let script: { status: number; headers?: Record<string, string>; body?: string }[] = [];
let server: Server;
let base = "";

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (body += c));
    req.on("end", () => {
      hits.push({ path: req.url ?? "", headers: req.headers, body });
      const next = script.shift() ?? { status: 200, body: "ok" };
      res.writeHead(next.status, next.headers ?? {});
      res.end(next.body ?? "");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  hits = [];
  script = [];
});

const ban = (target: string, reason: string): Decision => ({
  action: "ban",
  target,
  origin: "jail:asterisk",
  reason,
  scope: { kind: "all" },
  at: Date.UTC(2026, 11, 7, 8),
  durationMs: 3_600_000,
  expiresAt: Date.UTC(2026, 11, 7, 9),
  priorBans: 0,
  evidence: [{ time: Date.UTC(2026, 11, 7, 8), source: "/var/log/asterisk/full", line: reason }],
});

function notifier(webhook: NonNullable<NotifyConfig["webhook"]>): Notifier {
  const config: NotifyConfig = {
    on: ["ban"],
    batchMs: 0,
    linkDownAfterMs: 300_000,
    email: null,
    command: null,
    webhook,
  };
  return createNotifier(config, {
    run: async () => ({ code: 0, stdout: "", stderr: "" }),
    log: { info: () => undefined, warn: () => undefined },
    now: () => Date.now(),
    host: "pbx-1",
    // Real HTTP; only the waits between tries are shortened.
    webhook: { fetch: async () => fetch, sleep: async () => undefined },
  });
}

async function tell(n: Notifier, decisions: Decision[]) {
  n.add(decisions);
  await n.stop();
  return n.stats().find((s) => s.via === "webhook");
}

/** An attacker's text as a log line quotes it: a mention, a link, a way out of a code block. */
const HOSTILE = "failed for '198.51.100.7' <!channel> <https://evil.example|click> ``` & more";

describe("webhook notifications", () => {
  it("posts the JSON a command gets, with the token from its file as a bearer", async () => {
    const stats = await tell(
      notifier({ url: { inline: `${base}/hook` }, format: "json", tokenFile: TOKEN_FILE }),
      [ban("198.51.100.7", HOSTILE)],
    );
    expect(stats).toMatchObject({ sent: 1, failed: 0, lastError: null });
    expect(hits).toHaveLength(1);
    const [hit] = hits;
    expect(hit!.path).toBe("/hook");
    expect(hit!.headers["authorization"]).toBe("Bearer s3cret-webhook-token");
    expect(hit!.headers["content-type"]).toBe("application/json");
    const json = JSON.parse(hit!.body);
    expect(json).toMatchObject({ host: "pbx-1", omitted: 0 });
    expect(json.decisions[0]).toMatchObject({ target: "198.51.100.7", reason: HOSTILE });
  });

  it("posts a Slack-style message whose attacker text stays inert, and tries a busy server again", async () => {
    script = [{ status: 503 }, { status: 429, headers: { "retry-after": "1" } }];
    const fileWithUrl = join(dir, "url");
    writeFileSync(fileWithUrl, `${base}/services/T0/B0/XYZ\n`);
    const stats = await tell(notifier({ url: { file: fileWithUrl }, format: "slack", tokenFile: null }), [
      ban("198.51.100.7", HOSTILE),
      ban("203.0.113.9", "5 failures in 10m"),
    ]);
    expect(stats).toMatchObject({ sent: 1, failed: 0 });
    expect(hits.map((h) => h.path)).toEqual(Array(3).fill("/services/T0/B0/XYZ"));
    expect(hits[2]!.headers["authorization"]).toBeUndefined();
    const { text } = JSON.parse(hits[2]!.body) as { text: string };
    const lines = text.split("\n");
    expect(lines[0]).toBe("sipwarden on pbx-1: 2 bans.");
    expect(lines[1]).toBe("```");
    expect(lines.at(-1)).toBe("```");
    // One block, nothing Slack would read as a mention or a link.
    expect(text.match(/```/g)).toHaveLength(2);
    expect(text).not.toMatch(/<|>/);
    expect(lines[2]).toContain("&lt;!channel&gt; &lt;https://evil.example|click&gt; ''' &amp; more");
    expect(lines[3]).toMatch(/^2026-12-07T08:00:00Z\s+BAN\s+203\.0\.113\.9/);
  });

  it("posts a Microsoft Teams Adaptive Card whose every line is plain text (no Markdown, no link)", async () => {
    const stats = await tell(
      notifier({ url: { inline: `${base}/workflows/teams` }, format: "teams", tokenFile: null }),
      [
        ban("198.51.100.7", `${HOSTILE} \u001b[2J\u202e [click](https://evil.example) **now**`),
        ban("203.0.113.9", "5 failures in 10m"),
      ],
    );
    expect(stats).toMatchObject({ sent: 1, failed: 0 });
    const message = JSON.parse(hits[0]!.body) as {
      type: string;
      attachments: { contentType: string; content: { type: string; version: string; body: unknown[] } }[];
    };
    expect(message.type).toBe("message");
    expect(message.attachments).toHaveLength(1);
    const [attachment] = message.attachments;
    expect(attachment!.contentType).toBe("application/vnd.microsoft.card.adaptive");
    expect(attachment!.content).toMatchObject({ type: "AdaptiveCard", version: "1.4" });
    // Only RichTextBlocks of TextRuns: text Teams shows as it is; a TextBlock would render Markdown.
    const blocks = attachment!.content.body as { type: string; inlines: { type: string; text: string }[] }[];
    expect(new Set(blocks.map((b) => b.type))).toEqual(new Set(["RichTextBlock"]));
    expect(new Set(blocks.flatMap((b) => b.inlines.map((i) => i.type)))).toEqual(new Set(["TextRun"]));
    const texts = blocks.map((b) => b.inlines.map((i) => i.text).join(""));
    expect(texts[0]).toBe("sipwarden on pbx-1: 2 bans.");
    expect(texts[1]).toMatch(/^2026-12-07T08:00:00Z\s+BAN\s+198\.51\.100\.7/);
    expect(texts[1]).toContain("[click](https://evil.example) **now**");
    expect(texts[2]).toMatch(/^2026-12-07T08:00:00Z\s+BAN\s+203\.0\.113\.9/);
    // No control character of the attacker's reaches the card.
    expect([...texts.join("")].filter((c) => c.charCodeAt(0) < 0x20 || c === "\u202e")).toEqual([]);
  });

  it("does not try again when refused, nor follow a redirect, and says what the server answered", async () => {
    script = [{ status: 404, body: "no such\nhook" }];
    const refused = await tell(
      notifier({ url: { inline: `${base}/gone` }, format: "json", tokenFile: null }),
      [ban("198.51.100.7", "x")],
    );
    expect(refused).toMatchObject({ sent: 0, failed: 1, lastError: `${base}: HTTP 404: no such hook` });
    expect(hits).toHaveLength(1);

    hits = [];
    script = [{ status: 302, headers: { location: `${base}/elsewhere` } }];
    const moved = await tell(
      notifier({ url: { inline: `${base}/moved` }, format: "json", tokenFile: TOKEN_FILE }),
      [ban("198.51.100.7", "x")],
    );
    expect(moved).toMatchObject({ failed: 1, lastError: `${base}: HTTP 302` });
    // The token went to the configured URL only.
    expect(hits.map((h) => h.path)).toEqual(["/moved"]);

    hits = [];
    script = Array(3).fill({ status: 500, body: "down" });
    const down = await tell(notifier({ url: { inline: `${base}/down` }, format: "json", tokenFile: null }), [
      ban("198.51.100.7", "x"),
    ]);
    expect(down).toMatchObject({ failed: 1, lastError: `${base}: HTTP 500: down (after 3 tries)` });
    expect(hits).toHaveLength(3);
  });

  it("a URL file that holds no https:// URL, or is missing, fails the send and says which file", async () => {
    const plain = join(dir, "plain-url");
    writeFileSync(plain, "http://hooks.example.net/x\n");
    const bad = await tell(notifier({ url: { file: plain }, format: "json", tokenFile: null }), [
      ban("198.51.100.7", "x"),
    ]);
    expect(bad?.lastError).toBe(
      `the webhook URL file ${plain}: the webhook URL must be https:// (http:// only to this host), not http://hooks.example.net`,
    );
    const missing = await tell(
      notifier({ url: { file: join(dir, "nope") }, format: "json", tokenFile: null }),
      [ban("198.51.100.7", "x")],
    );
    expect(missing?.lastError).toMatch(/^cannot read the webhook URL file .*nope: ENOENT$/);
    expect(hits).toEqual([]);
  });
});

describe("sipwarden notify-test and check with a webhook (the built CLI)", () => {
  const exec = promisify(execFile);
  /** `sipwarden <command> --config FILE` to its end, without blocking this process's HTTP server. */
  const sipwardenWith = (command: string, config: string) =>
    exec(process.execPath, [builtCli(), command, "--config", config]).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
  const configFile = (webhook: string): string => {
    const file = join(dir, `sipwarden-${hits.length}-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(
      file,
      ["preset: asterisk", `state_dir: ${join(dir, "state")}`, "notify:", `  webhook: ${webhook}`, ""].join(
        "\n",
      ),
    );
    return file;
  };

  it("notify-test posts one example and says it was sent; check names the host, not the URL", async () => {
    const config = configFile(`{ url: "${base}/T/B/secret-part", format: slack, token_file: ${TOKEN_FILE} }`);
    const sent = await sipwardenWith("notify-test", config);
    expect(sent).toMatchObject({ code: 0, stdout: "webhook: sent\n" });
    expect(hits).toHaveLength(1);
    expect(JSON.parse(hits[0]!.body).text).toMatch(/^sipwarden on .*: 1 ban\.\n```\n.*192\.0\.2\.1/s);
    const checked = await sipwardenWith("check", config);
    expect(checked.code).toBe(0);
    expect(checked.stdout).toContain(
      `notify: ban, firewall, link and suspect (links down 5m) → webhook ${base} (slack, with a token)`,
    );
    expect(checked.stdout).not.toContain("secret-part");
  });

  it("notify-test exits 1 naming the failure; check refuses a webhook over http:// to another host at its key", async () => {
    script = [{ status: 401, body: "bad token" }];
    const failed = await sipwardenWith("notify-test", configFile(`{ url: "${base}/x" }`));
    expect(failed).toMatchObject({ code: 1, stdout: `webhook: FAILED (${base}: HTTP 401: bad token)\n` });
    const refused = await sipwardenWith("check", configFile(`{ url: "http://hooks.example.net/x" }`));
    expect(refused).toMatchObject({ code: 2 });
    expect(refused.stderr).toMatch(
      /\.yaml:4:\d+: notify\.webhook\.url: the webhook URL must be https:\/\/ \(http:\/\/ only to this host\), not http:\/\/hooks\.example\.net \[SW_CONFIG_INVALID\]\n$/,
    );
  });
});
