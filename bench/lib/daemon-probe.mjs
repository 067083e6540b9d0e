// @ts-check
/**
 * UDP probe agent for bench/daemon-ban-latency.mjs and bench/ipv6-rotation.mjs (IPv4 and IPv6); runs inside a namespace (`ip netns exec <ns> node …`).
 *
 *   node daemon-probe.mjs listen <port>   — in the protected namespace: counts probes per trial
 *   node daemon-probe.mjs send            — in the peer namespace: sends probes from a given source address
 *
 * Both read one JSON command per line on stdin and answer with one JSON line on stdout, in order.
 * A probe's payload is `probe <trial> <seq>`; the listener answers each with `ok`. Times are CLOCK_MONOTONIC in ms (process.hrtime), which every
 * process on the host shares, so the benchmark compares them with the time it wrote the log line.
 *
 * listen commands: {cmd:"q", trial}      → {trial, count, lastSeq, lastAt}   (lastSeq -1: nothing arrived)
 * send commands:   {cmd:"start", trial, src, dst, port, intervalMs, max} → {trial, started:true}
 *                  {cmd:"stop", trial, seqs:[…]}  → {trial, sent, times:{seq: sentAt}, gapP50}
 * A trial sends at most `max` probes (the loop is bounded even if nobody says stop).
 */

import dgram from "node:dgram";
import process from "node:process";
import { clearInterval, setInterval } from "node:timers";
import { createInterface } from "node:readline";

const monoMs = () => Number(process.hrtime.bigint()) / 1e6;
/** @param {unknown} o */
const reply = (o) => process.stdout.write(JSON.stringify(o) + "\n");

const [mode, portArg] = process.argv.slice(2);

if (mode === "listen") {
  /** @type {Map<number, { count: number, lastSeq: number, lastAt: number }>} */
  const trials = new Map();
  // One socket per family (the IPv6 one IPv6-only), the same handler: probes come from either.
  const sock4 = dgram.createSocket({ type: "udp4", recvBufferSize: 1 << 20 });
  const sock6 = dgram.createSocket({ type: "udp6", ipv6Only: true, recvBufferSize: 1 << 20 });
  /** @param {dgram.Socket} sock @param {Buffer} msg @param {dgram.RemoteInfo} rinfo */
  const onProbe = (sock, msg, rinfo) => {
    const at = monoMs();
    // A reply makes the flow ESTABLISHED in conntrack, as a SIP server's answer would: otherwise every probe
    // is a NEW flow and the protected host's per-source rate limit (sipwarden's default ruleset) drops them.
    sock.send("ok", rinfo.port, rinfo.address);
    const m = /^probe (\d+) (\d+)$/.exec(msg.toString("latin1"));
    if (!m) return;
    const trial = Number(m[1]);
    const seq = Number(m[2]);
    let t = trials.get(trial);
    if (!t) trials.set(trial, (t = { count: 0, lastSeq: -1, lastAt: 0 }));
    t.count++;
    if (seq > t.lastSeq) {
      t.lastSeq = seq;
      t.lastAt = at;
    }
  };
  sock4.on("message", (msg, rinfo) => onProbe(sock4, msg, rinfo));
  sock6.on("message", (msg, rinfo) => onProbe(sock6, msg, rinfo));
  sock4.bind(Number(portArg), () => sock6.bind(Number(portArg), () => reply({ ready: true })));
  createInterface({ input: process.stdin }).on("line", (line) => {
    /** @type {{ cmd: string, trial: number }} */
    const c = JSON.parse(line);
    const t = trials.get(c.trial) ?? { count: 0, lastSeq: -1, lastAt: 0 };
    reply({ trial: c.trial, ...t });
  });
  process.stdin.on("end", () => process.exit(0));
} else if (mode === "send") {
  /** @type {Map<number, { sock: dgram.Socket, times: number[], timer: NodeJS.Timeout }>} */
  const trials = new Map();
  createInterface({ input: process.stdin }).on("line", (line) => {
    /** @type {{ cmd: string, trial: number, src?: string, dst?: string, port?: number, intervalMs?: number, max?: number, seqs?: number[] }} */
    const c = JSON.parse(line);
    if (c.cmd === "start") {
      const sock = dgram.createSocket(c.src?.includes(":") ? "udp6" : "udp4");
      /** @type {number[]} */
      const times = [];
      const max = c.max ?? 10_000;
      sock.bind({ address: c.src, port: 0 }, () => {
        const timer = setInterval(() => {
          if (times.length >= max) return clearInterval(timer);
          const seq = times.length;
          times.push(monoMs());
          // Unconnected socket: an ICMP reject from the fw side raises no error here.
          sock.send(`probe ${c.trial} ${seq}`, c.port, c.dst);
        }, c.intervalMs ?? 1);
        trials.set(c.trial, { sock, times, timer });
        reply({ trial: c.trial, started: true });
      });
    } else if (c.cmd === "stop") {
      const t = trials.get(c.trial);
      if (!t) return reply({ trial: c.trial, sent: 0, times: {}, gapP50: NaN });
      clearInterval(t.timer);
      t.sock.close();
      trials.delete(c.trial);
      /** @type {Record<number, number>} */
      const times = {};
      for (const s of c.seqs ?? [])
        if (t.times[s] !== undefined) times[s] = /** @type {number} */ (t.times[s]);
      const gaps = t.times
        .slice(1)
        .map((x, i) => x - /** @type {number} */ (t.times[i]))
        .sort((a, b) => a - b);
      reply({
        trial: c.trial,
        sent: t.times.length,
        times,
        gapP50: gaps[Math.floor(gaps.length / 2)] ?? NaN,
      });
    }
  });
  process.stdin.on("end", () => process.exit(0));
} else {
  process.stderr.write("usage: daemon-probe.mjs listen <port> | send\n");
  process.exit(2);
}
