import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfigText } from "../config/load.js";
import { systemClock } from "../domain/clock.js";
import type { StoredDecision } from "../store/decision-store.js";
import { pause, waitFor } from "../sources/testing/wait-for.js";
import { startDaemon } from "./daemon.js";

const dir = mkdtempSync(join(tmpdir(), "sw-daemon-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const stamp = (): string => new Date().toISOString().slice(0, 19).replace("T", " ");
const failure = (ip: string, n: number): string =>
  `[${stamp()}] NOTICE[2345] chan_sip.c: Registration from '"${n}" <sip:${n}@pbx>' failed for '${ip}:5060' - Wrong password\n`;

function config(log: string, maxretry = 3) {
  return loadConfigText(
    [
      `state_dir: ${join(dir, "state")}`,
      "allowlist: [192.168.1.0/24]",
      "sources:",
      `  pbx: { type: file, path: ${log} }`,
      "jails:",
      `  asterisk: { filter: asterisk, sources: [pbx], maxretry: ${maxretry} }`,
    ].join("\n"),
    "daemon.yaml",
  );
}

const quiet = pino({ enabled: false });
const run = async () => ({ code: 0, stdout: "", stderr: "" });

/** A pino logger whose records land in `records`. */
function recordingLog(records: Record<string, unknown>[]) {
  return pino(
    {},
    { write: (line: string) => void records.push(JSON.parse(line) as Record<string, unknown>) },
  );
}

describe("daemon (dry-run firewall)", () => {
  it("a log in another time zone: warned about, and read right with the filter's logtimezone", async () => {
    const log = join(dir, "zoned");
    writeFileSync(log, "");
    // As a container logging in UTC-2 writes it: its clock reads two hours behind ours (tests run in UTC).
    const behind = (ip: string, n: number): string =>
      failure(ip, n).replace(
        /^\[[^\]]+\]/,
        `[${new Date(Date.now() - 2 * 3_600_000).toISOString().slice(0, 19).replace("T", " ")}]`,
      );
    let shift = 0;
    const clock = { now: () => Date.now() + shift };
    const records: Record<string, unknown>[] = [];
    const seen: StoredDecision[] = [];
    const deps = { clock, log: recordingLog(records), run, onDecision: (d: StoredDecision) => seen.push(d) };
    const zoned = (extra: string) =>
      loadConfigText(
        [
          `state_dir: ${join(dir, `state-zoned-${extra.length}`)}`,
          "sources:",
          `  pbx: { type: file, path: ${log} }`,
          "jails:",
          `  asterisk: { filter: asterisk, sources: [pbx], maxretry: 2, bantime: 1h${extra} }`,
        ].join("\n"),
        "zoned.yaml",
      );
    let daemon = await startDaemon(zoned(""), { backend: "dry-run" }, deps);
    try {
      shift = 61_000; // past the start-up catch-up
      appendFileSync(log, behind("203.0.113.80", 1) + behind("203.0.113.80", 2));
      await waitFor(() => seen.length === 1, "the ban");
      // Dated two hours back, a one-hour ban is over before it reaches the kernel: hence the warning.
      expect(await daemon.backend.listBans()).toEqual([]);
      const warning = records.find((r) => r.skewMinutes !== undefined);
      expect(warning).toMatchObject({ level: 40, jail: "asterisk", skewMinutes: -121 });
      expect(String(warning?.msg)).toMatch(/logtimezone/);
    } finally {
      await daemon.stop();
    }
    shift = 0;
    records.length = 0;
    daemon = await startDaemon(zoned(', logtimezone: "-0200"'), { backend: "dry-run" }, deps);
    try {
      shift = 61_000;
      appendFileSync(log, behind("203.0.113.81", 1) + behind("203.0.113.81", 2));
      await waitFor(() => seen.length === 2, "the second ban");
      expect((await daemon.backend.listBans()).map((b) => b.target)).toEqual(["203.0.113.81"]);
      expect(records.filter((r) => r.skewMinutes !== undefined)).toEqual([]);
    } finally {
      await daemon.stop();
    }
  });

  it("bans from the log, spares the allowlist, restores after a restart without re-reading or skipping lines", async () => {
    const log = join(dir, "full");
    writeFileSync(log, failure("198.51.100.9", 1).repeat(10)); // present before the first start: not counted
    const seen: StoredDecision[] = [];
    const deps = { clock: systemClock, log: quiet, run, onDecision: (d: StoredDecision) => seen.push(d) };
    let daemon = await startDaemon(config(log), { backend: "dry-run" }, deps);
    appendFileSync(log, failure("203.0.113.7", 1) + failure("203.0.113.7", 2) + failure("203.0.113.7", 3));
    appendFileSync(log, failure("192.168.1.20", 1).repeat(3));
    await waitFor(() => seen.length === 2, "a ban and a spare");
    expect(seen.map((d) => [d.action, d.target, d.origin])).toEqual([
      ["ban", "203.0.113.7", "jail:asterisk"],
      ["spare", "192.168.1.20", "jail:asterisk"],
    ]);
    expect((await daemon.backend.listBans()).map((b) => b.target)).toEqual(["203.0.113.7"]);
    expect(daemon.store.activeDecisions(Date.now()).map((d) => d.target)).toEqual(["203.0.113.7"]);
    await daemon.stop();

    // Written while stopped: read exactly once after the restart; the new kernel state gets the old ban.
    appendFileSync(log, failure("198.51.100.20", 1) + failure("198.51.100.20", 2));
    daemon = await startDaemon(config(log), { backend: "dry-run" }, deps);
    try {
      expect((await daemon.backend.listBans()).map((b) => b.target)).toEqual(["203.0.113.7"]);
      await pause(200);
      expect(seen).toHaveLength(2);
      appendFileSync(log, failure("198.51.100.20", 3));
      await waitFor(() => seen.length === 3, "the third failure's ban");
      expect(seen[2]!.evidence.map((e) => /<sip:(\d+)@/.exec(e.line)?.[1])).toEqual(["1", "2", "3"]);
      expect(seen.filter((d) => d.target === "198.51.100.9")).toHaveLength(0);

      // A reload swaps detection and policy and keeps the bans.
      await daemon.reload(config(log, 10));
      expect((await daemon.backend.listBans()).map((b) => b.target).sort()).toEqual([
        "198.51.100.20",
        "203.0.113.7",
      ]);
      expect(daemon.config().jails[0]!.maxretry).toBe(10);
    } finally {
      await daemon.stop();
    }
  });

  it("a restart remembers past bans: the next ban of the same address is escalated", async () => {
    const log = join(dir, "esc");
    writeFileSync(log, "");
    const seen: StoredDecision[] = [];
    const deps = { clock: systemClock, log: quiet, run, onDecision: (d: StoredDecision) => seen.push(d) };
    const cfg = loadConfigText(
      [
        `state_dir: ${join(dir, "state-esc")}`,
        "sources:",
        `  pbx: { type: file, path: ${log} }`,
        "jails:",
        "  asterisk: { filter: asterisk, sources: [pbx], maxretry: 1, bantime: 1 }",
      ].join("\n"),
      "esc.yaml",
    );
    let daemon = await startDaemon(cfg, { backend: "dry-run" }, deps);
    appendFileSync(log, failure("203.0.113.50", 1));
    await waitFor(() => seen.length === 1, "first ban");
    await daemon.stop();
    await pause(1100); // the 1 s ban is over
    daemon = await startDaemon(cfg, { backend: "dry-run" }, deps);
    try {
      appendFileSync(log, failure("203.0.113.50", 2));
      await waitFor(() => seen.length === 2, "second ban");
      expect(seen[1]).toMatchObject({ action: "ban", priorBans: 1, durationMs: 2000 });
    } finally {
      await daemon.stop();
    }
  });
});
