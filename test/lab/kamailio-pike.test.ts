// A real Kamailio's pike module blocking a flood on loopback: the line it logs is what
// `kamailio[mode=pike]` reads, naming the flooder's address, and the default mode leaves it alone.
import { spawn, type ChildProcess } from "node:child_process";
import { createSocket } from "node:dgram";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { resolveFilter } from "../../src/filters/resolve.js";
import { kamailioModules, run } from "./lab.js";

const dir = mkdtempSync(join(tmpdir(), "sw-pike-"));
let kamailio: ChildProcess | null = null;

afterAll(async () => {
  const k = kamailio;
  if (k !== null && k.exitCode === null) {
    const gone = new Promise((r) => k.once("exit", r));
    k.kill("SIGTERM");
    const timer = setTimeout(() => k.kill("SIGKILL"), 5000);
    await gone;
    clearTimeout(timer);
  }
  rmSync(dir, { recursive: true, force: true });
});

/** Polls `check` every `everyMs` until it holds or `ms` pass. */
async function waitFor(check: () => boolean, ms: number, everyMs = 100): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, everyMs)))
    if (check()) return true;
  return check();
}

/** An OPTIONS to Kamailio's `port` whose reply comes back to `from` (the Via). */
function options(port: number, from: number, n: number): Buffer {
  return Buffer.from(
    [
      `OPTIONS sip:probe@127.0.0.1:${port} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${from};branch=z9hG4bK-pike-${n}`,
      "Max-Forwards: 70",
      `From: <sip:flood@127.0.0.1>;tag=f${n}`,
      `To: <sip:probe@127.0.0.1:${port}>`,
      `Call-ID: pike-${n}@127.0.0.1`,
      `CSeq: ${n} OPTIONS`,
      "Content-Length: 0",
      "",
      "",
    ].join("\r\n"),
  );
}

describe("kamailio[mode=pike] against a real Kamailio", () => {
  it("reads the line pike logs when it blocks a flooding source, with that source's address", async () => {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const cfg = join(dir, "kamailio.cfg");
    const log = join(dir, "kamailio.log");
    writeFileSync(
      cfg,
      `#!KAMAILIO
debug=1
log_stderror=yes
children=1
disable_tcp=yes
auto_aliases=no
listen=udp:127.0.0.1:${port}
mpath="${kamailioModules()}"
loadmodule "sl.so"
loadmodule "pike.so"
modparam("pike", "sampling_time_unit", 2)
modparam("pike", "reqs_density_per_unit", 5)
modparam("pike", "remove_latency", 4)
request_route {
  if (!pike_check_req()) { exit; }
  sl_send_reply("404", "Not here");
}
`,
    );
    const check = await run("kamailio", ["-c", "-f", cfg], 15_000);
    expect(check.code, check.stderr.slice(-1500)).toBe(0);
    const fd = openSync(log, "a");
    kamailio = spawn("kamailio", ["-f", cfg, "-DD", "-E", "-Y", dir, "-m", "32", "-M", "4"], {
      stdio: ["ignore", fd, fd],
    });
    closeSync(fd);

    const socket = createSocket("udp4");
    let replies = 0;
    socket.on("message", () => replies++);
    await new Promise<void>((r) => socket.bind(0, "127.0.0.1", r));
    const from = socket.address().port;
    try {
      // Ready once it answers (asked twice a second: under pike's 5 requests in 2 s); then a flood.
      const ready = await waitFor(
        () => {
          socket.send(options(port, from, 0), port, "127.0.0.1");
          return replies > 0 || kamailio?.exitCode !== null;
        },
        15_000,
        500,
      );
      expect(ready && kamailio.exitCode === null, readFileSync(log, "utf8").slice(-1500)).toBe(true);
      for (let n = 1; n <= 60; n++) socket.send(options(port, from, n), port, "127.0.0.1");
      const blocked = await waitFor(() => readFileSync(log, "utf8").includes("PIKE - BLOCKing"), 10_000);
      expect(blocked, readFileSync(log, "utf8").slice(-1500)).toBe(true);
    } finally {
      socket.close();
    }

    const lines = readFileSync(log, "utf8")
      .split("\n")
      .filter((l) => l.includes("PIKE - BLOCKing"));
    const pike = resolveFilter("kamailio[mode=pike]");
    const normal = resolveFilter("kamailio");
    const ctx = { referenceTime: Date.now() };
    for (const line of lines) {
      const r = pike.match(line, ctx);
      expect(r.status === "matched" ? r.match.address.text : r.status, line).toBe("127.0.0.1");
      expect(normal.match(line, ctx).status, line).toBe("missed");
    }
    expect(lines.length).toBeGreaterThan(0);
  });
});
