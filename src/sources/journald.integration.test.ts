// Runs the journald source over real journal files built with systemd-journal-remote and read by real journalctl.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { LogLine } from "../domain/log-line.js";
import { createFilePositionStore } from "./file-position-store.js";
import { createJournaldSource, type JournaldSource } from "./journald.js";
import { exportEntry, requireJournalRemote, timeOf, writeJournal } from "./testing/journal-export.js";
import { waitFor } from "./testing/wait-for.js";

const UNIT = "freeswitch.service";

let dir: string;
let journal: string;
let seq = 0;
const running: JournaldSource[] = [];

/** The next entry, numbered in write order across the file's tests. */
const entry = (fields: Record<string, string | Buffer>): Buffer => exportEntry(++seq, fields);
const write = (entries: Buffer[]): void => writeJournal(journal, entries);

// Never skip: without the real tool this test would prove nothing.
beforeAll(() => void requireJournalRemote());

describe("journald source over real journalctl", () => {
  afterEach(async () => {
    for (const s of running.splice(0)) await s.stop();
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("delivers matching entries with times, resumes by cursor, and follows appends live", async () => {
    dir = await mkdtemp(join(tmpdir(), "sw-journal-"));
    journal = join(dir, "pbx.journal");
    const store = createFilePositionStore(join(dir, "positions.json"), {}, { debounceMs: 5 });
    const base = seq;
    write([
      entry({ _SYSTEMD_UNIT: UNIT, MESSAGE: "Registration failed for '192.0.2.1:5060'" }),
      entry({ _SYSTEMD_UNIT: "other.service", MESSAGE: "not for us" }),
      entry({ _SYSTEMD_UNIT: UNIT, MESSAGE: Buffer.from([0x62, 0x69, 0x6e, 0xff, 0x01]) }),
      entry({ _SYSTEMD_UNIT: UNIT, MESSAGE: "third\n" }),
    ]);

    const make = (fromStart: boolean) => {
      const s = createJournaldSource(
        { matches: [`_SYSTEMD_UNIT=${UNIT}`], files: [journal], fromStart },
        { positions: store },
      );
      running.push(s);
      return s;
    };

    const got1: LogLine[] = [];
    const first = make(true);
    await first.start((b) => got1.push(...b));
    await waitFor(() => got1.length === 3, "three entries", 5000);
    const id = `journald:_SYSTEMD_UNIT=${UNIT}`;
    expect(got1).toEqual([
      { source: id, text: "Registration failed for '192.0.2.1:5060'", time: timeOf(base + 1) },
      { source: id, text: "bin\uFFFD\u0001", time: timeOf(base + 3) },
      { source: id, text: "third", time: timeOf(base + 4) },
    ]);
    await first.stop();
    running.splice(running.indexOf(first), 1);
    const saved = await store.load(id);
    expect(saved?.cursor).toMatch(/^s=[0-9a-f]+;i=4;/);

    // Written while stopped: a restart with the saved cursor delivers only these.
    write([
      entry({ _SYSTEMD_UNIT: UNIT, MESSAGE: "while stopped 1" }),
      entry({ _SYSTEMD_UNIT: UNIT, MESSAGE: "while stopped 2" }),
    ]);
    const got2: LogLine[] = [];
    const second = make(false);
    await second.start((b) => got2.push(...b));
    await waitFor(() => got2.length === 2, "entries written while stopped", 5000);

    // Written while running: journalctl --follow picks it up from the file.
    const sent = Date.now();
    write([entry({ _SYSTEMD_UNIT: UNIT, MESSAGE: "live" })]);
    await waitFor(() => got2.length === 3, "live entry", 5000);
    const latencyMs = Date.now() - sent;
    expect(got2.map((l) => l.text)).toEqual(["while stopped 1", "while stopped 2", "live"]);
    expect(got2.map((l) => l.time)).toEqual([timeOf(base + 5), timeOf(base + 6), timeOf(base + 7)]);
    expect(second.stats()).toMatchObject({ lines: 3, restarts: 0, parseErrors: 0 });
    console.log(`journald live follow latency (incl. systemd-journal-remote run): ${latencyMs} ms`);
    await store.close();
  });

  it("hands a message over with its syslog tag, and the FusionPBX preset's web-login jail reads it", async () => {
    dir ??= await mkdtemp(join(tmpdir(), "sw-journal-"));
    const tagged = join(dir, "tagged.journal");
    journal = tagged;
    const base = seq;
    write([
      // As FusionPBX's openlog('FusionPBX', …) lands in the journal; what follows a line break is dropped.
      entry({
        SYSLOG_IDENTIFIER: "FusionPBX",
        SYSLOG_PID: "4242",
        _PID: "4242",
        // A value holding a line break goes in the export format's binary form.
        MESSAGE: Buffer.from(
          "[192.0.2.9] authentication failed for admin\n[198.51.100.66] authentication failed for x",
        ),
      }),
      // Not the preset's identifier (journal matches are exact): never read.
      entry({
        SYSLOG_IDENTIFIER: "fusionpbx",
        MESSAGE: "[192.0.2.10] authentication failed for other",
      }),
      entry({
        SYSLOG_IDENTIFIER: "FusionPBX",
        MESSAGE: "[192.0.2.11] authentication failed for third",
      }),
    ]);
    const { PRESETS } = await import("../config/presets.js");
    const match = PRESETS.fusionpbx.sources?.fusionpbx;
    if (match?.type !== "journald") throw new Error("the fusionpbx preset has no journald source");
    const store = createFilePositionStore(join(dir, "positions-tagged.json"), {}, { debounceMs: 5 });
    const s = createJournaldSource(
      { matches: [...match.match], files: [tagged], fromStart: true },
      { positions: store },
    );
    running.push(s);
    const got: LogLine[] = [];
    await s.start((b) => got.push(...b));
    await waitFor(() => got.length === 2, "a line of each FusionPBX entry", 5000);
    expect(got.map((l) => l.text)).toEqual([
      "FusionPBX[4242]: [192.0.2.9] authentication failed for admin",
      "FusionPBX: [192.0.2.11] authentication failed for third",
    ]);
    expect(got.map((l) => l.time)).toEqual([timeOf(base + 1), timeOf(base + 3)]);
    // Through the preset's filter: both count; the address after the line break is nowhere.
    const { resolveFilter } = await import("../filters/resolve.js");
    const filter = resolveFilter("fusionpbx");
    const results = got.map((l) => filter.match(l.text, { referenceTime: Date.now(), time: l.time }));
    expect(results.map((r) => (r.status === "matched" ? r.match.address.text : r.status))).toEqual([
      "192.0.2.9",
      "192.0.2.11",
    ]);
    await store.close();
  });
});
