// The end-to-end attack lab: namespaces, Kamailio with digest auth, sipwarden, SIPp phones and sipvicious, and the kernel probes.
//
// Only Node built-ins are imported, so scripts/lab.sh can compile this file on its own for the demo.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { createInterface } from "node:readline";

/** Debian packages the lab needs (also in scripts/apt-packages.txt). */
export const LAB_APT_PACKAGES = [
  "iproute2",
  "nftables",
  "iptables",
  "ipset",
  "kamailio",
  "sip-tester",
  "sipvicious",
  "coreutils",
] as const;

export const PBX_IP = "10.99.0.1";
/** The "NAT'd office": two phones (1001 right password, 1002 mistyping) behind this one address. */
export const CLIENT_IP = "10.99.0.20";
/** sipvicious: svmap, svwar, svcrack (all announce `User-Agent: friendly-scanner`). */
export const SCANNER_IP = "10.99.0.66";
/** SIPp guessing passwords with an ordinary phone's User-Agent: only the log can catch it. */
export const CRACKER_IP = "10.99.0.67";
/** SIPp that gets 1001's password right after a few wrong guesses (fewer than maxretry) and registers. */
export const GUESSER_IP = "10.99.0.68";
export const SIP_PORT = 5060;
export const MAXRETRY = 5;
/** registrations.suspect.failures in the lab's config: below MAXRETRY, so the jail alone would not ban. */
export const SUSPECT_FAILURES = 3;
export const USERS: Readonly<Record<string, string>> = { "1001": "s3cret1001", "1002": "s3cret1002" };

const KAMAILIO_MODULE_DIRS = [
  "/usr/lib/x86_64-linux-gnu/kamailio/modules",
  "/usr/lib/aarch64-linux-gnu/kamailio/modules",
  "/usr/lib/kamailio/modules",
  "/usr/local/lib64/kamailio/modules",
];

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a program to completion; killed (SIGKILL) after `timeoutMs`, so no step can hang the lab. */
export function run(cmd: string, args: readonly string[], timeoutMs = 15_000): Promise<RunResult> {
  return new Promise((resolve) => {
    let stdout = "";
    let stderr = "";
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.stdout.on("data", (c: Buffer) => (stdout = (stdout + c.toString("utf8")).slice(-200_000)));
    child.stderr.on("data", (c: Buffer) => (stderr = (stderr + c.toString("utf8")).slice(-20_000)));
    child.on("error", (e) => {
      clearTimeout(timer);
      resolve({ code: -1, stdout, stderr: `${stderr}${String(e)}` });
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr });
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `cond` until it holds or `timeoutMs` passes; returns whether it held. */
export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  timeoutMs: number,
  stepMs = 25,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await cond()) return true;
    await sleep(stepMs);
  }
  return cond();
}

function which(program: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter).concat(["/usr/sbin", "/sbin"])) {
    const p = join(dir, program);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/**
 * Fails loudly, never skips: the lab is the proof that attacks are stopped by a real kernel in front of a
 * real PBX, and a run that quietly skipped would prove nothing.
 */
export function requireLabTools(root: string): void {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push("root (uid 0) to create network namespaces");
  for (const p of [
    "ip",
    "nft",
    "iptables-save",
    "ipset",
    "kamailio",
    "sipp",
    "svmap",
    "svwar",
    "svcrack",
    "timeout",
    "stdbuf",
  ])
    if (!which(p)) missing.push(p);
  if (!KAMAILIO_MODULE_DIRS.some((d) => existsSync(join(d, "auth.so"))))
    missing.push("kamailio modules (auth.so)");
  if (missing.length > 0)
    throw new Error(
      `the attack lab needs ${missing.join(", ")}; install with: apt-get install -y ${LAB_APT_PACKAGES.join(" ")}`,
    );
  if (!existsSync(join(root, "dist", "cli", "main.js")))
    throw new Error(`${join(root, "dist/cli/main.js")} is missing: run npm run build first`);
}

/**
 * A registrar with digest auth and no database: passwords from a static map, usrloc in memory. It logs the
 * exact lines docs/filters.md recommends, plus `lab:` lines the lab counts requests and timestamps with
 * (`$TV(Sn)` is Kamailio's own clock, so the time of a failure is the time Kamailio handled it).
 */
export function kamailioConfig(mpath: string, runDir: string): string {
  const users = Object.entries(USERS)
    .map(([u, p], i) => `  ${i === 0 ? "if" : "else if"} ($au == "${u}") $var(pw) = "${p}";`)
    .join("\n");
  return `#!KAMAILIO
debug=1
log_stderror=yes
children=2
disable_tcp=yes
auto_aliases=no
listen=udp:${PBX_IP}:${SIP_PORT}
mpath="${mpath}"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "xlog.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "auth.so"
loadmodule "ctl.so"
modparam("usrloc", "db_mode", 0)
modparam("ctl", "binrpc", "unix:${runDir}/kamailio_ctl")
request_route {
  # One line per request that reached Kamailio: what the lab counts to prove the kernel dropped the rest.
  xlog("L_NOTICE", "lab: rx t=$TV(Sn) src=$si port=$sp method=$rm\\n");
  if (!is_method("REGISTER")) { sl_send_reply("404", "Not here"); exit; }
  $var(pw) = "";
${users}
  if (!pv_auth_check("$fd", "$var(pw)", "0", "1")) {
    $var(sw_rc) = $retcode;
    # pv_auth_check knows no user table; an unknown user with credentials is what auth_check calls -3.
    if ($var(sw_rc) == -2 && $var(pw) == "") $var(sw_rc) = -3;
    # The lines docs/filters.md recommends.
    if ($var(sw_rc) == -2 || $var(sw_rc) == -3) {
      xlog("L_NOTICE", "sipwarden: auth-failed src=$si port=$sp proto=$pr method=$rm code=$var(sw_rc) realm=$fd user=$(au{s.escape.user})\\n");
      xlog("L_NOTICE", "lab: auth-failed t=$TV(Sn) src=$si port=$sp user=$au\\n");
    }
    auth_challenge("$fd", "0");
    exit;
  }
  if (!save("location")) { sl_reply_error(); exit; }
  xlog("L_NOTICE", "sipwarden: register-ok src=$si port=$sp proto=$pr realm=$fd user=$(au{s.escape.user})\\n");
  exit;
}
`;
}

/** REGISTER, answer the challenge (with -au/-ap), expect `final` (200 for the right password, 401 if wrong). */
export function sippScenario(final: "200" | "401", retransmit: boolean): string {
  const retrans = retransmit ? ' retrans="500"' : "";
  const register = (cseq: number, auth: boolean): string => `  <send${retrans}>
    <![CDATA[

      REGISTER sip:[remote_ip] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:[service]@[remote_ip]>;tag=[call_number]
      To: <sip:[service]@[remote_ip]>
      Call-ID: [call_id]
      CSeq: ${cseq} REGISTER
      Contact: <sip:[service]@[local_ip]:[local_port]>${auth ? "\n      [authentication]" : ""}
      Max-Forwards: 70
      User-Agent: [ua]
      Expires: 120
      Content-Length: 0

    ]]>
  </send>`;
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="sw-lab register ${final}">
${register(1, false)}
  <recv response="401" auth="true"/>
${register(2, true)}
  <recv response="${final}"/>
</scenario>
`;
}

/** One line Kamailio logged, parsed: what reached it, which authentications failed, which registered. */
export interface KamailioEvent {
  readonly kind: "rx" | "auth-failed" | "register-ok";
  /** Kamailio's clock (ms) for `rx` and `auth-failed`; undefined for `register-ok`. */
  readonly t?: number;
  readonly src: string;
  readonly port: number;
  readonly method?: string;
  readonly user?: string;
}

export function parseKamailioLog(text: string): KamailioEvent[] {
  const out: KamailioEvent[] = [];
  for (const line of text.split("\n")) {
    let m = / lab: rx t=(\d+\.\d+) src=(\S+) port=(\d+) method=(\S+)$/.exec(line);
    if (m) {
      out.push({ kind: "rx", t: Number(m[1]) * 1000, src: m[2]!, port: Number(m[3]), method: m[4]! });
      continue;
    }
    m = / lab: auth-failed t=(\d+\.\d+) src=(\S+) port=(\d+) user=(.*)$/.exec(line);
    if (m) {
      out.push({ kind: "auth-failed", t: Number(m[1]) * 1000, src: m[2]!, port: Number(m[3]), user: m[4]! });
      continue;
    }
    m = / sipwarden: register-ok src=(\S+) port=(\d+) proto=\S+ realm=\S* user=(.*)$/.exec(line);
    if (m) out.push({ kind: "register-ok", src: m[1]!, port: Number(m[2]), user: m[3]! });
  }
  return out;
}

/** A decision line of `sipwarden run --json`, with the moment the lab read it. */
export interface DecisionRecord {
  readonly action: "ban" | "spare";
  readonly target: string;
  readonly origin: string;
  readonly reason: string;
  readonly at: string;
  readonly seenAt: number;
}

export interface Sipwarden {
  readonly pid: number;
  readonly decisions: DecisionRecord[];
  /** Its stderr (pino JSON logs), last 64 KiB. */
  stderr(): string;
  readonly exited: Promise<void>;
  running(): boolean;
  kill(signal: NodeJS.Signals): Promise<void>;
}

export interface SippRun {
  /** SIPp's exit status: 0 when every call ended as the scenario expects, 1 when one failed. */
  readonly done: Promise<RunResult>;
  /** Asks SIPp to stop placing calls and exit once the calls in progress end (SIGUSR1). */
  stop(): void;
}

export interface SippOptions {
  readonly ns: string;
  readonly src: string;
  readonly srcPort: number;
  readonly user: string;
  readonly password: string;
  readonly calls: number;
  /** Calls started per second. */
  readonly rate: number;
  readonly final: "200" | "401";
  readonly ua: string;
  /** Retransmit unanswered requests (a phone does; the cracker does not, to keep counts exact). */
  readonly retransmit: boolean;
  readonly recvTimeoutMs: number;
}

export interface MonitorLine {
  readonly t: number;
  readonly line: string;
}

export interface KernelBans {
  /** Whether sipwarden's `inet sipwarden` table exists at all (false until enforcement is wired). */
  readonly table: boolean;
  /** Banned address → the set it sits in, from every set of the table whose name contains "ban". */
  readonly bans: ReadonlyMap<string, string>;
}

export interface Lab {
  readonly id: string;
  readonly ns: {
    readonly pbx: string;
    readonly attacker: string;
    readonly client: string;
    readonly net: string;
  };
  readonly dir: string;
  readonly kamailioLog: string;
  readonly configFile: string;
  /** Runs a program inside one of the lab's namespaces. */
  exec(ns: string, cmd: string, args: readonly string[], timeoutMs?: number): Promise<RunResult>;
  events(): KamailioEvent[];
  /** Requests that reached Kamailio from `src` (optionally only after `sinceMs`, Kamailio's clock). */
  rx(src: string, sinceMs?: number): number;
  startKamailio(): Promise<void>;
  startSipwarden(): Promise<Sipwarden>;
  /** Every `nft monitor` line in the pbx namespace since the lab started, with the time it was read. */
  readonly monitor: MonitorLine[];
  kernelBans(): Promise<KernelBans>;
  /** Packets from `src` to the SIP port that arrived on the pbx's interface (netdev ingress, before any filter). */
  ingress(src: string): Promise<number>;
  /** Packets counted by sipwarden's scanner User-Agent rules (iptables raw table, xt_string). */
  scannerRuleHits(): Promise<{ rules: number; packets: number }>;
  /** Members of sipwarden's scanner ban set (ipset `swsip-scan4`), empty if it does not exist. */
  scannerSet(): Promise<string[]>;
  sipp(o: SippOptions): SippRun;
  /** Runs one sipvicious tool from the scanner address, bounded by its own options and `timeout`. */
  sipvicious(tool: "svmap" | "svwar" | "svcrack"): Promise<RunResult>;
  destroy(): Promise<void>;
}

export interface LabOptions {
  /** The package root (where dist/cli/main.js is). */
  readonly root: string;
  /** Namespace names are `sw-lab-<id>-*`; random when absent (scripts/lab.sh passes one for its trap). */
  readonly id?: string;
}

/** The lab's sipwarden config: the Kamailio log, one jail, and the firewall opening SIP with inspection on. */
export function labConfigYaml(dir: string, log: string): string {
  return `# sipwarden config of the attack lab (test/lab/lab.ts): Kamailio's log, one jail, SIP open with inspection.
state_dir: ${dir}/state
log_level: info
api: { socket: ${dir}/api.sock }
sources:
  kamailio: { type: file, path: ${log} }
jails:
  kamailio: { filter: kamailio, sources: [kamailio], maxretry: ${MAXRETRY}, findtime: 1m, bantime: 10m }
# A registration after ${SUSPECT_FAILURES} failed logins on its account from its address: a guessed password, banned at once.
registrations: { suspect: { failures: ${SUSPECT_FAILURES}, lookback: 1h, action: ban } }
firewall:
  backend: nftables
  families: [ipv4]
  # The lab's PBX only offers SIP over UDP; nothing else is open to the "internet" (the bridge).
  open: [sip]
  # Scanner User-Agents (friendly-scanner is built in) are dropped in the kernel and banned for an hour.
  sip_inspection: { services: [sip], scanner_ban: 1h }
`;
}

/** The directory holding Kamailio's modules (where the Debian package puts them, or a build's). */
export function kamailioModules(): string {
  const d = KAMAILIO_MODULE_DIRS.find((x) => existsSync(join(x, "auth.so")));
  if (!d) throw new Error("kamailio modules not found");
  return d;
}

/** Builds the namespaces and the bridge; on any failure it removes what it created before rethrowing. */
export async function createLab(opts: LabOptions): Promise<Lab> {
  const id = opts.id ?? randomBytes(3).toString("hex");
  if (!/^[a-z0-9]{1,8}$/.test(id)) throw new Error(`bad lab id "${id}"`);
  const ns = {
    pbx: `sw-lab-${id}-pbx`,
    attacker: `sw-lab-${id}-attacker`,
    client: `sw-lab-${id}-client`,
    net: `sw-lab-${id}-net`,
  };
  const dir = await mkdtemp(join(tmpdir(), `sw-lab-${id}-`));
  const kamailioLog = join(dir, "kamailio.log");
  const configFile = join(dir, "lab.yaml");
  const runDir = join(dir, "run");
  const home = join(dir, "home");
  const children = new Set<ChildProcess>();
  const monitor: MonitorLine[] = [];

  const exec = (n: string, cmd: string, args: readonly string[], timeoutMs?: number): Promise<RunResult> =>
    run("ip", ["netns", "exec", n, cmd, ...args], timeoutMs);
  const must = async (p: Promise<RunResult>, what: string): Promise<RunResult> => {
    const r = await p;
    if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}): ${r.stderr.trim()}`);
    return r;
  };
  const ip = (n: string, ...args: string[]): Promise<RunResult> =>
    must(run("ip", ["-n", n, ...args]), `ip -n ${n} ${args.join(" ")}`);

  /** Long-running programs inside a namespace, each in its own process group so it and its forks stop together. */
  const background = (
    n: string,
    cmd: string,
    args: readonly string[],
    stdio: "pipe" | number,
  ): ChildProcess => {
    const child = spawn("ip", ["netns", "exec", n, cmd, ...args], {
      detached: true,
      stdio: ["ignore", stdio, stdio],
      env: { ...process.env, HOME: home },
      cwd: dir,
    });
    children.add(child);
    child.once("exit", () => children.delete(child));
    return child;
  };

  const stopChild = async (c: ChildProcess, signal: NodeJS.Signals, graceMs: number): Promise<void> => {
    if (c.exitCode !== null || c.signalCode !== null || c.pid === undefined) return;
    const exited = new Promise<void>((r) => c.once("exit", () => r()));
    try {
      process.kill(-c.pid, signal);
    } catch {
      return;
    }
    const ok = await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]);
    if (!ok) {
      try {
        process.kill(-c.pid, "SIGKILL");
      } catch {
        /* already gone */
      }
      await Promise.race([exited, sleep(2000)]);
    }
  };

  const destroy = async (): Promise<void> => {
    await Promise.all([...children].map((c) => stopChild(c, "SIGTERM", 3000)));
    // Anything still alive in the lab's namespaces was started by the lab (e.g. a fork that left its group).
    for (const n of Object.values(ns)) {
      const r = await run("ip", ["netns", "pids", n], 5000);
      for (const pid of r.stdout.split(/\s+/).filter(Boolean).map(Number))
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          /* already gone */
        }
    }
    // Deleting a namespace removes its ends of the veth pairs, and so the pairs and the bridge.
    for (const n of Object.values(ns)) await run("ip", ["netns", "del", n], 10_000);
    await rm(dir, { recursive: true, force: true });
  };

  try {
    await mkdir(runDir, { recursive: true });
    await mkdir(home, { recursive: true });
    for (const n of Object.values(ns)) await must(run("ip", ["netns", "add", n]), `ip netns add ${n}`);
    // The "internet": a bridge in its own namespace; every host hangs off it by a veth pair.
    await ip(ns.net, "link", "add", "br0", "type", "bridge");
    for (const [host, port] of [
      [ns.pbx, "pbx0"],
      [ns.attacker, "atk0"],
      [ns.client, "cli0"],
    ] as const) {
      await ip(ns.net, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", host);
      await ip(ns.net, "link", "set", port, "master", "br0");
      await ip(ns.net, "link", "set", port, "up");
    }
    await ip(ns.net, "link", "set", "br0", "up");
    const addrs: [string, string[]][] = [
      [ns.pbx, [PBX_IP]],
      [ns.attacker, [SCANNER_IP, CRACKER_IP, GUESSER_IP]],
      [ns.client, [CLIENT_IP]],
    ];
    for (const [host, list] of addrs) {
      for (const a of list) await ip(host, "addr", "add", `${a}/24`, "dev", "eth0");
      await ip(host, "link", "set", "lo", "up");
      await ip(host, "link", "set", "eth0", "up");
    }
    // The lab's own counters (a table sipwarden never touches): packets per source as they reach the pbx's
    // interface, before any filter, so "dropped" = arrived here − reached Kamailio.
    const counters = [CLIENT_IP, SCANNER_IP, CRACKER_IP, GUESSER_IP];
    const name = (a: string): string => `from_${a.split(".").join("_")}`;
    const script = [
      "table netdev swlab {",
      ...counters.map((a) => `  counter ${name(a)} {}`),
      "  chain ingress {",
      `    type filter hook ingress device "eth0" priority -500; policy accept;`,
      ...counters.map((a) => `    ip saddr ${a} udp dport ${SIP_PORT} counter name "${name(a)}"`),
      "  }",
      "}",
      "",
    ].join("\n");
    await writeFile(join(dir, "swlab.nft"), script);
    await must(exec(ns.pbx, "nft", ["-f", join(dir, "swlab.nft")]), "lab counters");

    // Kernel ban events, timestamped as they arrive: when exactly an address entered a set.
    const mon = background(ns.pbx, "stdbuf", ["-oL", "nft", "monitor"], "pipe");
    mon.stderr?.resume();
    createInterface({ input: mon.stdout! }).on("line", (line) => monitor.push({ t: Date.now(), line }));

    await writeFile(configFile, labConfigYaml(dir, kamailioLog));
    await writeFile(join(dir, "register-ok.xml"), sippScenario("200", true));
    await writeFile(join(dir, "register-wrong.xml"), sippScenario("401", false));
    await writeFile(join(dir, "register-wrong-retrans.xml"), sippScenario("401", true));
    await writeFile(join(dir, "passwords.txt"), "1234\n1001\npassword\nadmin\nsecret\n");
  } catch (e) {
    await destroy();
    throw e;
  }

  const events = (): KamailioEvent[] =>
    existsSync(kamailioLog) ? parseKamailioLog(readFileSync(kamailioLog, "utf8")) : [];

  const lab: Lab = {
    id,
    ns,
    dir,
    kamailioLog,
    configFile,
    monitor,
    exec,
    events,
    rx: (src, sinceMs = 0) =>
      events().filter((e) => e.kind === "rx" && e.src === src && e.t! >= sinceMs).length,

    async startKamailio() {
      const mpath = kamailioModules();
      const cfg = join(dir, "kamailio.cfg");
      await writeFile(cfg, kamailioConfig(mpath, runDir));
      const check = await run("kamailio", ["-c", "-f", cfg], 15_000);
      if (check.code !== 0) throw new Error(`kamailio rejects the lab config: ${check.stderr.slice(-1500)}`);
      // -E logs to stderr, which goes to the file sipwarden tails; O_APPEND keeps the children's lines whole.
      const fd = openSync(kamailioLog, "a");
      const k = background(
        ns.pbx,
        "kamailio",
        ["-f", cfg, "-DD", "-E", "-Y", runDir, "-m", "64", "-M", "8"],
        fd,
      );
      closeSync(fd);
      // Ready when it answers a request: an OPTIONS from the pbx itself (counted as rx from 10.99.0.1).
      const ready = await waitFor(
        async () => {
          if (k.exitCode !== null) return true;
          await exec(
            ns.pbx,
            "sipp",
            [
              "-sn",
              "uac",
              "-m",
              "1",
              "-i",
              PBX_IP,
              "-p",
              "5099",
              "-timeout",
              "1s",
              "-nostdin",
              `${PBX_IP}:5060`,
            ],
            3000,
          ).catch(() => undefined);
          return events().some((e) => e.kind === "rx" && e.src === PBX_IP);
        },
        15_000,
        200,
      );
      if (k.exitCode !== null || !ready)
        throw new Error(
          `kamailio did not start (exit ${k.exitCode}): ${readFileSync(kamailioLog, "utf8").slice(-1500)}`,
        );
    },

    async startSipwarden() {
      const main = join(opts.root, "dist", "cli", "main.js");
      const child = background(
        ns.pbx,
        process.execPath,
        [main, "run", "--config", configFile, "--json"],
        "pipe",
      );
      const decisions: DecisionRecord[] = [];
      let err = "";
      child.stderr!.on("data", (c: Buffer) => (err = (err + c.toString("utf8")).slice(-65_536)));
      createInterface({ input: child.stdout! }).on("line", (line) => {
        try {
          const d = JSON.parse(line) as Omit<DecisionRecord, "seenAt">;
          if (d.action === "ban" || d.action === "spare") decisions.push({ ...d, seenAt: Date.now() });
        } catch {
          /* not a decision line */
        }
      });
      const exited = new Promise<void>((r) => child.once("exit", () => r()));
      const sw: Sipwarden = {
        pid: child.pid!,
        decisions,
        stderr: () => err,
        exited,
        running: () => child.exitCode === null && child.signalCode === null,
        async kill(signal) {
          await stopChild(child, signal, 5000);
        },
      };
      // Up once the firewall is in and the log is watched. The daemon logs "firewall applied" before it opens
      // its sources and nothing after, so a short grace follows (a first start tails from the end of the file).
      const up = await waitFor(
        () => !sw.running() || /"msg":"(firewall applied|watching)"/.test(err),
        20_000,
      );
      if (!up || !sw.running()) throw new Error(`sipwarden did not start: ${err.slice(-2000)}`);
      await sleep(1000);
      if (!sw.running()) throw new Error(`sipwarden exited after starting: ${err.slice(-2000)}`);
      return sw;
    },

    async kernelBans() {
      const r = await exec(ns.pbx, "nft", ["-j", "list", "table", "inet", "sipwarden"], 5000);
      const bans = new Map<string, string>();
      if (r.code !== 0) return { table: false, bans };
      const doc = JSON.parse(r.stdout) as { nftables: Record<string, unknown>[] };
      for (const item of doc.nftables) {
        const set = item.set as { name: string; elem?: unknown[] } | undefined;
        if (!set || !set.name.includes("ban")) continue;
        for (const e of set.elem ?? []) {
          const v =
            typeof e === "string" ? e : ((e as { elem?: { val?: unknown } }).elem?.val as string | undefined);
          if (typeof v === "string") bans.set(v, set.name);
        }
      }
      return { table: true, bans };
    },

    async ingress(src) {
      const r = await must(
        exec(ns.pbx, "nft", ["-j", "list", "counters", "table", "netdev", "swlab"]),
        "counters",
      );
      const doc = JSON.parse(r.stdout) as { nftables: { counter?: { name: string; packets: number } }[] };
      const want = `from_${src.split(".").join("_")}`;
      return doc.nftables.find((x) => x.counter?.name === want)?.counter?.packets ?? 0;
    },

    async scannerRuleHits() {
      const r = await exec(ns.pbx, "iptables-save", ["-c", "-t", "raw"], 5000);
      let rules = 0;
      let packets = 0;
      for (const line of r.stdout.split("\n")) {
        const m = /^\[(\d+):\d+\] -A \S+ .*User-Agent: friendly-scanner/i.exec(line);
        if (!m) continue;
        rules += 1;
        packets += Number(m[1]);
      }
      return { rules, packets };
    },

    async scannerSet() {
      const r = await exec(ns.pbx, "ipset", ["list", "swsip-scan4"], 5000);
      if (r.code !== 0) return [];
      const members = r.stdout.split("Members:")[1] ?? "";
      return members
        .split("\n")
        .map((l) => l.trim().split(/\s+/)[0] ?? "")
        .filter((a) => /^\d+\.\d+\.\d+\.\d+$/.test(a));
    },

    sipp(o) {
      const scenario =
        o.final === "200"
          ? "register-ok.xml"
          : o.retransmit
            ? "register-wrong-retrans.xml"
            : "register-wrong.xml";
      // Bounded three ways: -m calls, SIPp's own -timeout, and a SIGKILL from here a little later.
      const boundS = Math.ceil(o.calls / o.rate + o.recvTimeoutMs / 1000 + 10);
      const args = [
        "-sf",
        join(dir, scenario),
        "-s",
        o.user,
        "-au",
        o.user,
        "-ap",
        o.password,
        "-key",
        "ua",
        o.ua,
        "-i",
        o.src,
        "-p",
        String(o.srcPort),
        "-m",
        String(o.calls),
        "-r",
        String(o.rate),
        "-l",
        String(Math.max(1, Math.ceil(o.rate * (o.recvTimeoutMs / 1000 + 1)))),
        "-recv_timeout",
        String(o.recvTimeoutMs),
        "-timeout",
        `${boundS}s`,
        "-nostdin",
        `${PBX_IP}:${SIP_PORT}`,
      ];
      const child = background(o.ns, "sipp", args, "pipe");
      const killer = setTimeout(() => void stopChild(child, "SIGKILL", 1000), (boundS + 5) * 1000);
      let stdout = "";
      let stderr = "";
      child.stdout!.on("data", (c: Buffer) => (stdout = (stdout + c.toString("utf8")).slice(-20_000)));
      child.stderr!.on("data", (c: Buffer) => (stderr = (stderr + c.toString("utf8")).slice(-20_000)));
      const done = new Promise<RunResult>((r) =>
        child.once("exit", (code, signal) => {
          clearTimeout(killer);
          r({ code: code ?? (signal ? 128 : -1), stdout, stderr });
        }),
      );
      return {
        done,
        stop() {
          // `ip netns exec` execs SIPp, so the child's pid is SIPp's.
          if (child.pid !== undefined && child.exitCode === null)
            try {
              process.kill(child.pid, "SIGUSR1");
            } catch {
              /* already gone */
            }
        },
      };
    },

    async sipvicious(tool) {
      // Each tool is bounded by its own options (one target, small ranges, --maximumtime) and by timeout
      // (svcrack keeps waiting for an answer that never comes once it is dropped); distinct source ports
      // let the three run at once.
      const target = `${PBX_IP}`;
      const toolArgs: Record<typeof tool, string[]> = {
        svmap: ["-b", SCANNER_IP, "-P", "5070", "-p", String(SIP_PORT), "-t", "0.1", target],
        svwar: [
          "-b",
          SCANNER_IP,
          "-P",
          "5071",
          "-p",
          String(SIP_PORT),
          "-e",
          "1000-1010",
          "--maximumtime",
          "3",
          "-t",
          "0.1",
          target,
        ],
        svcrack: [
          "-b",
          SCANNER_IP,
          "-P",
          "5072",
          "-p",
          String(SIP_PORT),
          "-u",
          "1001",
          "-d",
          join(dir, "passwords.txt"),
          "--maximumtime",
          "3",
          "-t",
          "0.1",
          target,
        ],
      };
      return new Promise((resolve) => {
        const child = background(ns.attacker, "timeout", ["-k", "2", "5", tool, ...toolArgs[tool]], "pipe");
        let stdout = "";
        let stderr = "";
        child.stdout!.on("data", (c: Buffer) => (stdout = (stdout + c.toString("utf8")).slice(-20_000)));
        child.stderr!.on("data", (c: Buffer) => (stderr = (stderr + c.toString("utf8")).slice(-20_000)));
        child.once("exit", (code, signal) => resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr }));
      });
    },

    destroy,
  };
  return lab;
}
