import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createRecordingIo } from "../test-io.js";
import { installServiceCommand } from "./install-service.js";

const root = mkdtempSync(join(tmpdir(), "sw-unit-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("install-service", () => {
  it("writes a hardened unit that systemd accepts", async () => {
    const io = createRecordingIo();
    expect(await installServiceCommand(["--root", root, "--config", "/etc/sipwarden/pbx.yaml"], io)).toBe(0);
    const path = join(root, "etc/systemd/system/sipwarden.service");
    const unit = readFileSync(path, "utf8");
    expect(statSync(path).mode & 0o777).toBe(0o644);
    expect(unit).toMatch(
      /^ExecStart=\/usr\/bin\/node \S+\/dist\/cli\/main\.js run --config \/etc\/sipwarden\/pbx\.yaml$/m,
    );
    expect(unit).toMatch(/^CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW CAP_DAC_READ_SEARCH$/m);
    expect(unit).toMatch(/^ProtectSystem=strict$/m);
    expect(unit).toMatch(/^StateDirectory=sipwarden$/m);
    expect(unit).toMatch(/^NoNewPrivileges=yes$/m);
    // systemd's own parser: unknown keys or bad values are reported on stderr.
    expect(existsSync("/usr/bin/systemd-analyze"), "systemd-analyze (package systemd) is required").toBe(
      true,
    );
    const r = spawnSync("systemd-analyze", ["verify", "--man=no", path], { encoding: "utf8" });
    const complaints = r.stderr
      .split("\n")
      .filter((l) => l.includes("sipwarden.service") && !/Failed to|not found|executable/i.test(l));
    expect(complaints).toEqual([]);
  });
});
