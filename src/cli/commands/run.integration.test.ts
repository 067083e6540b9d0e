// The daemon as an operator runs it: the built CLI, SIGHUP reloads (a bad config is refused), SIGTERM stops.

import { spawn } from "node:child_process";
import { appendFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { packageRoot } from "../../daemon/package-root.js";
import { waitFor } from "../../sources/testing/wait-for.js";

const dir = mkdtempSync(join(tmpdir(), "sw-run-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const main = join(packageRoot(), "dist", "cli", "main.js");

const stamp = (): string => new Date().toISOString().slice(0, 19).replace("T", " ");
const failure = (ip: string): string =>
  `[${stamp()}] NOTICE[2345] chan_sip.c: Registration from '"1" <sip:1@pbx>' failed for '${ip}:5060' - Wrong password\n`;

describe("sipwarden run", () => {
  it("refuses a bad config on SIGHUP and keeps running, reloads a good one, stops on SIGTERM", async () => {
    expect(existsSync(main), `${main} is missing: run npm run build first`).toBe(true);
    const log = join(dir, "full");
    writeFileSync(log, "");
    const cfg = join(dir, "sipwarden.yaml");
    const config = (maxretry: number | string) =>
      [
        `state_dir: ${join(dir, "state")}`,
        `api: { socket: ${join(dir, "api.sock")} }`,
        "sources:",
        `  pbx: { type: file, path: ${log} }`,
        "jails:",
        `  asterisk: { filter: asterisk, sources: [pbx], maxretry: ${maxretry} }`,
      ].join("\n");
    writeFileSync(cfg, config(3));
    const child = spawn(process.execPath, [main, "run", "--config", cfg, "--backend", "dry-run", "--json"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (b: Buffer) => (out += b.toString()));
    child.stderr.on("data", (b: Buffer) => (err += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      await waitFor(() => err.includes('"msg":"watching"'), "the daemon to watch its log", 20_000);

      writeFileSync(cfg, config("three"));
      child.kill("SIGHUP");
      await waitFor(() => err.includes("reload refused"), "the bad config to be refused", 10_000);
      expect(err).toMatch(/sipwarden\.yaml:6:\d+: jails\.asterisk\.maxretry: .*\[SW_CONFIG_INVALID\]/);

      // Still running on the old config: three failures ban.
      appendFileSync(log, failure("203.0.113.44").repeat(3));
      await waitFor(() => out.includes('"target":"203.0.113.44"'), "a ban under the old config", 10_000);

      writeFileSync(cfg, config(10));
      child.kill("SIGHUP");
      await waitFor(() => err.includes('"msg":"config reloaded"'), "the good config to load", 10_000);
      appendFileSync(log, failure("203.0.113.45").repeat(3));
      // Under maxretry 10 three failures are not enough; the address is only counted.
      await new Promise((r) => setTimeout(r, 500));
      expect(out).not.toContain('"target":"203.0.113.45"');

      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  }, 60_000);
});
