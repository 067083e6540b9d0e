// Nodes of a fleet sharing bans through a real redis-server on loopback: sipwarden daemons (their firewall
// the in-memory backend; the kernel path of a decided ban is the one every other ban takes, tested in
// network namespaces elsewhere), each with its own state, log and allowlist.
import { createPrivateKey } from "node:crypto";
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@redis/client";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfigText } from "../config/load.js";
import { parseCidr, type Cidr } from "../domain/address.js";
import { systemClock } from "../domain/clock.js";
import { createDaemonServices } from "../daemon/control-services.js";
import { startDaemon, type Daemon } from "../daemon/daemon.js";
import { pause, waitFor } from "../sources/testing/wait-for.js";
import { startRedis, type RedisServer } from "../../test/redis-server.js";
import { freePort } from "../../test/loopback-processes.js";
import { selfSignedCert } from "../../test/self-signed-cert.js";
import { formatStatus } from "../cli/commands/status.js";
import { startFleetLink } from "./fleet-link.js";
import { encodeFleetMessage } from "./fleet-message.js";
import { fleetNodeKeys, newFleetIdentity } from "./fleet-node-keys.js";
import { fleetKeys } from "./fleet-signature.js";

const dir = mkdtempSync(join(tmpdir(), "sw-fleet-"));
const quiet = pino({ enabled: false });
const run = async () => ({ code: 0, stdout: "", stderr: "" });
/** Waits for `cond` up to 10 s (a loaded CI machine), done as soon as it holds. */
const until = (cond: () => boolean, what: string, ms = 10_000): Promise<void> => waitFor(cond, what, ms);
const KEY = "sw-test:bans";

let redis: RedisServer;
const daemons: Daemon[] = [];
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const d of daemons.reverse()) await d.stop();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const failure = (ip: string, n: number): string =>
  `[${new Date().toISOString().slice(0, 19).replace("T", " ")}] NOTICE[2345] chan_sip.c: Registration from '"${n}" <sip:${n}@pbx>' failed for '${ip}:5060' - Wrong password\n`;

/** A node: its log, its daemon (a 1 h ban after 2 failures) and its control services. */
async function node(
  name: string,
  options: { allow?: string[]; redisUrl?: string; extra?: string; key?: string } = {},
) {
  const log = join(dir, `${name}.log`);
  writeFileSync(log, "");
  const config = loadConfigText(
    [
      `state_dir: ${join(dir, `state-${name}`)}`,
      `allowlist: [${(options.allow ?? []).join(", ")}]`,
      "sources:",
      `  pbx: { type: file, path: ${log} }`,
      "jails:",
      "  asterisk: { filter: asterisk, sources: [pbx], maxretry: 2, bantime: 1h }",
      `fleet: { redis: "${options.redisUrl ?? redis.url}", node: ${name}, key: ${options.key ?? KEY}${options.extra ?? ""} }`,
    ].join("\n"),
    `${name}.yaml`,
  );
  const start = async () => {
    const d = await startDaemon(config, { backend: "dry-run" }, { clock: systemClock, log: quiet, run });
    daemons.push(d);
    return d;
  };
  const n = {
    daemon: await start(),
    get services() {
      return createDaemonServices(
        n.daemon,
        { version: "test", defaultBanMs: 3_600_000 },
        { clock: systemClock },
      );
    },
    attack: (ip: string) => appendFileSync(log, failure(ip, 1) + failure(ip, 2)),
    bansOn: (target: string) =>
      n.daemon.store.activeDecisions(Date.now()).filter((d) => d.target === target && d.action === "ban"),
    /** Reloads the same config: its files (keys, peers) are read again. */
    reload: () => n.daemon.reload(config),
    /** Stops the daemon and starts it again on the same state (it reads the stream from its start). */
    async restart() {
      await n.daemon.stop();
      daemons.splice(daemons.indexOf(n.daemon), 1);
      n.daemon = await start();
    },
  };
  return n;
}

type Node = Awaited<ReturnType<typeof node>>;
/**
 * Waits until `reader` has applied the whole stream: `writer` bans `sentinel` by hand, and the stream is
 * read in order, so once the reader has that ban it has applied everything written before it.
 */
async function caughtUp(reader: Node, writer: Node, sentinel: string): Promise<void> {
  await writer.services.ban({ target: parseCidr(sentinel) as Cidr, forMs: 60_000, reason: "sentinel" });
  await until(() => reader.bansOn(sentinel).length === 1, `${sentinel} from the stream`);
}
let a: Node;
let b: Node;
let c: Node;

describe("fleet through Redis", () => {
  it("a ban one node decides is in force on the others, as fleet:<node>, for the time it has left", async () => {
    a = await node("pbx-a");
    b = await node("pbx-b", { allow: ["203.0.113.50"] });
    await until(
      () => a.daemon.fleetStats()?.connected === true && b.daemon.fleetStats()?.connected === true,
      "both connected",
    );
    a.attack("203.0.113.10");
    await until(() => b.bansOn("203.0.113.10").length === 1, "the ban on pbx-b");
    const [mine] = a.bansOn("203.0.113.10");
    const [theirs] = b.bansOn("203.0.113.10");
    expect(mine?.origin).toBe("jail:asterisk");
    expect(theirs).toMatchObject({
      origin: "fleet:pbx-a",
      expiresAt: mine?.expiresAt,
      scope: { kind: "all" },
    });
    expect(theirs?.reason).toMatch(/^from pbx-a: jail:asterisk: 2 failures/);
    expect((await b.daemon.backend.listBans()).map((x) => x.target)).toContain("203.0.113.10");
    // Its own message comes back to pbx-a from the stream and is left alone.
    await until(() => (a.daemon.fleetStats()?.published ?? 0) >= 1, "published");
    expect(a.bansOn("203.0.113.10").map((d) => d.origin)).toEqual(["jail:asterisk"]);
    expect(a.daemon.fleetStats()).toMatchObject({ node: "pbx-a", received: 0, refused: 0 });
  });

  it("the receiving node's allowlist wins over another node's ban", async () => {
    const received = b.daemon.fleetStats()?.received ?? 0;
    a.attack("203.0.113.50");
    await until(() => (b.daemon.fleetStats()?.received ?? 0) > received, "the message at pbx-b");
    await pause(200);
    expect(a.bansOn("203.0.113.50")).toHaveLength(1);
    expect(b.bansOn("203.0.113.50")).toEqual([]);
  });

  it("an unban on one node ends the ban on every node", async () => {
    a.attack("203.0.113.11");
    await until(() => b.bansOn("203.0.113.11").length === 1, "the second ban on pbx-b");
    const ended = await a.services.unban(parseCidr("203.0.113.10") as Cidr);
    expect(ended).toHaveLength(1);
    await until(() => b.bansOn("203.0.113.10").length === 0, "the unban on pbx-b");
    expect((await b.daemon.backend.listBans()).map((x) => x.target)).not.toContain("203.0.113.10");
    expect(b.bansOn("203.0.113.11")).toHaveLength(1);
  });

  it("a node that joins later gets the bans in force, and not those lifted since", async () => {
    c = await node("pbx-c");
    await until(() => c.bansOn("203.0.113.11").length === 1, "the ban in force on pbx-c");
    expect(c.bansOn("203.0.113.11")[0]?.origin).toBe("fleet:pbx-a");
    expect(c.bansOn("203.0.113.10")).toEqual([]);
    // pbx-c enforces pbx-b's copy of nothing: only the node that decided a ban publishes it.
    expect(c.daemon.store.activeDecisions(Date.now()).every((d) => d.origin === "fleet:pbx-a")).toBe(true);
  });

  it("after a restart, a node's own unban still holds, and an old unban leaves a ban made since", async () => {
    // pbx-a bans .15 and .16; pbx-b's admin unbans both (everywhere); later pbx-b's own jail bans .16 again.
    a.attack("203.0.113.15");
    a.attack("203.0.113.16");
    await until(
      () => b.bansOn("203.0.113.15").length + b.bansOn("203.0.113.16").length === 2,
      "both on pbx-b",
    );
    for (const ip of ["203.0.113.15", "203.0.113.16"]) await b.services.unban(parseCidr(ip) as Cidr);
    await until(
      () => a.bansOn("203.0.113.15").length + a.bansOn("203.0.113.16").length === 0,
      "lifted on pbx-a",
    );
    await pause(1100); // the new ban is dated (by its log line, to the second) after the unban
    b.attack("203.0.113.16");
    await until(() => b.bansOn("203.0.113.16").length === 1, "pbx-b's own ban");
    await b.restart();
    await until(
      () => b.daemon.fleetStats()?.connected === true && (b.daemon.fleetStats()?.received ?? 0) > 0,
      "read again",
    );
    await until(
      () => (b.daemon.fleetStats()?.received ?? 0) >= (a.daemon.fleetStats()?.published ?? 0),
      "caught up",
    );
    await pause(200);
    expect(b.bansOn("203.0.113.15")).toEqual([]);
    expect(b.bansOn("203.0.113.16").map((d) => d.origin)).toEqual(["jail:asterisk"]);
    // What pbx-a still bans is back on pbx-b.
    expect(b.bansOn("203.0.113.11").map((d) => d.origin)).toEqual(["fleet:pbx-a"]);
  });

  it("an allow entry made on one node is in force on every node and lifts their bans; so is its removal, after a restart too", async () => {
    const allowedOn = (n: Node) =>
      n.daemon.allows.list(Date.now()).filter((e) => e.cidr.text === "198.18.5.0/24");
    a.attack("198.18.5.9");
    await until(() => b.bansOn("198.18.5.9").length === 1, "pbx-a's ban on pbx-b");
    const made = await b.services.allow({ target: parseCidr("198.18.5.0/24") as Cidr, forMs: 3_600_000 });
    expect(made.unbanned.map((x) => x.origin)).toEqual(["fleet:pbx-a"]);
    await until(() => allowedOn(a).length === 1 && allowedOn(c).length === 1, "the entry on pbx-a and pbx-c");
    expect(allowedOn(a)[0]).toMatchObject({ node: "pbx-b", expiresAt: Date.parse(made.expiresAt!) });
    // pbx-a's own ban ended by it, in the store and the kernel; the entry is listed as pbx-b's admin's.
    await until(() => a.bansOn("198.18.5.9").length === 0, "pbx-a's ban lifted");
    expect((await a.daemon.backend.listBans()).map((x) => x.target)).not.toContain("198.18.5.9");
    const why = await a.services.explain({ family: 4, text: "198.18.5.9" });
    expect(why.verdict).toBe("allowed");
    expect(why.because[0]?.detail).toBe("allowed by hand on pbx-b with sipwarden allow");
    expect((await a.services.listAllows()).entries).toContainEqual(
      expect.objectContaining({
        network: "198.18.5.0/24",
        origin: "manual",
        detail: "allowed by hand on pbx-b",
      }),
    );
    // And it wins over pbx-a's jail there now.
    a.attack("198.18.5.10");
    await until(() => a.daemon.detection().detector.stats().decisions.spares > 0, "a spare on pbx-a");
    expect(a.bansOn("198.18.5.10")).toEqual([]);

    // Removed on pbx-c: gone everywhere.
    expect((await c.services.unallow(parseCidr("198.18.5.0/24") as Cidr)).removed).toHaveLength(1);
    await until(() => allowedOn(a).length === 0 && allowedOn(b).length === 0, "removed on pbx-a and pbx-b");
    // pbx-a reads the stream again from its start: the entry and then its removal, in that order.
    await a.restart();
    await caughtUp(a, c, "198.18.9.1");
    expect(allowedOn(a)).toEqual([]);
    // The entry's message copied back into the stream after its removal (sent late, or by someone who can
    // write to it) is not taken: it was made before the removal.
    const client = createClient({ url: redis.url });
    await client.connect();
    try {
      const entries = (await client.sendCommand(["XRANGE", KEY, "-", "+"])) as [string, string[]][];
      const entry = entries.map(([, f]) => f).find((f) => f.includes("allow") && f.includes("198.18.5.0/24"));
      expect(entry).toBeDefined();
      await client.sendCommand(["XADD", KEY, "*", ...(entry as string[])]);
    } finally {
      client.destroy();
    }
    await caughtUp(a, c, "198.18.9.2");
    await caughtUp(b, c, "198.18.9.3");
    expect([allowedOn(a), allowedOn(b)]).toEqual([[], []]);
  });

  it("a node with fleet allows: false keeps its allow entries its own and takes none", async () => {
    const h = await node("pbx-h", { extra: ", allows: false" });
    try {
      await until(() => (h.daemon.fleetStats()?.received ?? 0) > 0, "pbx-h read the stream");
      await h.services.allow({ target: parseCidr("198.18.6.0/24") as Cidr, forMs: undefined });
      await b.services.allow({ target: parseCidr("198.18.7.0/24") as Cidr, forMs: undefined });
      await until(
        () => a.daemon.allows.list(Date.now()).some((e) => e.cidr.text === "198.18.7.0/24"),
        "pbx-b's entry on pbx-a",
      );
      await caughtUp(h, b, "198.18.9.2");
      expect(h.daemon.allows.list(Date.now()).map((e) => e.cidr.text)).toEqual(["198.18.6.0/24"]);
      expect(a.daemon.allows.list(Date.now()).map((e) => e.cidr.text)).not.toContain("198.18.6.0/24");
      expect(h.daemon.fleetStats()?.published).toBe(0);
      await b.services.unallow(parseCidr("198.18.7.0/24") as Cidr);
    } finally {
      await h.daemon.stop();
      daemons.splice(daemons.indexOf(h.daemon), 1);
    }
  });

  it("refuses what is not a valid message, whoever wrote it to the stream", async () => {
    const refused = b.daemon.fleetStats()?.refused ?? 0;
    const before = b.daemon.store.activeDecisions(Date.now()).length;
    const client = createClient({ url: redis.url });
    await client.connect();
    try {
      const entry = (target: string) => [
        "v",
        "1",
        "node",
        "evil",
        "op",
        "ban",
        "target",
        target,
        "at",
        String(Date.now()),
        "expires",
        String(Date.now() + 3_600_000),
        "reason",
        "x",
      ];
      await client.sendCommand(["XADD", KEY, "*", ...entry("0.0.0.0/0")]);
      await client.sendCommand(["XADD", KEY, "*", ...entry("198.51.100.7; nft flush ruleset")]);
      await client.sendCommand(["XADD", KEY, "*", "v", "9", "hello", "world"]);
    } finally {
      client.destroy();
    }
    await until(() => (b.daemon.fleetStats()?.refused ?? 0) === refused + 3, "three entries refused");
    expect(b.daemon.store.activeDecisions(Date.now())).toHaveLength(before);
  });

  it("with secret_file, takes only what a fleet key signed: not a forged entry, nor an old one copied back in", async () => {
    const SIGNED = "sw-test:signed";
    const keyFile = join(dir, "fleet.keys");
    writeFileSync(keyFile, `${"4b".repeat(32)}\n`);
    const extra = `, secret_file: ${keyFile}`;
    const s1 = await node("pbx-s1", { key: SIGNED, extra });
    const s2 = await node("pbx-s2", { key: SIGNED, extra });
    const client = createClient({ url: redis.url });
    await client.connect();
    try {
      await until(
        () => s1.daemon.fleetStats()?.connected === true && s2.daemon.fleetStats()?.connected === true,
        "both connected",
      );
      s1.attack("203.0.113.80");
      await until(() => s2.bansOn("203.0.113.80").length === 1, "the signed ban on pbx-s2");
      const entries = (await client.sendCommand(["XRANGE", SIGNED, "-", "+"])) as [string, string[]][];
      const original = entries.map(([, f]) => f).find((f) => f.includes("203.0.113.80") && f.includes("ban"));
      expect(original?.at(-2)).toBe("sig");

      // Forged: a valid message unsigned, and the same signed with a key the fleet does not hold.
      const forged = encodeFleetMessage({
        op: "ban",
        node: "pbx-s1",
        target: "203.0.113.81",
        at: Date.now(),
        expiresAt: Date.now() + 3_600_000,
        reason: "forged",
      });
      const refused = s2.daemon.fleetStats()?.refused ?? 0;
      await client.sendCommand(["XADD", SIGNED, "*", ...forged]);
      await client.sendCommand(["XADD", SIGNED, "*", ...fleetKeys(["77".repeat(32)]).sign(forged)]);
      await until(
        () => (s2.daemon.fleetStats()?.refused ?? 0) === refused + 2,
        "both forged entries refused",
      );
      // What `sipwarden status` says of it: signed, and why the last entry was refused.
      const line = formatStatus(await s2.services.status())
        .split("\n")
        .find((l) => l.startsWith("fleet:"));
      expect(line).toMatch(
        /^fleet: node pbx-s2, connected, signed; \d+ published, \d+ received, 2 refused \(last: signed with a key this node does not hold \([0-9a-f]{12}\)\)$/,
      );

      // Unbanned on pbx-s1; then the old signed ban copied back into the stream is not taken again.
      await s1.services.unban(parseCidr("203.0.113.80") as Cidr);
      await until(() => s2.bansOn("203.0.113.80").length === 0, "the unban on pbx-s2");
      await client.sendCommand(["XADD", SIGNED, "*", ...(original as string[])]);
      await caughtUp(s2, s1, "203.0.113.82");
      expect(s2.bansOn("203.0.113.80")).toEqual([]);
      expect(s2.bansOn("203.0.113.81")).toEqual([]);
      expect((await s2.daemon.backend.listBans()).map((x) => x.target)).not.toContain("203.0.113.80");
      // The copy was signed, so it was not refused: it was judged, and found older than the unban.
      expect(s2.daemon.fleetStats()?.refused).toBe(refused + 2);
    } finally {
      client.destroy();
      for (const d of daemons.splice(-2)) await d.stop();
    }
  });

  it("with node keys, takes what each node signed as itself: not one node's key speaking for another", async () => {
    const NODES = "sw-test:node-keys";
    const ids = { "pbx-k1": newFleetIdentity(), "pbx-k2": newFleetIdentity() };
    const peersFile = join(dir, "fleet-peers");
    writeFileSync(
      peersFile,
      Object.entries(ids)
        .map(([n, id]) => `${n} ${id.publicKey}\n`)
        .join(""),
    );
    const extra = (name: keyof typeof ids) => {
      const file = join(dir, `${name}.pem`);
      writeFileSync(file, ids[name].pem, { mode: 0o600 });
      return `, identity_file: ${file}, peers_file: ${peersFile}`;
    };
    const k1 = await node("pbx-k1", { key: NODES, extra: extra("pbx-k1") });
    const k2 = await node("pbx-k2", { key: NODES, extra: extra("pbx-k2") });
    const client = createClient({ url: redis.url });
    await client.connect();
    try {
      await until(
        () => k1.daemon.fleetStats()?.connected === true && k2.daemon.fleetStats()?.connected === true,
        "both connected",
      );
      k1.attack("203.0.113.90");
      await until(() => k2.bansOn("203.0.113.90").length === 1, "pbx-k1's ban on pbx-k2");
      expect(k2.bansOn("203.0.113.90")[0]?.origin).toBe("fleet:pbx-k1");

      // pbx-k2's own key (a node taken over) signs an unban and a ban that say they come from pbx-k1.
      const asK2 = fleetNodeKeys(createPrivateKey(ids["pbx-k2"].pem), "pbx-k2", new Map());
      const refused = k1.daemon.fleetStats()?.refused ?? 0;
      const now = Date.now();
      for (const forged of [
        encodeFleetMessage({ op: "unban", node: "pbx-k1", target: "203.0.113.90", at: now }),
        encodeFleetMessage({
          op: "ban",
          node: "pbx-k1",
          target: "203.0.113.91",
          at: now,
          expiresAt: now + 3_600_000,
          reason: "forged",
        }),
      ])
        await client.sendCommand(["XADD", NODES, "*", ...asK2.sign(forged)]);
      await until(
        () =>
          (k2.daemon.fleetStats()?.refused ?? 0) >= 2 &&
          (k1.daemon.fleetStats()?.refused ?? 0) >= refused + 2,
        "both forged entries refused on both nodes",
      );
      await caughtUp(k2, k1, "203.0.113.92");
      expect(k2.bansOn("203.0.113.90")).toHaveLength(1);
      expect(k2.bansOn("203.0.113.91")).toEqual([]);
      const line = formatStatus(await k2.services.status())
        .split("\n")
        .find((l) => l.startsWith("fleet:"));
      expect(line).toMatch(
        /^fleet: node pbx-k2, connected, signed by node keys; \d+ published, \d+ received, 2 refused \(last: signed with a key not listed for pbx-k1 \([0-9a-f]{12}\)\)$/,
      );

      // pbx-k1 is taken out of the fleet: its line deleted from the peers file, and pbx-k2 reloads.
      writeFileSync(peersFile, `pbx-k2 ${ids["pbx-k2"].publicKey}\n`);
      await k2.reload();
      k1.attack("203.0.113.93");
      await until(() => k1.bansOn("203.0.113.93").length === 1, "pbx-k1's own ban");
      await until(() => k1.daemon.fleetStats()?.pending === 0, "pbx-k1's ban published");
      const fromK1 = ((await client.sendCommand(["XRANGE", NODES, "-", "+"])) as [string, string[]][]).filter(
        ([, f]) => f[f.indexOf("node") + 1] === "pbx-k1",
      ).length;
      // The reloaded link reads the stream again from its start: every entry in pbx-k1's name is refused.
      await until(() => k2.daemon.fleetStats()?.refused === fromK1, "pbx-k1's entries refused on pbx-k2");
      expect(k2.bansOn("203.0.113.93")).toEqual([]);
      expect(k2.daemon.fleetStats()?.lastRefused).toBe("from a node not in the peers file (pbx-k1)");
    } finally {
      client.destroy();
      for (const d of daemons.splice(-2)) await d.stop();
    }
  });

  it("while Redis is away, bans are made here and wait; they reach the others when it is back", async () => {
    await redis.stop();
    await until(() => a.daemon.fleetStats()?.connected === false, "pbx-a sees Redis gone");
    a.attack("203.0.113.12");
    await until(() => a.bansOn("203.0.113.12").length === 1, "the local ban, without Redis");
    await until(() => (a.daemon.fleetStats()?.pending ?? 0) === 1, "the message waiting");
    expect(a.daemon.fleetStats()?.lastError).not.toBeNull();
    await redis.start();
    await until(
      () => b.bansOn("203.0.113.12").length === 1,
      "the ban on pbx-b after Redis came back",
      30_000,
    );
    // pbx-a's reading connection may come back a moment after its writing one, and a command cut off by
    // the reconnect is tried again: nothing stays waiting.
    await until(
      () => a.daemon.fleetStats()?.connected === true && a.daemon.fleetStats()?.pending === 0,
      "pbx-a connected again, nothing waiting",
      30_000,
    );
    expect(a.daemon.fleetStats()?.lastError).toBeNull();
  });
});

describe("fleet when Redis is not there yet", () => {
  it("a node starts without Redis, connects when it comes, and then publishes; a node that only shares takes nothing", async () => {
    const port = await freePort();
    const later = `redis://127.0.0.1:${port}`;
    const sharer = await node("pbx-f", { redisUrl: later, extra: ", receive: false" });
    const listener = await node("pbx-g", { redisUrl: later });
    let server: RedisServer | undefined;
    try {
      sharer.attack("203.0.113.30");
      await until(() => sharer.daemon.fleetStats()?.pending === 1, "the message waiting, Redis not started");
      expect(sharer.daemon.fleetStats()?.lastError).toMatch(/ECONNREFUSED/);
      server = await startRedis({ port });
      await until(() => listener.bansOn("203.0.113.30").length === 1, "the ban on pbx-g", 30_000);
      expect(sharer.daemon.fleetStats()).toMatchObject({
        connected: true,
        published: 1,
        pending: 0,
        lastError: null,
      });
      listener.attack("203.0.113.31");
      await until(() => (listener.daemon.fleetStats()?.published ?? 0) === 1, "pbx-g's ban published");
      await pause(300);
      expect(sharer.bansOn("203.0.113.31")).toEqual([]);
      expect(sharer.daemon.fleetStats()?.received).toBe(0);
    } finally {
      for (const d of daemons.splice(-2)) await d.stop();
      await server?.stop();
    }
  });
});

describe("the fleet link's queue while Redis is away", () => {
  it("keeps the newest 10,000 messages, drops the oldest, and sends the kept ones in order", async () => {
    const port = await freePort();
    const link = await startFleetLink(
      {
        url: `redis://127.0.0.1:${port}`,
        passwordFile: null,
        secretFile: null,
        identityFile: null,
        peersFile: null,
        caFile: null,
        node: "pbx-q",
        key: "sw-test:queue",
        share: true,
        receive: false,
        allows: true,
        maxEntries: 100_000,
      },
      { log: { warn: () => undefined, info: () => undefined }, onMessages: async () => undefined },
    );
    let server: RedisServer | undefined;
    try {
      const unban = (i: number) =>
        ({ op: "unban", node: "pbx-q", target: `198.18.${i >> 8}.${i & 255}`, at: i }) as const;
      link.publish(Array.from({ length: 10_050 }, (_, i) => unban(i)));
      expect(link.stats()).toMatchObject({ pending: 10_000, dropped: 50, published: 0, connected: false });
      server = await startRedis({ port });
      await until(() => link.stats().published === 10_000, "all kept messages sent", 30_000);
      const client = createClient({ url: server.url });
      await client.connect();
      try {
        const entries = (await client.sendCommand(["XRANGE", "sw-test:queue", "-", "+"])) as [
          string,
          string[],
        ][];
        const ats = entries.map(([, f]) => Number(f[f.indexOf("at") + 1]));
        expect(ats).toHaveLength(10_000);
        expect(ats[0]).toBe(50);
        expect(ats.every((at, i) => at === 50 + i)).toBe(true);
      } finally {
        client.destroy();
      }
    } finally {
      await link.stop();
      await server?.stop();
    }
  });
});

describe("fleet and reload", () => {
  it("a reload that adds the fleet joins it, one that changes it reconnects, one that removes it leaves", async () => {
    const log = join(dir, "reload.log");
    writeFileSync(log, "");
    const text = (fleet: string) =>
      loadConfigText(
        [
          `state_dir: ${join(dir, "state-reload")}`,
          "sources:",
          `  pbx: { type: file, path: ${log} }`,
          "jails:",
          "  asterisk: { filter: asterisk, sources: [pbx] }",
          fleet,
        ].join("\n"),
        "reload.yaml",
      );
    const d = await startDaemon(text(""), { backend: "dry-run" }, { clock: systemClock, log: quiet, run });
    try {
      expect(d.fleetStats()).toBeNull();
      await d.reload(text(`fleet: { redis: "${redis.url}", node: pbx-r, key: ${KEY} }`));
      await until(() => d.fleetStats()?.connected === true, "joined on reload");
      // The stream read from its start: pbx-a's bans still in force are here now.
      await until(
        () => d.store.activeDecisions(Date.now()).some((x) => x.origin === "fleet:pbx-a"),
        "the fleet's bans",
      );
      await d.reload(text(`fleet: { redis: "${redis.url}", node: pbx-r2, key: ${KEY} }`));
      await until(
        () => d.fleetStats()?.node === "pbx-r2" && d.fleetStats()?.connected === true,
        "reconnected as pbx-r2",
      );
      await d.reload(text(""));
      expect(d.fleetStats()).toBeNull();
    } finally {
      await d.stop();
    }
  });
});

describe("fleet over TLS", () => {
  it("trusts Redis's certificate through ca_file, and not without it", async () => {
    const { cert, key } = selfSignedCert(dir, "redis");
    const tls = await startRedis({ tls: { cert, key } });
    try {
      expect(tls.url).toMatch(/^rediss:/);
      const trusting = await node("pbx-t", { redisUrl: tls.url, extra: `, ca_file: ${cert}` });
      const doubting = await node("pbx-u", { redisUrl: tls.url });
      const listener = await node("pbx-v", { redisUrl: tls.url, extra: `, ca_file: ${cert}` });
      await until(() => trusting.daemon.fleetStats()?.connected === true, "connected over TLS");
      await until(
        () => /certificate/i.test(doubting.daemon.fleetStats()?.lastError ?? ""),
        "the certificate refused",
      );
      expect(doubting.daemon.fleetStats()?.connected).toBe(false);
      trusting.attack("203.0.113.40");
      await until(() => listener.bansOn("203.0.113.40").length === 1, "the ban through TLS");
    } finally {
      for (const d of daemons.splice(-3)) await d.stop();
      await tls.stop();
    }
  });
});

describe("fleet with a Redis password", () => {
  it("connects with the password file, and says why it cannot with a wrong one", async () => {
    const locked = await startRedis({ password: "s3cret-fleet" });
    try {
      writeFileSync(join(dir, "good.pass"), "s3cret-fleet\n");
      writeFileSync(join(dir, "bad.pass"), "guess\n");
      const url = `redis://127.0.0.1:${locked.port}`;
      const good = await node("pbx-d", {
        redisUrl: url,
        extra: `, password_file: ${join(dir, "good.pass")}`,
      });
      const bad = await node("pbx-e", { redisUrl: url, extra: `, password_file: ${join(dir, "bad.pass")}` });
      await until(() => good.daemon.fleetStats()?.connected === true, "connected with the password");
      await until(
        () => /WRONGPASS|invalid password/i.test(bad.daemon.fleetStats()?.lastError ?? ""),
        "the refusal",
      );
      expect(bad.daemon.fleetStats()?.connected).toBe(false);
      good.attack("203.0.113.20");
      await until(
        () => (good.daemon.fleetStats()?.published ?? 0) === 1,
        "published through the locked Redis",
      );
    } finally {
      for (const d of daemons.splice(-2)) await d.stop();
      await locked.stop();
    }
  });
});
