// The built CLI with its real worker thread (dist/daemon/parallel-worker.js; unit tests run the ranges
// in-process): on a log big enough to be split, replay and test-filter print what one thread prints, and
// end quietly when the reader of their output goes away. The log has more chunks than a worker may claim
// ahead of the main thread, so that replay's worker waits for the main thread at times.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PARALLEL_MIN_BYTES } from "../../src/daemon/worker-runner.js";
import { packageRoot } from "../../src/daemon/package-root.js";
import { CHUNK_BYTES, CHUNKS_AHEAD } from "../../src/daemon/parallel-replay.js";

const root = packageRoot();
const main = join(root, "dist", "cli", "main.js");
const dir = mkdtempSync(join(tmpdir(), "sw-worker-"));
const log = join(dir, "asterisk.log");
const config = join(dir, "replay.yaml");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(() => {
  if (!existsSync(main)) throw new Error(`${main} is missing: run npm run build first`);
  execFileSync(process.execPath, [
    join(root, "bench", "generate-asterisk-log.mjs"),
    ...["--lines", "220000", "--seed", "11", "--out", log, "--attack-ratio", "0.3"],
  ]);
  writeFileSync(
    config,
    "preset: asterisk\njails:\n  sshd:\n    enabled: false\nallowlist:\n  - 192.168.0.0/16\n",
  );
}, 60_000);

/** The CLI's stdout; `threads` "1" keeps it on one thread; `input` is written to its stdin (a pipe). */
function cli(args: string[], threads?: "1", input?: Buffer): string {
  const env: NodeJS.ProcessEnv = { ...process.env, TZ: "UTC" };
  if (threads === undefined) delete env.SIPWARDEN_THREADS;
  else env.SIPWARDEN_THREADS = threads;
  return execFileSync(process.execPath, [main, ...args], {
    env,
    maxBuffer: 1 << 28,
    encoding: "utf8",
    ...(input === undefined ? {} : { input }),
  });
}

describe("the worker thread", () => {
  it("is used: the log is past the split threshold, and has more chunks than a worker may claim ahead", () => {
    expect(statSync(log).size).toBeGreaterThan(PARALLEL_MIN_BYTES);
    expect(statSync(log).size).toBeGreaterThan((CHUNKS_AHEAD + 4) * CHUNK_BYTES);
  });

  it("replay --json: the same decisions, line numbers and stats as on one thread", () => {
    const args = ["replay", log, "--config", config, "--json"];
    const split = JSON.parse(cli(args));
    const one = JSON.parse(cli(args, "1"));
    expect(one.decisions.length).toBeGreaterThan(100);
    expect(one.stats.lines).toBe(220_000);
    expect(split).toEqual(one);
  });

  it("reads a gzip log split too: the worker opens the decompressed copy by its /proc/self/fd path", () => {
    const gz = join(dir, "asterisk.log.gz");
    writeFileSync(gz, gzipSync(readFileSync(log)));
    const plain = JSON.parse(cli(["replay", log, "--config", config, "--json"]));
    const packed = JSON.parse(cli(["replay", gz, "--config", config, "--json"]));
    expect(packed.files).toEqual([gz]);
    expect(JSON.stringify(packed.decisions)).toBe(JSON.stringify(plain.decisions).replaceAll(log, gz));
    expect(packed.stats).toEqual(plain.stats);
    expect(cli(["test-filter", gz, "asterisk", "--json"])).toBe(
      cli(["test-filter", log, "asterisk", "--json"]).replace(JSON.stringify(log), JSON.stringify(gz)),
    );
  });

  it("reads a big log from a pipe (-) split too: the worker opens the copy of standard input", () => {
    const bytes = readFileSync(log);
    const file = cli(["test-filter", log, "asterisk", "--json"]);
    expect(cli(["test-filter", "-", "asterisk", "--json"], undefined, bytes)).toBe(
      file.replace(JSON.stringify(log), JSON.stringify("-")),
    );
    // Year-less dates: a file's reference is its modification time, a pipe's is now; both are today.
    const plain = JSON.parse(cli(["replay", log, "--config", config, "--json"]));
    const piped = JSON.parse(cli(["replay", "-", "--config", config, "--json"], undefined, gzipSync(bytes)));
    expect(piped.files).toEqual(["-"]);
    expect(JSON.stringify(piped.decisions)).toBe(
      JSON.stringify(plain.decisions).replaceAll(JSON.stringify(log), JSON.stringify("-")),
    );
    expect(piped.stats).toEqual(plain.stats);
  });

  it("test-filter: the same report, and the same matches with --json, as on one thread", () => {
    expect(cli(["test-filter", log, "asterisk"])).toBe(cli(["test-filter", log, "asterisk"], "1"));
    const split = JSON.parse(cli(["test-filter", log, "asterisk", "--json"]));
    const one = JSON.parse(cli(["test-filter", log, "asterisk", "--json"], "1"));
    expect(one.matched).toBeGreaterThan(1000);
    expect(split).toEqual(one);
    // A failregex given in place of a filter reaches the worker as it was written.
    const regex = "failed for '<HOST>:\\d+'";
    const inline = cli(["test-filter", log, regex, "--json"]);
    expect(JSON.parse(inline).matched).toBeGreaterThan(1000);
    expect(inline).toBe(cli(["test-filter", log, regex, "--json"], "1"));
    // So does an ignoreregex (fail2ban-regex's third argument).
    const ignoring = cli(["test-filter", log, "asterisk", "Wrong password", "--json"]);
    expect(JSON.parse(ignoring).ignored).toBeGreaterThan(100);
    expect(ignoring).toBe(cli(["test-filter", log, "asterisk", "Wrong password", "--json"], "1"));
  });

  it("ends at once, quietly, with status 141, when the reader of its output goes away", async () => {
    for (const args of [
      ["replay", log, "--config", config, "--json"],
      ["test-filter", log, "asterisk", "--json"],
      ["test-filter", log, "asterisk", "--print-matched"],
    ]) {
      const child = spawn(process.execPath, [main, ...args], {
        env: { ...process.env, TZ: "UTC" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      // Like `| head -c 1000`: read a little, then close the pipe.
      let got = 0;
      child.stdout.on("data", (d: Buffer) => {
        got += d.length;
        if (got >= 1000) child.stdout.destroy();
      });
      const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
      expect({ args: args.join(" "), code, stderr }).toEqual({ args: args.join(" "), code: 141, stderr: "" });
      expect(got).toBeGreaterThanOrEqual(1000);
    }
  }, 60_000);
});
