// `sipwarden run` (dry-run firewall) with its control API on a loopback TCP port behind a token, one PBX log
// and an asterisk jail, as the tests that reach the API over HTTP start it (Prometheus, the dashboard); and
// a plain HTTP GET for them.
import type { ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { waitFor } from "../src/sources/testing/wait-for.js";
import { childProcesses, freePort } from "./loopback-processes.js";
import { builtCli } from "./sipwarden-cli.js";

export interface TcpApiDaemon {
  readonly port: number;
  /** The unix socket the CLI uses. */
  readonly socket: string;
  /** The PBX log its jail reads (`maxretry` 3). */
  readonly log: string;
  readonly child: ChildProcess;
}

/**
 * Starts it in `dir`, among `children` (the test stops them); resolves once the TCP API listens. `extra`:
 * more lines of config (top-level keys); `moreSources`: more sources (name → flow mapping), which the
 * asterisk jail reads too.
 */
export async function startTcpApiDaemon(
  dir: string,
  token: string,
  children: ReturnType<typeof childProcesses>,
  extra: readonly string[] = [],
  moreSources: Readonly<Record<string, string>> = {},
): Promise<TcpApiDaemon> {
  const port = await freePort();
  const socket = join(dir, "api.sock");
  const log = join(dir, "full");
  writeFileSync(log, "");
  writeFileSync(
    join(dir, "sipwarden.yaml"),
    [
      `state_dir: ${join(dir, "state")}`,
      `api: { socket: ${socket}, tcp: { host: 127.0.0.1, port: ${port}, token: ${token} } }`,
      "sources:",
      `  pbx: { type: file, path: ${log} }`,
      ...Object.entries(moreSources).map(([name, source]) => `  ${name}: ${source}`),
      "jails:",
      `  asterisk: { filter: asterisk, sources: [${["pbx", ...Object.keys(moreSources)].join(", ")}], maxretry: 3 }`,
      ...extra,
      "",
    ].join("\n"),
  );
  const child = children.spawn(
    process.execPath,
    [builtCli(), "run", "--config", join(dir, "sipwarden.yaml"), "--backend", "dry-run"],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let err = "";
  child.stderr!.on("data", (c: Buffer) => (err = (err + c.toString("utf8")).slice(-65_536)));
  await waitFor(
    () =>
      (/"msg":"watching"/.test(err) && /"msg":"api listening on tcp/.test(err)) || child.exitCode !== null,
    "sipwarden's TCP API",
    20_000,
  );
  if (child.exitCode !== null) throw new Error(`sipwarden run exited: ${err.slice(-2000)}`);
  return { port, socket, log, child };
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

/** GET http://127.0.0.1:`port``path`, with the bearer token when given (5 s at most). */
export function httpGet(port: number, path: string, token?: string): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path,
        headers: token ? { authorization: `Bearer ${token}` } : {},
        timeout: 5000,
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", reject);
    req.end();
  });
}
