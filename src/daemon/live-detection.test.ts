import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfigText } from "../config/load.js";
import { systemClock } from "../domain/clock.js";
import type { Decision } from "../domain/decision.js";
import { pause, waitFor } from "../sources/testing/wait-for.js";
import { startLiveDetection } from "./live-detection.js";

const dir = mkdtempSync(join(tmpdir(), "sw-live-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const failure = (ip: string, n: number): string =>
  `[${new Date().toISOString().slice(0, 19).replace("T", " ")}] NOTICE[2345] chan_sip.c: Registration from '"${n}" <sip:${n}@pbx>' failed for '${ip}:5060' - Wrong password\n`;

function config(log: string) {
  return loadConfigText(
    [
      `state_dir: ${join(dir, "state")}`,
      "allowlist: [192.168.1.0/24]",
      "sources:",
      `  pbx: { type: file, path: ${log} }`,
      "jails:",
      "  asterisk: { filter: asterisk, sources: [pbx], maxretry: 3 }",
    ].join("\n"),
    "live.yaml",
  );
}

describe("live detection", () => {
  it("a failure appended to the PBX log becomes a decision, and a restart neither re-counts nor skips lines", async () => {
    const log = join(dir, "full");
    writeFileSync(log, failure("198.51.100.9", 1).repeat(10)); // old lines: not counted at first start
    const decisions: Decision[] = [];
    const deps = {
      clock: systemClock,
      log: pino({ enabled: false }),
      onDecision: (d: Decision) => decisions.push(d),
    };
    let live = await startLiveDetection(config(log), deps);
    appendFileSync(log, failure("203.0.113.7", 1) + failure("203.0.113.7", 2));
    appendFileSync(log, failure("192.168.1.20", 1).repeat(3));
    await waitFor(() => decisions.some((d) => d.action === "spare"));
    expect(decisions.map((d) => [d.action, d.target])).toEqual([["spare", "192.168.1.20"]]);
    await live.stop();

    // Written while stopped: must be read once after the restart, and counted with the two before.
    appendFileSync(log, failure("203.0.113.7", 3));
    live = await startLiveDetection(config(log), deps);
    // Detector counts live in memory until the store lands, so the restart starts a fresh window:
    // the third failure alone must not ban; with two more it must, and its evidence shows it once.
    await pause(300);
    expect(decisions.filter((d) => d.action === "ban")).toHaveLength(0);
    appendFileSync(log, failure("203.0.113.7", 4) + failure("203.0.113.7", 5));
    await waitFor(() => decisions.some((d) => d.action === "ban"));
    const ban = decisions.find((d) => d.action === "ban")!;
    expect(ban).toMatchObject({ target: "203.0.113.7", origin: "jail:asterisk" });
    expect(ban.evidence.map((e) => /<sip:(\d+)@/.exec(e.line)?.[1])).toEqual(["3", "4", "5"]);
    expect(decisions.filter((d) => d.target === "198.51.100.9")).toHaveLength(0);
    await live.stop();
  });
});
