// The Kamailio provider against a real Kamailio from Debian: sipp registers, ul.dump over JSON-RPC/HTTP is polled.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createSocket } from "node:dgram";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../../src/domain/clock.js";
import type { RegistrationEntry } from "../../src/domain/registration.js";
import { createKamailioProvider, type KamailioProvider } from "../../src/registrations/kamailio-provider.js";
import { createFailureMemory } from "../../src/registrations/failure-memory.js";
import { createRegistry, type Registry } from "../../src/registrations/registry.js";
import {
  createSuspectRegistrations,
  type SuspectMark,
} from "../../src/registrations/suspect-registrations.js";
import { failureOffense } from "../../src/registrations/testing/failure-offense.js";
import { waitFor } from "../../src/sources/testing/wait-for.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const SCENARIO = join(HERE, "kamailio-register.xml");
const MODULE_DIRS = [
  "/usr/lib/x86_64-linux-gnu/kamailio/modules",
  "/usr/lib/aarch64-linux-gnu/kamailio/modules",
  "/usr/lib/kamailio/modules",
  "/usr/local/lib64/kamailio/modules",
];

function which(program: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter).concat(["/usr/sbin", "/sbin"])) {
    const p = join(dir, program);
    if (existsSync(p)) return p;
  }
  return undefined;
}

async function freeTcpPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

async function freeUdpPort(): Promise<number> {
  const socket = createSocket("udp4");
  await new Promise<void>((r) => socket.bind(0, "127.0.0.1", r));
  const { port } = socket.address();
  await new Promise<void>((r) => socket.close(() => r()));
  return port;
}

/**
 * Minimal registrar: usrloc in memory (db_mode 0), no auth. Users other than `direct` get fix_nated_register,
 * which stores the packet source as `Received` — the NAT case; `direct` keeps only its Contact.
 */
function kamailioCfg(mpath: string, sipPort: number, httpPort: number): string {
  return `#!KAMAILIO
debug=1
log_stderror=yes
children=1
tcp_children=1
auto_aliases=no
listen=udp:127.0.0.1:${sipPort}
listen=tcp:127.0.0.1:${httpPort}
tcp_accept_no_cl=yes
mpath="${mpath}"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "nathelper.so"
loadmodule "xhttp.so"
loadmodule "jsonrpcs.so"
modparam("usrloc", "db_mode", 0)
modparam("jsonrpcs", "transport", 1)
modparam("registrar", "received_avp", "$avp(RECEIVED)")
modparam("nathelper", "received_avp", "$avp(RECEIVED)")
request_route {
  if (!is_method("REGISTER")) { sl_send_reply("404", "Not here"); exit; }
  if ($fU != "direct") fix_nated_register();
  if (!save("location")) sl_reply_error();
  exit;
}
event_route[xhttp:request] {
  if ($hu =~ "^/RPC") { jsonrpc_dispatch(); exit; }
  xhttp_reply("404", "Not Found", "text/plain", "");
}
`;
}

const KAMAILIO = which("kamailio");
const SIPP = which("sipp");
const MPATH = MODULE_DIRS.find((d) => existsSync(join(d, "jsonrpcs.so")));

let dir: string;
let kamailio: ChildProcess | undefined;
let kamailioExited: Promise<void> = Promise.resolve();
let stderr = "";
let sipPort: number;
let httpPort: number;
let registry: Registry;
let provider: KamailioProvider;
let onNew: ((e: RegistrationEntry, heldBefore: number | null) => void) | undefined;

function register(
  user: string,
  sippPort: number,
  contactHost: string,
  expires: number,
  from = "127.0.0.1",
): void {
  const r = spawnSync(
    SIPP as string,
    [
      "-sf",
      SCENARIO,
      "-m",
      "1",
      "-i",
      from,
      "-p",
      String(sippPort),
      "-s",
      user,
      "-key",
      "contact_host",
      contactHost,
      "-key",
      "expires",
      String(expires),
      "-nostdin",
      "-timeout",
      "10s",
      "-timeout_error",
      `127.0.0.1:${sipPort}`,
    ],
    { timeout: 15_000, encoding: "utf8", cwd: dir },
  );
  if (r.status !== 0)
    throw new Error(`sipp failed (${r.status ?? r.signal}): ${(r.stderr || r.stdout).slice(-800)}`);
}

beforeAll(async () => {
  // Never skip: without the real programs this test would prove nothing.
  if (!KAMAILIO)
    throw new Error("kamailio is not installed (apt-get install kamailio; see scripts/apt-packages.txt)");
  if (!SIPP) throw new Error("sipp is not installed (apt-get install sip-tester)");
  if (!MPATH) throw new Error(`kamailio modules (jsonrpcs.so) not found in ${MODULE_DIRS.join(", ")}`);
  dir = await mkdtemp(join(tmpdir(), "sipwarden-kamailio-"));
  sipPort = await freeUdpPort();
  httpPort = await freeTcpPort();
  const cfg = join(dir, "kamailio.cfg");
  await writeFile(cfg, kamailioCfg(MPATH, sipPort, httpPort));
  const check = spawnSync(KAMAILIO, ["-c", "-f", cfg], { encoding: "utf8", timeout: 15_000 });
  if (check.status !== 0) throw new Error(`kamailio rejects the test config: ${check.stderr.slice(-1500)}`);

  // Own process group, so the test can stop kamailio and every child it forks at once.
  const child = spawn(KAMAILIO, ["-f", cfg, "-DD", "-E", "-Y", dir], {
    detached: true,
    stdio: ["ignore", "ignore", "pipe"],
  });
  kamailio = child;
  child.stderr?.on("data", (c: Buffer) => {
    stderr = (stderr + c.toString("utf8")).slice(-4000);
  });
  kamailioExited = new Promise((r) => child.once("exit", () => r()));

  // New bindings go to the suspect rule once a test sets it.
  registry = createRegistry({ clock: systemClock, onNew: (e, held) => onNew?.(e, held) });
  provider = createKamailioProvider(
    { url: `http://127.0.0.1:${httpPort}/RPC`, intervalMs: 60_000, timeoutMs: 2000 },
    { registry, clock: systemClock },
  );
  // Ready when the RPC answers: an empty location table is a valid dump.
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`kamailio exited (${child.exitCode}): ${stderr}`);
      return provider.pollOnce();
    },
    "kamailio JSON-RPC to answer",
    15_000,
  );
}, 30_000);

afterAll(async () => {
  await provider?.stop();
  const child = kamailio;
  if (child?.pid !== undefined && child.exitCode === null) {
    process.kill(-child.pid, "SIGTERM");
    const killed = new Promise<void>((r) =>
      setTimeout(() => {
        if (child.exitCode === null && child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
        r();
      }, 5000),
    );
    await Promise.race([kamailioExited, killed]);
  }
  if (dir) await rm(dir, { recursive: true, force: true });
}, 15_000);

describe("Kamailio provider (real Kamailio, ul.dump over jsonrpcs/xhttp)", () => {
  it("starts with an empty table, and is up: its poll worked", () => {
    expect(registry.list()).toEqual([]);
    expect(provider.health()).toMatchObject({ up: true, lastError: null });
  });

  it("stores a NAT'd phone under its Received (transport) address, not its private Contact", async () => {
    const sippPort = await freeUdpPort();
    const before = Date.now();
    register("alice", sippPort, "192.168.1.23:5060", 300);
    expect(await provider.pollOnce()).toBe(true);
    const entries = registry.list();
    expect(entries).toHaveLength(1);
    const e = entries[0];
    expect(e).toMatchObject({ source: "kamailio", user: "alice", contact: "sip:alice@192.168.1.23:5060" });
    expect(e?.address.text).toBe("127.0.0.1");
    // Kamailio reports seconds left; allow for the seconds the test itself took.
    expect(e?.expiresAt).toBeGreaterThan(before + 290_000);
    expect(e?.expiresAt).toBeLessThanOrEqual(Date.now() + 300_000);
    expect(registry.forAddress("192.168.1.23")).toEqual([]);
  });

  it("uses an IP Contact host when Kamailio set no Received", async () => {
    const sippPort = await freeUdpPort();
    register("direct", sippPort, `127.0.0.2:${sippPort}`, 120);
    expect(await provider.pollOnce()).toBe(true);
    expect(registry.forAddress("127.0.0.2")).toEqual([
      expect.objectContaining({ user: "direct", contact: `sip:direct@127.0.0.2:${sippPort}` }),
    ]);
    expect(
      registry
        .list()
        .map((e) => e.user)
        .sort(),
    ).toEqual(["alice", "direct"]);
  });

  it("drops a contact once it unregisters (Expires: 0) at the next poll", async () => {
    const sippPort = await freeUdpPort();
    register("alice", sippPort, "192.168.1.23:5060", 0);
    expect(await provider.pollOnce()).toBe(true);
    expect(registry.list().map((e) => e.user)).toEqual(["direct"]);
  });

  it("judges a binding new in the dump: after 3 failed logins from an address that held none, it is suspect", async () => {
    const memory = createFailureMemory({ keep: 3, lookbackMs: 600_000 });
    const suspects = createSuspectRegistrations({ failures: 3, lookbackMs: 600_000 }, { memory });
    const found: SuspectMark[] = [];
    const judged: string[] = [];
    onNew = (e, heldBefore) => {
      judged.push(`${e.user}@${e.address.text}${heldBefore === null ? "" : " (held before)"}`);
      const mark = suspects.judge(e, heldBefore);
      if (mark) found.push(mark);
    };
    // Failures as a jail would record them, from the addresses Kamailio will store (Received).
    for (const address of ["127.0.0.1", "127.0.0.3"])
      for (let i = 3; i > 0; i--)
        memory.record("kamailio", failureOffense(address, Date.now() - i * 1000, "mallory"));
    // 127.0.0.1 held alice's binding until she unregistered: a known customer's address, not judged.
    const bobPort = await freeUdpPort();
    register("bob", bobPort, "192.168.1.24:5060", 300);
    // 127.0.0.3 never held one.
    const malloryPort = await freeUdpPort();
    register("mallory", malloryPort, "192.168.1.66:5060", 300, "127.0.0.3");
    expect(await provider.pollOnce()).toBe(true);
    expect(judged.sort()).toEqual(["bob@127.0.0.1 (held before)", "mallory@127.0.0.3"]);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      address: { text: "127.0.0.3" },
      user: "mallory",
      source: "kamailio",
      failures: { count: 3, onAccount: 3 },
    });
    // The next dump holds the same bindings: not new, not judged again.
    expect(await provider.pollOnce()).toBe(true);
    expect(judged).toHaveLength(2);
    onNew = undefined;
    register("bob", bobPort, "192.168.1.24:5060", 0);
    register("mallory", malloryPort, "192.168.1.66:5060", 0, "127.0.0.3");
    expect(await provider.pollOnce()).toBe(true);
  });

  it("keeps the last good set when Kamailio stops answering", async () => {
    const child = kamailio as ChildProcess;
    process.kill(-(child.pid as number), "SIGTERM");
    await Promise.race([kamailioExited, new Promise((r) => setTimeout(r, 5000))]);
    expect(await provider.pollOnce()).toBe(false);
    expect(registry.list().map((e) => e.user)).toEqual(["direct"]);
    expect(provider.stats().failures).toBeGreaterThanOrEqual(1);
    // Down, saying why, since this failure (the table is kept, but new phones would go unseen).
    const health = provider.health();
    expect(health.up).toBe(false);
    expect(health.lastError).toMatch(/fetch failed|ECONNREFUSED/);
    expect(health.since).toBeGreaterThan(Date.now() - 10_000);
  });
});
