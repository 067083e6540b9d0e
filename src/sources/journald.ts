// The journald LogSource: runs `journalctl --follow --output=json`, resumes by cursor, restarts it with backoff.
import { spawn as nodeSpawn } from "node:child_process";
import { pino, type Logger } from "pino";
import { systemClock, type Clock } from "../domain/clock.js";
import type { LogLine } from "../domain/log-line.js";
import { errorCode, UserError } from "../domain/errors.js";
import { backoffDelay, type BackoffPolicy } from "./backoff.js";
import { parseJournalEntry } from "./journal-entry.js";
import { buildJournalctlArgs, validateMatches, type JournalctlStart } from "./journalctl-args.js";
import { createLineSplitter, type SplitLine } from "./line-splitter.js";
import type { LogSource, PositionStore, SourceEvent, SourceStats } from "./log-source.js";

export interface RestartPolicy extends BackoffPolicy {
  /** Consecutive failed runs before giving up (reported as a `gave-up` event). */
  readonly maxAttempts: number;
  /** A run that lasted this long, or delivered anything, resets the failure count. */
  readonly stableAfterMs: number;
}

export interface JournaldOptions {
  /** journalctl matches, `FIELD=value` or `+`; validated strictly. */
  readonly matches: readonly string[];
  /** Overrides the default id `journald:<matches joined by ",">`. */
  readonly id?: string;
  /** Read these journal files (exported or copied journals, tests) instead of the system journal. */
  readonly files?: readonly string[];
  readonly directory?: string;
  /** With no saved cursor: read the whole journal instead of starting at its end. */
  readonly fromStart?: boolean;
  /** With no saved cursor: start at this time (journalctl syntax, e.g. `-1h`, `2024-01-01 10:00`). */
  readonly since?: string;
  /** Program to run; default `journalctl` from PATH. */
  readonly journalctl?: string;
  /** Messages longer than this keep their first bytes. Default 16 KiB. */
  readonly maxLineBytes?: number;
  readonly restart?: Partial<RestartPolicy>;
  /** After SIGTERM, wait this long before SIGKILL. Default 2000 ms. */
  readonly stopTimeoutMs?: number;
}

/** The part of a child process this source uses; `child_process.spawn`'s result satisfies it. */
export interface SpawnedProcess {
  readonly stdout: NodeJS.ReadableStream | null;
  readonly stderr: NodeJS.ReadableStream | null;
  kill(signal?: NodeJS.Signals): boolean;
  once(event: "spawn", listener: () => void): unknown;
  once(event: "error", listener: (err: Error) => void): unknown;
  once(event: "exit", listener: (code: number | null, signal: NodeJS.Signals | null) => void): unknown;
}

/** Runs a program directly (never through a shell) with its arguments as an array. */
export type SpawnFn = (
  command: string,
  args: readonly string[],
  options: { readonly stdio: ["ignore", "pipe", "pipe"] },
) => SpawnedProcess;

export interface JournaldDeps {
  readonly positions: PositionStore;
  readonly log?: Logger;
  readonly onEvent?: (event: SourceEvent) => void;
  readonly spawn?: SpawnFn;
  readonly clock?: Clock;
}

export interface JournaldSource extends LogSource {
  stats(): SourceStats;
}

const DEFAULT_RESTART: RestartPolicy = {
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  maxAttempts: 10,
  stableAfterMs: 30_000,
};

/** A JSON line longer than this is cut and then fails to parse; it is counted, never buffered whole. */
export const MAX_JSON_LINE_BYTES = 4 * 1024 * 1024;
const STDERR_LINES_KEPT = 5;

/** The last few non-empty lines a process writes to stderr (each cut to 500 characters), kept as they come. */
export function keepStderrTail(proc: SpawnedProcess): string[] {
  const tail: string[] = [];
  proc.stderr?.on("data", (chunk: Buffer) => {
    for (const line of chunk.toString("utf8").split("\n")) {
      if (line.trim() === "") continue;
      tail.push(line.slice(0, 500));
      if (tail.length > STDERR_LINES_KEPT) tail.shift();
    }
  });
  return tail;
}

/** Runs the program directly (never through a shell). */
export const spawnDirect: SpawnFn = (command, args, options) => nodeSpawn(command, [...args], options);

export function createJournaldSource(options: JournaldOptions, deps: JournaldDeps): JournaldSource {
  validateMatches(options.matches);
  const id = options.id ?? `journald:${options.matches.join(",") || "*"}`;
  const policy: RestartPolicy = { ...DEFAULT_RESTART, ...options.restart };
  const maxLineBytes = options.maxLineBytes ?? 16 * 1024;
  const spawn = deps.spawn ?? spawnDirect;
  const clock = deps.clock ?? systemClock;
  const log = (deps.log ?? pino({ enabled: false })).child({ module: "journald", source: id });
  const counters = { lines: 0, entries: 0, skipped: 0, parseErrors: 0, exits: 0, restarts: 0, gaveUp: 0 };

  let onLines: (lines: readonly LogLine[]) => void = () => undefined;
  let running = false;
  let cursor: string | undefined;
  let savedCursor: string | undefined;
  let firstStartMs = 0;
  let launches = 0;
  let attempt = 0;
  let child: { proc: SpawnedProcess; exited: Promise<void> } | null = null;
  let restartTimer: NodeJS.Timeout | null = null;
  let saveChain: Promise<void> = Promise.resolve();

  function report(kind: SourceEvent["kind"], message: string, detail: Record<string, unknown>): void {
    log[kind === "restart" ? "warn" : "error"](detail, message);
    deps.onEvent?.({ source: id, kind, message, detail });
  }

  function persist(): void {
    saveChain = saveChain.then(async () => {
      if (!running || cursor === undefined || cursor === savedCursor) return;
      const c = cursor;
      try {
        await deps.positions.save(id, { cursor: c });
        savedCursor = c;
      } catch (e) {
        report("error", "position save failed", { err: e instanceof Error ? e.message : String(e) });
      }
    });
  }

  function startPoint(): JournalctlStart {
    if (cursor !== undefined) return { kind: "cursor", cursor };
    if (options.since !== undefined) return { kind: "since", since: options.since };
    if (options.fromStart) return { kind: "all" };
    // A restart before the first entry: `--lines=0` again would skip what arrived while we were down.
    if (launches > 0) return { kind: "since", since: `@${Math.floor(firstStartMs / 1000)}` };
    return { kind: "end" };
  }

  function handle(lines: SplitLine[]): boolean {
    const out: LogLine[] = [];
    const before = cursor;
    for (const l of lines) {
      const e = parseJournalEntry(l.text, maxLineBytes);
      if (!e) {
        counters.parseErrors++;
        continue;
      }
      counters.entries++;
      if (e.cursor !== undefined) cursor = e.cursor;
      if (e.messages.length === 0) counters.skipped++;
      for (const text of e.messages)
        out.push(e.time === undefined ? { source: id, text } : { source: id, text, time: e.time });
    }
    if (out.length > 0) {
      counters.lines += out.length;
      try {
        onLines(out);
      } catch (e) {
        report("error", "line consumer threw", { err: e instanceof Error ? e.message : String(e) });
      }
    }
    if (cursor !== before) persist();
    return out.length > 0;
  }

  function launch(): Promise<void> {
    const args = buildJournalctlArgs(options.matches, options, startPoint());
    launches++;
    const startedAt = clock.now();
    const splitter = createLineSplitter({ maxLineBytes: MAX_JSON_LINE_BYTES });
    let delivered = false;
    let spawned = false;
    let ended = false;
    let markExited: () => void = () => undefined;
    const exited = new Promise<void>((r) => (markExited = r));
    const proc = spawn(options.journalctl ?? "journalctl", args, { stdio: ["ignore", "pipe", "pipe"] });
    const current = { proc, exited };
    child = current;

    proc.stdout?.on("data", (chunk: Buffer) => {
      // Output still buffered after stop() is not delivered; its cursor is not saved either, so the
      // next start delivers it.
      if (!running || child !== current) return;
      if (handle(splitter.push(chunk))) delivered = true;
    });
    const stderr = keepStderrTail(proc);

    const end = (code: number | null, signal: NodeJS.Signals | null, err?: Error): void => {
      if (ended) return;
      ended = true;
      markExited();
      if (child === current) child = null;
      // The very first spawn failing is start()'s error to throw, not a restart to schedule.
      if (!running || (launches === 1 && !spawned)) return;
      counters.exits++;
      if (delivered || clock.now() - startedAt >= policy.stableAfterMs) attempt = 0;
      attempt++;
      const detail = { code, signal, err: err?.message, stderr: [...stderr], attempt };
      if (attempt > policy.maxAttempts) {
        counters.gaveUp = 1;
        report("gave-up", "journalctl keeps failing; giving up", detail);
        return;
      }
      const delayMs = backoffDelay(attempt, policy);
      counters.restarts++;
      report("restart", "journalctl exited; restarting", { ...detail, delayMs });
      restartTimer = setTimeout(() => {
        restartTimer = null;
        if (running) launch().catch(() => undefined); // a failed spawn ends up in `end` again
      }, delayMs);
    };

    return new Promise<void>((resolve, reject) => {
      proc.once("spawn", () => {
        spawned = true;
        resolve();
      });
      proc.once("error", (err) => {
        reject(err);
        end(null, null, err);
      });
      proc.once("exit", (code, signal) => end(code, signal));
    });
  }

  return {
    id,
    async start(consumer) {
      if (running) throw new Error("journald source already started");
      onLines = consumer;
      const stored = await deps.positions.load(id);
      const c = stored?.cursor;
      cursor = typeof c === "string" && c.length > 0 ? c : undefined;
      savedCursor = cursor;
      running = true;
      firstStartMs = clock.now();
      try {
        await launch();
      } catch (e) {
        running = false;
        if (restartTimer) clearTimeout(restartTimer);
        restartTimer = null;
        throw new UserError("SW_SOURCE", `cannot run journalctl: ${errorCode(e)}`);
      }
    },
    async stop() {
      if (!running) return;
      running = false;
      if (restartTimer) clearTimeout(restartTimer);
      restartTimer = null;
      const c = child;
      if (c) {
        c.proc.kill("SIGTERM");
        let timer: NodeJS.Timeout | undefined;
        const killed = new Promise<void>((r) => {
          timer = setTimeout(() => {
            c.proc.kill("SIGKILL");
            r();
          }, options.stopTimeoutMs ?? 2000);
        });
        await Promise.race([c.exited, killed]);
        clearTimeout(timer);
      }
      await saveChain;
      if (cursor !== undefined && cursor !== savedCursor) {
        await deps.positions.save(id, { cursor });
        savedCursor = cursor;
      }
    },
    stats() {
      return { ...counters };
    },
  } satisfies JournaldSource;
}
