import { request } from "node:http";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync, existsSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createManualClock } from "../domain/clock.js";
import { createApiApp } from "./app.js";
import type { InjectResponse } from "./inject.js";
import { createMemoryControlServices } from "./memory-services.js";
import { startApiServer } from "./server.js";
import { userErrorText } from "../domain/testing/user-error-text.js";

const dir = mkdtempSync(join(tmpdir(), "sw-api-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const log = { info: () => {}, warn: () => {}, error: () => {} };
const TOKEN = "0123456789abcdef0123";

function app() {
  return createApiApp(createMemoryControlServices({ clock: createManualClock(Date.UTC(2026, 10, 22)) }), {
    log,
  });
}

type Target = { socketPath: string } | { host: string; port: number };
function call(
  target: Target,
  method: string,
  path: string,
  opts: { body?: string | Buffer; headers?: Record<string, string> } = {},
): Promise<{ status: number; json: InjectResponse["json"] }> {
  return new Promise((resolve, reject) => {
    const req = request({ ...target, method, path, headers: opts.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          json: JSON.parse(Buffer.concat(chunks).toString() || "null"),
        }),
      );
    });
    req.on("error", reject);
    req.end(opts.body);
  });
}

describe("startApiServer", () => {
  it("serves on a unix socket of mode 0600 in a new 0700 directory, and removes it on close", async () => {
    const socketPath = join(dir, "run", "api.sock");
    const server = await startApiServer(app(), { socketPath }, { log });
    try {
      expect(statSync(socketPath).isSocket()).toBe(true);
      expect(statSync(socketPath).mode & 0o777).toBe(0o600);
      expect(statSync(join(dir, "run")).mode & 0o777).toBe(0o700);
      // No temporary socket name is left behind.
      expect(readdirSync(join(dir, "run"))).toEqual(["api.sock"]);
      const r = await call({ socketPath }, "GET", "/v1/status");
      expect(r.status).toBe(200);
      expect(r.json.backend.name).toBe("memory");
      expect(server.tcp).toBeNull();
    } finally {
      await server.close();
    }
    expect(existsSync(socketPath)).toBe(false);
  });

  it("answers 413 over a real connection when a streamed body passes the limit", async () => {
    const socketPath = join(dir, "big.sock");
    const server = await startApiServer(app(), { socketPath }, { log });
    try {
      const body = JSON.stringify({ target: "1.2.3.4", reason: "x".repeat(1 << 20) });
      const r = await call({ socketPath }, "POST", "/v1/bans", {
        body,
        headers: { "content-type": "application/json", "transfer-encoding": "chunked" },
      });
      expect([r.status, r.json.error.code]).toEqual([413, "payload-too-large"]);
    } finally {
      await server.close();
    }
  });

  it("replaces a stale socket, but not a live one nor a regular file", async () => {
    const socketPath = join(dir, "stale.sock");
    // A socket file nobody listens on, as a daemon killed with SIGKILL leaves it (a clean close removes it).
    spawnSync(process.execPath, [
      "-e",
      `require("net").createServer().listen(${JSON.stringify(socketPath)}, () => process.kill(process.pid, "SIGKILL"))`,
    ]);
    expect(statSync(socketPath).isSocket()).toBe(true);
    const server = await startApiServer(app(), { socketPath }, { log });
    try {
      expect((await call({ socketPath }, "GET", "/v1/bans")).json).toEqual({ bans: [] });
      expect(await userErrorText(startApiServer(app(), { socketPath }, { log }))).toMatch(
        /stale\.sock: api\.socket: another sipwarden is already serving this socket \(stop it first\) \[SW_CONFIG_INVALID\]$/,
      );
    } finally {
      await server.close();
    }
    const file = join(dir, "not-a-socket");
    writeFileSync(file, "precious");
    expect(await userErrorText(startApiServer(app(), { socketPath: file }, { log }))).toMatch(
      /exists and is not a socket; not replacing it/,
    );
    expect(statSync(file).isFile()).toBe(true);
  });

  it("refuses TCP without a token, or with a weak one, before binding anything", async () => {
    const socketPath = join(dir, "tcp-refused.sock");
    expect(
      await userErrorText(
        startApiServer(app(), { socketPath, tcp: { host: "127.0.0.1", port: 0 } }, { log }),
      ),
    ).toBe(
      "api.tcp.token: the API listens on TCP only with a token (set api.tcp.token, or drop api.tcp to use the unix socket alone) [SW_CONFIG_INVALID]",
    );
    expect(
      await userErrorText(
        startApiServer(app(), { socketPath, tcp: { host: "127.0.0.1", port: 0, token: "abc" } }, { log }),
      ),
    ).toMatch(/at least 16 characters/);
    expect(existsSync(socketPath)).toBe(false);
  });

  it("serves TCP with the token required, while the socket needs none", async () => {
    const socketPath = join(dir, "tcp.sock");
    const server = await startApiServer(
      app(),
      { socketPath, tcp: { host: "127.0.0.1", port: 0, token: TOKEN } },
      { log },
    );
    try {
      const tcp = server.tcp as { host: string; port: number };
      expect(tcp.port).toBeGreaterThan(0);
      expect((await call(tcp, "GET", "/v1/status")).status).toBe(401);
      const ok = await call(tcp, "GET", "/v1/status", { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(ok.status).toBe(200);
      expect((await call({ socketPath }, "GET", "/v1/status")).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
