// Tests the journald source's process handling with an injected spawn: batching, cursor, restart, backoff, stop.
import { EventEmitter } from "node:events";
import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import type { LogLine } from "../domain/log-line.js";
import { createJournaldSource, type JournaldSource, type SpawnFn } from "./journald.js";
import type { PositionStore, SourceEvent, SourcePosition } from "./log-source.js";
import { waitFor } from "./testing/wait-for.js";

class FakeProcess extends EventEmitter {
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly signals: string[] = [];
  constructor(readonly args: readonly string[]) {
    super();
  }
  kill(signal: NodeJS.Signals = "SIGTERM"): boolean {
    this.signals.push(signal);
    setImmediate(() => this.emit("exit", null, signal));
    return true;
  }
  entry(cursor: string, message: unknown, usec = "1700000000000000"): void {
    this.stdout.write(
      `${JSON.stringify({ __CURSOR: cursor, __REALTIME_TIMESTAMP: usec, MESSAGE: message })}\n`,
    );
  }
}

interface Fake {
  spawn: SpawnFn;
  procs: FakeProcess[];
  commands: string[];
}

/** Each spawn starts successfully unless `failures` says to fail it with ENOENT. */
function fakeSpawn(failures: Set<number> = new Set()): Fake {
  const procs: FakeProcess[] = [];
  const commands: string[] = [];
  const spawn: SpawnFn = (command, args) => {
    commands.push(command);
    const p = new FakeProcess(args);
    const n = procs.push(p);
    setImmediate(() => {
      if (failures.has(n))
        p.emit("error", Object.assign(new Error("spawn journalctl ENOENT"), { code: "ENOENT" }));
      else p.emit("spawn");
    });
    return p;
  };
  return { spawn, procs, commands };
}

function memoryStore(
  initial: Record<string, SourcePosition> = {},
): PositionStore & { data: Map<string, SourcePosition> } {
  const data = new Map(Object.entries(initial));
  return {
    data,
    load: async (id) => data.get(id),
    save: async (id, p) => {
      data.set(id, p);
    },
  };
}

const sources: JournaldSource[] = [];
afterEach(async () => {
  for (const s of sources.splice(0)) await s.stop();
});

function make(
  fake: Fake,
  store = memoryStore(),
  restart = { initialDelayMs: 1, maxDelayMs: 4, maxAttempts: 3, stableAfterMs: 60_000 },
) {
  const events: SourceEvent[] = [];
  const lines: LogLine[] = [];
  const source = createJournaldSource(
    { matches: ["_SYSTEMD_UNIT=freeswitch.service"], restart },
    { positions: store, spawn: fake.spawn, onEvent: (e) => events.push(e) },
  );
  sources.push(source);
  return { source, events, lines, store, start: () => source.start((b) => lines.push(...b)) };
}

describe("createJournaldSource", () => {
  it("runs journalctl at the end of the journal and delivers each output chunk as one batch", async () => {
    const fake = fakeSpawn();
    const h = make(fake);
    const batches: number[] = [];
    await h.source.start((b) => {
      batches.push(b.length);
      h.lines.push(...b);
    });
    expect(h.source.id).toBe("journald:_SYSTEMD_UNIT=freeswitch.service");
    expect(fake.commands).toEqual(["journalctl"]);
    expect(fake.procs[0]?.args).toContain("--lines=0");
    const p = fake.procs[0] as FakeProcess;
    p.stdout.write(
      [
        JSON.stringify({ __CURSOR: "c1", __REALTIME_TIMESTAMP: "1700000000001999", MESSAGE: "one" }),
        JSON.stringify({
          __CURSOR: "c2",
          __REALTIME_TIMESTAMP: "1700000000002000",
          MESSAGE: [116, 119, 111, 0xff],
        }),
        JSON.stringify({ __CURSOR: "c3", __REALTIME_TIMESTAMP: "1700000000003000", MESSAGE: null }),
        "garbage",
        "",
      ].join("\n"),
    );
    await waitFor(() => h.lines.length === 2, "two lines");
    expect(batches).toEqual([2]);
    expect(h.lines).toEqual([
      { source: "journald:_SYSTEMD_UNIT=freeswitch.service", text: "one", time: 1700000000001 },
      { source: "journald:_SYSTEMD_UNIT=freeswitch.service", text: "two\uFFFD", time: 1700000000002 },
    ]);
    await waitFor(
      () => (h.store.data.get(h.source.id) as { cursor?: string } | undefined)?.cursor === "c3",
      "cursor saved",
    );
    expect(h.source.stats()).toMatchObject({ lines: 2, entries: 3, skipped: 1, parseErrors: 1 });
  });

  it("joins a JSON line split across chunks", async () => {
    const fake = fakeSpawn();
    const h = make(fake);
    await h.start();
    const p = fake.procs[0] as FakeProcess;
    const text = `${JSON.stringify({ __CURSOR: "c1", MESSAGE: "split" })}\n`;
    p.stdout.write(text.slice(0, 10));
    p.stdout.write(text.slice(10));
    await waitFor(() => h.lines.length === 1, "line");
    expect(h.lines[0]?.text).toBe("split");
  });

  it("resumes after the saved cursor", async () => {
    const fake = fakeSpawn();
    const h = make(fake, memoryStore({ "journald:_SYSTEMD_UNIT=freeswitch.service": { cursor: "s=x;i=9" } }));
    await h.start();
    expect(fake.procs[0]?.args).toContain("--after-cursor=s=x;i=9");
    expect(fake.procs[0]?.args).not.toContain("--lines=0");
  });

  it("restarts after an unexpected exit, from the last cursor seen, and reports it", async () => {
    const fake = fakeSpawn();
    const h = make(fake);
    await h.start();
    const first = fake.procs[0] as FakeProcess;
    first.entry("c1", "before crash");
    await waitFor(() => h.lines.length === 1, "first line");
    first.stderr.write("Failed to iterate through journal: Bad message\n");
    first.emit("exit", 1, null);
    await waitFor(() => fake.procs.length === 2, "restart");
    expect(fake.procs[1]?.args).toContain("--after-cursor=c1");
    (fake.procs[1] as FakeProcess).entry("c2", "after restart");
    await waitFor(() => h.lines.length === 2, "second line");
    expect(h.events).toEqual([
      expect.objectContaining({
        kind: "restart",
        detail: expect.objectContaining({
          code: 1,
          attempt: 1,
          stderr: ["Failed to iterate through journal: Bad message"],
        }),
      }),
    ]);
    expect(h.source.stats()).toMatchObject({ exits: 1, restarts: 1 });
  });

  it("restarts without a cursor from its start time, not from the end again", async () => {
    const fake = fakeSpawn();
    const h = make(fake);
    await h.start();
    (fake.procs[0] as FakeProcess).emit("exit", 1, null);
    await waitFor(() => fake.procs.length === 2, "restart");
    expect(fake.procs[1]?.args.some((a) => /^--since=@\d+$/.test(a))).toBe(true);
  });

  it("backs off exponentially and gives up after the bounded number of failures", async () => {
    const fake = fakeSpawn(new Set([3]));
    const h = make(fake);
    await h.start();
    for (let n = 1; n <= 4; n++) {
      await waitFor(() => fake.procs.length === n, `process ${n}`);
      if (n !== 3) (fake.procs[n - 1] as FakeProcess).emit("exit", 1, null);
    }
    await waitFor(() => h.events.some((e) => e.kind === "gave-up"), "gave up");
    expect(h.events.map((e) => [e.kind, e.detail?.delayMs])).toEqual([
      ["restart", 1],
      ["restart", 2],
      ["restart", 4],
      ["gave-up", undefined],
    ]);
    expect(h.events[2]?.detail?.err).toMatch(/ENOENT/);
    expect(h.source.stats()).toMatchObject({ restarts: 3, gaveUp: 1, exits: 4 });
    expect(fake.procs.length).toBe(4);
  });

  it("resets the failure count once a run delivered lines", async () => {
    const fake = fakeSpawn();
    const h = make(fake);
    await h.start();
    for (let n = 1; n <= 6; n++) {
      await waitFor(() => fake.procs.length === n, `process ${n}`);
      const p = fake.procs[n - 1] as FakeProcess;
      p.entry(`c${n}`, `m${n}`);
      await waitFor(() => h.lines.length === n, `line ${n}`);
      p.emit("exit", 1, null);
    }
    await waitFor(() => fake.procs.length === 7, "seventh run");
    expect(h.events.every((e) => e.kind === "restart" && e.detail?.attempt === 1)).toBe(true);
  });

  it("stop() kills journalctl, does not restart it, and saves the cursor", async () => {
    const fake = fakeSpawn();
    const store = memoryStore();
    const h = make(fake, store);
    await h.start();
    const p = fake.procs[0] as FakeProcess;
    p.entry("c7", "x");
    await waitFor(() => h.lines.length === 1, "line");
    await h.source.stop();
    expect(p.signals).toEqual(["SIGTERM"]);
    expect(store.data.get(h.source.id)).toEqual({ cursor: "c7" });
    expect(h.events).toEqual([]);
    expect(fake.procs.length).toBe(1);
  });

  it("fails start() with a user error when journalctl cannot be run", async () => {
    const fake = fakeSpawn(new Set([1]));
    const h = make(fake);
    await expect(h.start()).rejects.toThrow(/cannot run journalctl: ENOENT/);
    expect(fake.procs.length).toBe(1);
    expect(h.events).toEqual([]);
  });

  it("rejects invalid matches at creation", () => {
    expect(() =>
      createJournaldSource(
        { matches: ["--output=cat"] },
        { positions: memoryStore(), spawn: fakeSpawn().spawn },
      ),
    ).toThrow(/invalid journald match/);
  });
});
