// `apply --try` / `confirm` / the detached rollback watcher, with the built CLI inside a network namespace.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FW_V4, PEER_V4, createLab, requireLabTools } from "../../test/enforce/netns.js";
import type { Lab } from "../../test/enforce/netns.js";
import { packageRoot } from "../daemon/package-root.js";

const MAIN = join(packageRoot(), "dist", "cli", "main.js");
const dir = mkdtempSync(join(tmpdir(), "sw-try-"));
const runDir = join(dir, "run");
let lab: Lab;

/** Runs the built CLI in the fw namespace, without the caller's SSH_CONNECTION (the lockout check is unit-tested). */
function cli(ns: string, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const env = { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin", SIPWARDEN_RUN_DIR: runDir };
  return new Promise((resolve) => {
    execFile(
      "ip",
      ["netns", "exec", ns, process.execPath, MAIN, ...args],
      { env, timeout: 30_000 },
      (e, out, err) => resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, out, err }),
    );
  });
}

function config(name: string, open: string): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    [
      "preset: asterisk",
      "firewall:",
      "  services: { app: { ports: [8080], protocols: [tcp] } }",
      `  open: [${open}]`,
      "  sip_inspection: false",
      "  protections: { port_scan_trap: false }",
    ].join("\n") + "\n",
  );
  return file;
}

const peer = PEER_V4[0];

beforeAll(async () => {
  // Loud, not skipped: the suite runs after `npm run build`, and a missing dist means a broken pipeline.
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first`);
  await requireLabTools();
  lab = await createLab({ tcp: [22, 8080], udp: [] });
});

afterAll(async () => {
  await lab?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

describe("apply --try", () => {
  it.each(["nftables", "iptables"])(
    "%s: rolls back to the previous ruleset by itself when nobody confirms",
    async (backend) => {
      const open = await cli(lab.fw, "apply", "--config", config("open", "ssh, app"), "--backend", backend);
      expect(open.err).toBe("");
      expect(open.code).toBe(0);
      expect(await lab.tcp(peer, FW_V4, 8080)).toBe("open");

      const trial = await cli(
        lab.fw,
        "apply",
        "--config",
        config("closed", "ssh"),
        "--try",
        "5",
        "--backend",
        backend,
      );
      expect(trial.code).toBe(0);
      expect(trial.out).toMatch(/rolls back in 5 s unless you run: sipwarden confirm/);
      expect(await lab.tcp(peer, FW_V4, 8080)).toBe("timeout");
      // A second apply while the trial is pending is refused.
      expect((await cli(lab.fw, "apply", "--config", config("closed", "ssh"))).err).toMatch(
        /SW_FIREWALL_TRIAL/,
      );

      // Bounded: the 5 s deadline plus the watcher's 200 ms polling and the restore itself.
      let state = "";
      const deadline = Date.now() + 12_000;
      while (Date.now() < deadline && state !== "open") {
        state = await lab.tcp(peer, FW_V4, 8080, 300);
        if (state !== "open") await new Promise((r) => setTimeout(r, 300));
      }
      expect(state).toBe("open");
      // The watcher forgets the trial once the restore is complete (a moment after the port reopened).
      const gone = Date.now() + 5000;
      while (existsSync(join(runDir, "rollback.json")) && Date.now() < gone)
        await new Promise((r) => setTimeout(r, 50));
      expect(existsSync(join(runDir, "rollback.json"))).toBe(false);
      // Leave the namespace clean for the next backend.
      await lab.fwRun("nft", ["flush", "ruleset"]);
      await lab.fwRun("ipset", ["destroy"]);
    },
  );

  it("keeps the new ruleset when confirmed in time", async () => {
    const first = await cli(lab.fw, "apply", "--config", config("open", "ssh, app"));
    expect(first.err).toBe("");
    expect(first.code).toBe(0);
    expect((await cli(lab.fw, "apply", "--config", config("closed", "ssh"), "--try", "5")).code).toBe(0);
    const c = await cli(lab.fw, "confirm");
    expect(c.out).toMatch(/confirmed/);
    // Past the deadline plus the watcher's polling: still closed, and the watcher cleaned up.
    await new Promise((r) => setTimeout(r, 6500));
    expect(await lab.tcp(peer, FW_V4, 8080)).toBe("timeout");
    expect(await lab.tcp(peer, FW_V4, 22)).toBe("open");
    expect(existsSync(join(runDir, "rollback.json"))).toBe(false);
  });
});

describe("apply --boot", () => {
  it("applies the policy and puts the stored bans back with their remaining time", async () => {
    const state = join(dir, "boot-state");
    const { createSqliteDecisionStore } = await import("../store/sqlite/decision-store.js");
    const store = createSqliteDecisionStore({ path: join(state, "sipwarden.db"), retentionMs: 86_400_000 });
    const now = Date.now();
    store.recordDecisions([
      {
        action: "ban",
        target: peer,
        origin: "jail:asterisk",
        reason: "5 failures in 10m (asterisk)",
        scope: { kind: "all" },
        at: now - 60_000,
        durationMs: 3_600_000,
        expiresAt: now - 60_000 + 3_600_000,
        priorBans: 0,
        evidence: [],
      },
    ]);
    store.close();
    const file = join(dir, "boot.yaml");
    writeFileSync(
      file,
      [
        `state_dir: ${state}`,
        "preset: asterisk",
        "firewall:",
        "  services: { app: { ports: [8080], protocols: [tcp] } }",
        "  open: [ssh, app]",
        "  sip_inspection: false",
        "  protections: { port_scan_trap: false }",
      ].join("\n") + "\n",
    );
    const boot = await cli(lab.fw, "apply", "--boot", "--config", file, "--backend", "nftables");
    expect(boot.code).toBe(0);
    expect(boot.out).toMatch(/restored 1 stored ban/);
    // Open to everyone, but the stored ban drops the peer on every port.
    expect(await lab.tcp(peer, FW_V4, 8080)).toBe("timeout");
  });
});
