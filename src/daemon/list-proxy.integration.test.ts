// List downloads through a real HTTP proxy (Debian's tinyproxy) on loopback, as a PBX behind a company
// proxy fetches VoIPBL; and a proxy that is down keeps the old list.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { loadConfigText } from "../config/load.js";
import { waitFor } from "../sources/testing/wait-for.js";
import { childProcesses, freePort, listening } from "../../test/loopback-processes.js";
import { fetchList, listDownloads } from "./list-fetch.js";

const TINYPROXY = "/usr/bin/tinyproxy";
const VOIPBL = "# VoIPBL\n45.134.26.0/24\n185.53.88.0/22\n93.157.62.9\n";
const children = childProcesses();
let dir = "";
let server: Server;
let origin = "";
let proxy = "";
let proxyLog = "";

beforeAll(async () => {
  if (!existsSync(TINYPROXY)) throw new Error(`${TINYPROXY} is missing: apt-get install tinyproxy`);
  dir = mkdtempSync(join(tmpdir(), "sw-proxy-"));
  server = createServer((_req, res) => void res.writeHead(200, { "content-type": "text/plain" }).end(VOIPBL));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const port = await freePort();
  const conf = join(dir, "tinyproxy.conf");
  writeFileSync(
    conf,
    [
      `Port ${port}`,
      "Listen 127.0.0.1",
      "Timeout 30",
      "MaxClients 10",
      "Allow 127.0.0.1",
      "LogLevel Info",
      "",
    ].join("\n"),
  );
  // In the foreground (-d) without a LogFile, tinyproxy logs to its standard output.
  const tp = children.spawn(TINYPROXY, ["-d", "-c", conf], { stdio: ["ignore", "pipe", "pipe"] });
  const keep = (c: Buffer): void => void (proxyLog = (proxyLog + c.toString("utf8")).slice(-65_536));
  tp.stdout!.on("data", keep);
  tp.stderr!.on("data", keep);
  await waitFor(() => listening(port), "tinyproxy", 10_000);
  proxy = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  await children.stopAll();
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it("http_proxy sends list downloads through the proxy; a proxy that is down keeps the old list", async () => {
  const config = loadConfigText(
    [
      `http_proxy: ${proxy}`,
      "firewall:",
      `  blocklists: { voipbl: { file: ${join(dir, "voipbl.txt")}, url: ${origin}/voipbl } }`,
      "",
    ].join("\n"),
    "proxy.yaml",
  );
  const [d] = listDownloads(config);
  expect(d?.proxy).toBe(proxy);
  expect(await fetchList(d!)).toEqual({ kind: "replaced", networks: 3 });
  expect(readFileSync(d!.file, "utf8")).toBe(VOIPBL);
  // The proxy carried it (undici tunnels with CONNECT, even to an http:// origin).
  const originHostPort = origin.slice("http://".length);
  await waitFor(
    () => proxyLog.includes(`CONNECT ${originHostPort} `),
    "the proxy's log of the request",
    5000,
  );

  const down = `http://127.0.0.1:${await freePort()}`;
  writeFileSync(d!.file, "10.9.9.0/24\n");
  const failed = await fetchList({ ...d!, proxy: down });
  expect(failed.kind).toBe("failed");
  expect(readFileSync(d!.file, "utf8")).toBe("10.9.9.0/24\n");
});
