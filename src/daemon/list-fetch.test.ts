// List downloads against a real HTTP server on loopback.
import { mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfigText } from "../config/load.js";
import {
  fetchList,
  listDownloads,
  startListDownloader,
  type FetchOutcome,
  type ListDownload,
} from "./list-fetch.js";

const dir = mkdtempSync(join(tmpdir(), "sw-fetch-"));
const VOIPBL = "# VoIPBL\n45.134.26.0/24\n185.53.88.0/22\n93.157.62.9\n";
const seen: { path: string; since: string | undefined }[] = [];
let server: Server;
let base = "";

const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {
  "/voipbl": (req, res) => {
    const since = req.headers["if-modified-since"];
    if (since !== undefined && Date.parse(since) >= Date.parse("2026-01-01T00:00:00Z")) {
      res.writeHead(304).end();
      return;
    }
    res.writeHead(200, { "content-type": "text/plain" }).end(VOIPBL);
  },
  // Answers only by ETag: If-Modified-Since alone always gets the list again.
  "/tagged": (req, res) => {
    if (req.headers["if-none-match"] === '"v1"') {
      res.writeHead(304).end();
      return;
    }
    res.writeHead(200, { "content-type": "text/plain", etag: '"v1"' }).end(VOIPBL);
  },
  "/broken": (_req, res) => void res.writeHead(500).end("oops"),
  "/html": (_req, res) =>
    void res
      .writeHead(200, { "content-type": "text/html" })
      .end(`<html>\n${"<p>maintenance</p>\n".repeat(20)}</html>\n`),
  "/big": (_req, res) => {
    res.writeHead(200);
    for (let i = 0; i < 200; i++) res.write("10.0.0.0/8\n".repeat(100));
    res.end();
  },
  "/slow": () => undefined, // never answers
};

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ path: req.url ?? "", since: req.headers["if-modified-since"] });
    (routes[req.url ?? ""] ?? ((_q, r) => void r.writeHead(404).end()))(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

/** A loopback port nothing listens on (a server's, once closed). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

const download = (path: string, name: string): ListDownload => ({
  url: `${base}${path}`,
  file: join(dir, "lists", name),
  refreshMs: 3_600_000,
});

describe("fetchList", () => {
  it("downloads a list into its file, then asks only for something newer", async () => {
    const d = download("/voipbl", "voipbl.txt");
    expect(await fetchList(d)).toEqual({ kind: "replaced", networks: 3 });
    expect(readFileSync(d.file, "utf8")).toBe(VOIPBL);
    expect(seen.at(-1)).toEqual({ path: "/voipbl", since: undefined });
    // The file is now newer than the server's list: 304, file untouched.
    const before = statSync(d.file).mtimeMs;
    expect(await fetchList(d)).toEqual({ kind: "unchanged" });
    expect(seen.at(-1)?.since).toBe(new Date(before).toUTCString());
    // An old file gets the list again.
    utimesSync(d.file, new Date("2025-06-01T00:00:00Z"), new Date("2025-06-01T00:00:00Z"));
    expect((await fetchList(d)).kind).toBe("replaced");
  });

  it("asks again with the server's ETag, while the file is the one it wrote", async () => {
    const d = download("/tagged", "tagged.txt");
    expect(await fetchList(d)).toEqual({ kind: "replaced", networks: 3 });
    expect(await fetchList(d)).toEqual({ kind: "unchanged" });
    // The admin replaced the file: its ETag no longer stands for it, so the list comes again.
    writeFileSync(d.file, "10.9.9.0/24\n");
    expect(await fetchList(d)).toEqual({ kind: "replaced", networks: 3 });
    expect(readFileSync(d.file, "utf8")).toBe(VOIPBL);
  });

  it("keeps the old list on an HTTP error, an HTML page, an oversized body, no answer or no server", async () => {
    const file = join(dir, "keep.txt");
    writeFileSync(file, VOIPBL);
    utimesSync(file, new Date("2025-06-01T00:00:00Z"), new Date("2025-06-01T00:00:00Z"));
    const at = (path: string): ListDownload => ({ url: `${base}${path}`, file, refreshMs: 60_000 });
    const outcomes: FetchOutcome[] = [
      await fetchList(at("/broken")),
      await fetchList(at("/html")),
      await fetchList(at("/big"), { maxBytes: 100_000 }),
      await fetchList(at("/slow"), { timeoutMs: 300 }),
      await fetchList({ url: `http://127.0.0.1:${await closedPort()}/x`, file, refreshMs: 60_000 }),
    ];
    expect(outcomes).toEqual([
      { kind: "failed", why: "HTTP 500" },
      { kind: "failed", why: "no networks in the download" },
      { kind: "failed", why: "larger than 100000 bytes" },
      { kind: "failed", why: "TimeoutError" },
      { kind: "failed", why: "ECONNREFUSED" },
    ]);
    expect(readFileSync(file, "utf8")).toBe(VOIPBL);
  });
});

describe("list downloads", () => {
  it("come from blocklists with a URL and from each allowed country's URLs, paired with the files", () => {
    const c = loadConfigText(
      [
        "preset: asterisk",
        "firewall:",
        "  blocklists:",
        "    voipbl: { file: /var/lib/sipwarden/voipbl.txt, url: http://www.voipbl.org/update/, refresh: 6h }",
        "    mine: { file: /etc/sipwarden/mine.txt }",
        "  countries:",
        "    allow: [de, at]",
        '    files: ["/var/lib/sipwarden/c/{cc}.zone", "/var/lib/sipwarden/c/{cc}.v6.zone"]',
        '    urls: ["https://x.example/v4/{cc}.zone", "https://x.example/v6/{cc}.zone"]',
      ].join("\n"),
      "x",
    );
    expect(listDownloads(c)).toEqual([
      {
        url: "http://www.voipbl.org/update/",
        file: "/var/lib/sipwarden/voipbl.txt",
        refreshMs: 6 * 3_600_000,
      },
      { url: "https://x.example/v4/de.zone", file: "/var/lib/sipwarden/c/de.zone", refreshMs: 4 * 3_600_000 },
      {
        url: "https://x.example/v6/de.zone",
        file: "/var/lib/sipwarden/c/de.v6.zone",
        refreshMs: 4 * 3_600_000,
      },
      { url: "https://x.example/v4/at.zone", file: "/var/lib/sipwarden/c/at.zone", refreshMs: 4 * 3_600_000 },
      {
        url: "https://x.example/v6/at.zone",
        file: "/var/lib/sipwarden/c/at.v6.zone",
        refreshMs: 4 * 3_600_000,
      },
    ]);
  });

  it("fetch what is missing or old at start, apply once per round, retry a failure sooner", async () => {
    const fresh = join(dir, "fresh.txt");
    writeFileSync(fresh, VOIPBL);
    const list: ListDownload[] = [
      { url: "u1", file: join(dir, "absent.txt"), refreshMs: 3_600_000 },
      { url: "u2", file: fresh, refreshMs: 3_600_000 },
      { url: "u3", file: join(dir, "failing.txt"), refreshMs: 3_600_000 },
    ];
    let now = Date.now();
    const asked: string[] = [];
    let applied = 0;
    const warnings: object[] = [];
    const downloader = startListDownloader(list, {
      now: () => now,
      log: { info: () => undefined, warn: (facts) => void warnings.push(facts) },
      replaced: async () => void applied++,
      fetch: async (d) => {
        asked.push(d.url);
        return d.url === "u3" ? { kind: "failed", why: "HTTP 503" } : { kind: "replaced", networks: 1 };
      },
      checkMs: 3_600_000, // the rounds below are run by hand
    });
    try {
      await downloader.check();
      expect(asked).toEqual(["u1", "u3"]); // u2's file is younger than its hour
      expect(applied).toBe(1);
      expect(warnings).toEqual([{ url: "u3", file: join(dir, "failing.txt"), why: "HTTP 503" }]);
      now += 16 * 60_000;
      asked.length = 0;
      await downloader.check();
      expect(asked).toEqual(["u3"]); // the failure again after 15 minutes, nothing else
      expect(applied).toBe(1); // nothing replaced: no apply
      now += 60 * 60_000;
      asked.length = 0;
      await downloader.check();
      expect(asked).toEqual(["u1", "u2", "u3"]);
      expect(applied).toBe(2);
    } finally {
      downloader.stop();
    }
  });
});
