// @ts-check
// Traffic helper for the firewall benchmarks, run inside a bench namespace (never outside it).
//   recv <port>          prints "<src> <sendNs>" for every datagram that arrives (payload "t:<sendNs>")
//   send <dst> <port>    reads "src <addr>" / "stop" / "quit" lines on stdin and streams one datagram
//                        per millisecond from the current source, stamped with process.hrtime (CLOCK_MONOTONIC,
//                        the same clock in every process of the host, so times compare across namespaces)
/* global process, console, Buffer, setInterval, clearInterval */
import dgram from "node:dgram";
import { createInterface } from "node:readline";

const [mode, ...args] = process.argv.slice(2);

if (mode === "recv") {
  const sock = dgram.createSocket("udp4");
  let out = [];
  sock.on("message", (msg, rinfo) => {
    const s = msg.toString("latin1");
    if (s.startsWith("t:")) out.push(`${rinfo.address} ${s.slice(2)}`);
  });
  // Batched output: one write per ms keeps the receiver cheap.
  setInterval(() => {
    if (out.length > 0) {
      process.stdout.write(`${out.join("\n")}\n`);
      out = [];
    }
  }, 1);
  sock.bind(Number(args[0]), () => console.log("ready"));
} else if (mode === "send") {
  const [dst, port] = args;
  /** @type {Map<string, import("node:dgram").Socket>} */
  const socks = new Map();
  /** @type {import("node:dgram").Socket | null} */
  let current = null;
  const timer = setInterval(() => {
    if (current) current.send(Buffer.from(`t:${process.hrtime.bigint()}`), Number(port), dst);
  }, 1);
  createInterface({ input: process.stdin }).on("line", (line) => {
    const [cmd, addr] = line.trim().split(/\s+/);
    if (cmd === "src" && addr) {
      let s = socks.get(addr);
      if (!s) {
        s = dgram.createSocket("udp4");
        s.bind({ address: addr, port: 0 });
        socks.set(addr, s);
      }
      current = s;
    } else if (cmd === "stop") current = null;
    else if (cmd === "quit") {
      clearInterval(timer);
      for (const s of socks.values()) s.close();
      process.exit(0);
    }
  });
  console.log("ready");
} else {
  console.error(`unknown mode ${mode}`);
  process.exitCode = 2;
}
