// The split scan gives the single-threaded answer: byte ranges of whole lines, line numbers, test-filter's
// report and replay's decisions. Ranges run in-process here (workers cannot load TypeScript sources).
import { execFileSync } from "node:child_process";
import { appendFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runTestFilter } from "../cli/test-filter-report.js";
import { createRecordingIo } from "../cli/test-io.js";
import { decisionToJson } from "../domain/decision-format.js";
import { loadConfigText } from "../config/load.js";
import { resolveFilter } from "../filters/resolve.js";
import { readLines } from "../sources/read-lines.js";
import { countNewlines, cutAtLines, scanLines } from "../sources/chunk-lines.js";
import { packageRoot } from "./package-root.js";
import { createInProcessRunner } from "./parallel-scan.js";
import {
  CHUNKS_AHEAD,
  chunkFed,
  chunksFed,
  claimChunk,
  CLAIMED_BY_MAIN,
  CLAIMED_BY_WORKER,
  claimForWorker,
  DONE,
  scanReplayRange,
  WAIT,
  WORKER_LEAD,
} from "./parallel-replay.js";
import type { RangeRunner } from "./worker-runner.js";
import { replayFiles } from "./replay.js";
import { createReplayRegistrations } from "./replay-registrations.js";
import { composeDetection } from "./compose-detection.js";
import { createDetectionPipeline } from "./detection-pipeline.js";
import { createManualClock } from "../domain/clock.js";

const dir = mkdtempSync(join(tmpdir(), "sw-par-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const log = join(dir, "asterisk.log");

beforeAll(() => {
  // 120k lines: past replay's expiry step (every 100k lines), with 30% attack lines.
  execFileSync(process.execPath, [
    join(packageRoot(), "bench", "generate-asterisk-log.mjs"),
    ...["--lines", "120000", "--seed", "7", "--out", log, "--attack-ratio", "0.3"],
  ]);
  // Lines the splitter treats specially: CRLF, invalid UTF-8, overlong, and no final newline.
  appendFileSync(
    log,
    "[Nov 20 19:14:42] NOTICE[21446] manager.c: 198.19.182.249 tried to authenticate with nonexistent user 'x'\r\n",
  );
  appendFileSync(log, Buffer.from([0x61, 0xff, 0xfe, 0x62, 0x0a]));
  appendFileSync(log, `${"é".repeat(20_000)}\n`);
  appendFileSync(
    log,
    "[Nov 20 19:14:43] NOTICE[21446] manager.c: 198.19.182.250 tried to authenticate with nonexistent user 'y'",
  );
}, 60_000);

describe("scanLines", () => {
  it("gives readLines' lines, numbers and truncation count, whole or in ranges, whatever the chunk size", () => {
    const file = join(dir, "tricky.log");
    writeFileSync(
      file,
      Buffer.concat([
        Buffer.from(`one\r\n${"z".repeat(50)}\nthree\n\n${"é".repeat(30)}\r\n`),
        Buffer.from([0xc3, 0x0a, 0xe2, 0x82, 0x0d, 0x0a]),
        Buffer.from(`${"y".repeat(9)}\r\n${"x".repeat(11)}\r\n${"w".repeat(200)}\r\nlast`),
      ]),
    );
    // All ASCII: chunks are decoded whole, and a prefilter sees slices of them.
    const ascii = join(dir, "ascii.log");
    writeFileSync(
      ascii,
      `x\r\n\n${"x".repeat(10)}\r\n${"y".repeat(11)}\n${"a".repeat(40)}x\r\nb\n${"x\n".repeat(30)}tail x`,
    );
    for (const f of [file, ascii]) checkAgainstReadLines(f);
  });

  function checkAgainstReadLines(file: string): void {
    const want: [string, number][] = [];
    const r = readLines(file, { maxLineLength: 10 }, (t, n) => want.push([t, n]));
    for (const chunkBytes of [1, 7, 64, 1 << 16]) {
      const got: [string, number][] = [];
      const s = scanLines(file, { maxLineLength: 10, chunkBytes }, (t, n) => got.push([t, n]));
      expect(got).toEqual(want);
      expect(s).toEqual({ ...r, delivered: want.length });
      // With a prefilter: exactly the lines it keeps, with their numbers; every line still counted.
      const kept: [string, number][] = [];
      const seen: string[] = [];
      const p = scanLines(
        file,
        {
          maxLineLength: 10,
          chunkBytes,
          prefilter: (t) => {
            seen.push(t);
            return /[xyé]|^$/.test(t);
          },
        },
        (t, n) => kept.push([t, n]),
      );
      expect(seen).toEqual(want.map(([t]) => t));
      expect(kept).toEqual(want.filter(([t]) => /[xyé]|^$/.test(t)));
      expect(kept.length).toBeGreaterThan(2);
      expect(p).toEqual({ ...r, delivered: kept.length });
    }
    const size = statSync(file).size;
    for (const parts of [[0.5], [0.1, 0.2, 0.9], [0.3, 0.31]]) {
      const bounds = cutAtLines(file, size, parts);
      const got: [string, number][] = [];
      let base = 0;
      let truncated = 0;
      for (let k = 0; k + 1 < bounds.length; k++) {
        expect(countNewlines(file, 0, bounds[k] as number)).toBe(base);
        const s = scanLines(
          file,
          { maxLineLength: 10, from: bounds[k], to: bounds[k + 1], chunkBytes: 32 },
          (t, n) => got.push([t, base + n]),
        );
        base += s.lines;
        truncated += s.truncated;
      }
      expect(got).toEqual(want);
      expect(truncated).toBe(r.truncated);
    }
  }
});

describe("scanReplayRange", () => {
  it("cuts every part from a buffer of full size, also once the previous part's buffer was moved away", () => {
    // A worker transfers each part's buffers to the main thread, which detaches them on its side.
    const partBytes = 64 * 1024;
    const sizes: number[] = [];
    let entries = 0;
    const lines = scanReplayRange(
      [resolveFilter("asterisk")],
      {
        specs: ["asterisk"],
        path: log,
        from: 0,
        to: statSync(log).size,
        maxLineLength: 16_384,
        referenceTime: Date.UTC(2024, 11, 1),
      },
      (part) => {
        sizes.push(part.bytes.buffer.byteLength);
        entries += part.count;
        const moved = part.bytes.buffer as ArrayBuffer;
        structuredClone(moved, { transfer: [moved] });
        expect(part.bytes.buffer.byteLength).toBe(0);
      },
      partBytes,
    );
    expect(lines).toBe(120_004);
    expect(entries).toBeGreaterThan(30_000);
    expect(sizes.length).toBeGreaterThan(10);
    expect(new Set(sizes)).toEqual(new Set([partBytes + (partBytes >> 4)]));
  }, 60_000);
});

describe("split scans", () => {
  it("test-filter reports the same, byte for byte, on one thread and split", async () => {
    const size = statSync(log).size;
    // Split: the worker's JSON in one chunk or in many small ones, written as text or as bytes.
    for (const [flags, chunkBytes, bytes] of [
      [{ json: true }, undefined, false],
      [{ json: true }, 4096, true],
      [{}, undefined, true],
    ] as const) {
      const one = createRecordingIo();
      const two = createRecordingIo({}, { bytes });
      const run = (io: typeof one, parallel: boolean): Promise<number> =>
        runTestFilter(
          resolveFilter("asterisk"),
          "asterisk",
          log,
          size,
          Date.UTC(2024, 11, 1),
          16_384,
          flags,
          io,
          {
            parallel,
            ...(parallel ? { runner: createInProcessRunner(chunkBytes) } : {}),
          },
        );
      expect(await run(one, false)).toBe(0);
      expect(await run(two, true)).toBe(0);
      expect(two.out()).toBe(one.out());
      if (flags.json) {
        const r = JSON.parse(one.out());
        expect(r.lines).toBe(120_004);
        expect(r.matched).toBeGreaterThan(30_000);
        expect(r.matches.at(-1).line).toBe(120_004);
      }
    }
  }, 60_000);

  it("test-filter's report is match() on every line, with needles and without", async () => {
    // Case-insensitive rules give a filter no needles: the scan then asks its first look about each line.
    const noNeedles = join(dir, "no-needles.conf");
    writeFileSync(
      noNeedles,
      "[Definition]\nfailregex = ^(?i)\\[[^]]*\\] notice\\[\\d+\\] chan_sip\\.c: registration from '.*' failed for '<HOST>:\\d+' - .*$\n",
    );
    for (const [spec, least, needles] of [
      ["asterisk", 30_000, true],
      [noNeedles, 1_000, false],
    ] as const) {
      const io = createRecordingIo();
      const ref = resolveFilter(spec);
      expect(ref.lineNeedles !== undefined, spec).toBe(needles);
      const ctx = { referenceTime: Date.UTC(2024, 11, 1) };
      const want: { line: number; address: string }[] = [];
      const counts = { matched: 0, ignored: 0, missed: 0 };
      const r = readLines(log, { maxLineLength: 16_384 }, (text, line) => {
        const m = ref.match(text, ctx);
        if (m.status === "matched") {
          counts.matched++;
          want.push({ line, address: m.match.address.text });
        } else if (m.status === "ignored") counts.ignored++;
        else counts.missed++;
      });
      const size = statSync(log).size;
      await runTestFilter(
        resolveFilter(spec),
        spec,
        log,
        size,
        ctx.referenceTime,
        16_384,
        { json: true },
        io,
        {
          parallel: false,
        },
      );
      const got = JSON.parse(io.out());
      expect(got).toMatchObject({ lines: r.lines, ...counts });
      expect(
        got.matches.map((m: { line: number; address: string }) => ({ line: m.line, address: m.address })),
      ).toEqual(want);
      expect(want.length, spec).toBeGreaterThan(least);
    }
  }, 60_000);

  it("replay decides as the plain pipeline fed every line: the needle scan skips only what no filter wants", async () => {
    const config = loadConfigText("preset: asterisk\nallowlist:\n  - 192.168.0.0/16\n", "test.yaml");
    const ref = Date.UTC(2024, 11, 1);
    const got: string[] = [];
    await replayFiles([log], config, ref, (d) => got.push(JSON.stringify(decisionToJson(d))));
    // The reference: every line to every jail's filter, no needles, expiry every 100k lines as replay does,
    // with the same registrations from successful logins.
    const want: string[] = [];
    const registrations = createReplayRegistrations(config, {
      detector: () => stages.detector,
      decided: (ds) => ds.forEach((d) => want.push(JSON.stringify(decisionToJson(d)))),
    });
    const stages = await composeDetection(config, {
      clock: createManualClock(ref),
      registrations: registrations.view,
      registrationJudge: registrations.judge,
    });
    expect(stages.jails.length).toBeGreaterThan(1);
    let lastTime = 0;
    const pipeline = createDetectionPipeline({
      jails: stages.jails,
      detector: stages.detector,
      referenceTime: () => ref,
      everyJailReadsEverySource: true,
      onOffense: (j, o, line) => {
        if (o.time > lastTime) lastTime = o.time;
        registrations.onOffense(j, o, line);
      },
    });
    readLines(log, { maxLineLength: 16_384 }, (text, lineNo) => {
      for (const d of pipeline.processLine(log, { source: log, text, lineNo }))
        want.push(JSON.stringify(decisionToJson(d)));
      if (lineNo % 100_000 === 0 && lastTime > 0) {
        stages.detector.expire(lastTime);
        registrations.expire(lastTime);
      }
    });
    expect(want.length).toBeGreaterThan(100);
    expect(got).toEqual(want);
  }, 60_000);

  it("replay makes the same decisions, with the same line numbers, on one thread and split", async () => {
    const config = loadConfigText("preset: asterisk\nallowlist:\n  - 192.168.0.0/16\n", "test.yaml");
    // Who scanned each chunk of each file, as the claims were left.
    let owners: number[][] = [];
    const run = async (
      runner?: RangeRunner,
      chunkBytes?: number,
    ): Promise<{ decisions: string[]; stats: unknown }> => {
      owners = [];
      const watched: RangeRunner | undefined =
        runner === undefined
          ? undefined
          : {
              ...runner,
              replay: async (job, onChunk) => {
                await runner.replay(job, onChunk);
                owners.push(Array.from(job.claims.subarray(0, -1)));
              },
            };
      const decisions: string[] = [];
      const stats = await replayFiles(
        [log, log],
        config,
        Date.UTC(2024, 11, 1),
        (d) => decisions.push(JSON.stringify(decisionToJson(d))),
        {
          parallel: watched !== undefined,
          ...(watched === undefined ? {} : { runner: watched }),
          ...(chunkBytes === undefined ? {} : { chunkBytes }),
        },
      );
      return { decisions, stats };
    };
    const one = await run();
    expect(one.decisions.length).toBeGreaterThan(100);
    expect(one.decisions.some((d) => d.includes('"lineNo":1'))).toBe(true);
    expect(one.stats).toMatchObject({ lines: 240_008 });

    // The worker's own claims: every chunk from WORKER_LEAD on; the main thread scans the first ones.
    expect(await run(createInProcessRunner())).toEqual(one);
    expect(owners).toHaveLength(2);
    for (const o of owners) {
      expect(o.length).toBeGreaterThan(WORKER_LEAD + 5);
      expect(o).toEqual(o.map((_, c) => (c < WORKER_LEAD ? CLAIMED_BY_MAIN : CLAIMED_BY_WORKER)));
    }
    // Every other chunk of 256 KiB, in parts of 100 bytes (cut after nearly every line, each buffer grown
    // for the line's fields).
    expect(
      await run(
        createInProcessRunner(100, (c) => c % 2 === 1),
        256 * 1024,
      ),
    ).toEqual(one);
    for (const o of owners) {
      expect(o.length).toBeGreaterThan(60);
      expect(o).toEqual(o.map((_, c) => (c % 2 === 1 ? CLAIMED_BY_WORKER : CLAIMED_BY_MAIN)));
    }
    // The worker claims every chunk: this thread only feeds.
    expect(await run(createInProcessRunner(undefined, () => true))).toEqual(one);
    for (const o of owners) expect(new Set(o)).toEqual(new Set([CLAIMED_BY_WORKER]));
  }, 60_000);

  it("a worker claims chunks from WORKER_LEAD to CHUNKS_AHEAD past those fed, waits for more, then is done", () => {
    const n = CHUNKS_AHEAD + 6;
    const claims = new Int32Array(new SharedArrayBuffer(4 * (n + 1)));
    const take = (): number[] => {
      const got: number[] = [];
      for (let c = claimForWorker(claims); c >= 0 && got.length <= n; c = claimForWorker(claims)) got.push(c);
      return got;
    };
    const from = (a: number, b: number): number[] => Array.from({ length: b - a }, (_, k) => a + k);
    // The main thread has the first chunk, and one further on.
    expect(claimChunk(claims, 0, CLAIMED_BY_MAIN)).toBe(true);
    expect(claimChunk(claims, WORKER_LEAD + 1, CLAIMED_BY_MAIN)).toBe(true);
    expect(claimChunk(claims, WORKER_LEAD + 1, CLAIMED_BY_WORKER)).toBe(false);
    expect(take()).toEqual(from(WORKER_LEAD, CHUNKS_AHEAD).filter((c) => c !== WORKER_LEAD + 1));
    expect(claimForWorker(claims)).toBe(WAIT);
    // Each chunk fed frees one more.
    chunkFed(claims);
    expect(chunksFed(claims)).toBe(1);
    expect(take()).toEqual([CHUNKS_AHEAD]);
    expect(claimForWorker(claims)).toBe(WAIT);
    for (let k = 0; k < 5; k++) chunkFed(claims);
    // The window now reaches the last chunk: once those are claimed, the worker is done.
    expect(take()).toEqual(from(CHUNKS_AHEAD + 1, n));
    expect(claimForWorker(claims)).toBe(DONE);
    // Chunks between the ones fed and WORKER_LEAD past them are left to the main thread.
    expect(Array.from(claims.subarray(1, WORKER_LEAD))).toEqual(new Array(WORKER_LEAD - 1).fill(0));
  });
});
