// Tiny traffic tool run inside a test namespace: a listener that reports what arrives, and senders.
/* global process, console, Buffer, setTimeout, clearTimeout, setInterval, clearInterval */
import dgram from "node:dgram";
import net from "node:net";

const [mode, ...args] = process.argv.slice(2);
const plain = (addr) => (addr.startsWith("::ffff:") ? addr.slice(7) : addr);
const emit = (obj) => console.log(JSON.stringify({ ...obj, t: Date.now() }));

if (mode === "serve") {
  // serve <tcp ports csv> <udp ports csv>: dual-stack listeners on ::, one JSON line per arrival.
  const tcp = (args[0] ?? "").split(",").filter(Boolean).map(Number);
  const udp = (args[1] ?? "").split(",").filter(Boolean).map(Number);
  let pending = tcp.length + udp.length;
  const bound = () => {
    pending -= 1;
    if (pending === 0) emit({ ev: "ready" });
  };
  for (const port of tcp) {
    const server = net.createServer((sock) => {
      emit({ ev: "tcp", port, from: plain(sock.remoteAddress ?? "") });
      sock.on("error", () => undefined);
      sock.end("hi\n");
    });
    server.listen({ host: "::", port, ipv6Only: false }, bound);
  }
  for (const port of udp) {
    const sock = dgram.createSocket({ type: "udp6", ipv6Only: false });
    sock.on("message", (msg, rinfo) =>
      emit({ ev: "udp", port, from: plain(rinfo.address), len: msg.length, data: msg.toString("utf8") }),
    );
    sock.bind({ address: "::", port }, bound);
  }
} else if (mode === "tcp") {
  // tcp <src> <dst> <port> <timeoutMs>: prints open, refused, timeout or the error code.
  const [src, dst, port, timeoutMs] = args;
  const sock = net.connect({ host: dst, port: Number(port), localAddress: src });
  const done = (result) => {
    clearTimeout(timer);
    console.log(result);
    sock.destroy();
  };
  const timer = setTimeout(() => done("timeout"), Number(timeoutMs));
  sock.on("connect", () => done("open"));
  sock.on("error", (e) => done(e.code === "ECONNREFUSED" ? "refused" : String(e.code)));
} else if (mode === "udp" || mode === "stream") {
  // udp <src> <dst> <port> <payload>; stream <src> <srcPort> <dst> <port> <intervalMs> <count>.
  const isStream = mode === "stream";
  const [src, srcPort, dst, port, a, b] = isStream ? args : [args[0], "0", args[1], args[2], args[3], "1"];
  const sock = dgram.createSocket(dst.includes(":") ? "udp6" : "udp4");
  sock.bind({ address: src, port: Number(srcPort) }, () => {
    if (!isStream) {
      sock.send(Buffer.from(a ?? "", "utf8"), Number(port), dst, () => {
        console.log("sent");
        sock.close();
      });
      return;
    }
    // A fixed source port keeps every datagram in one conntrack flow, like a phone's SIP socket.
    const count = Number(b);
    let n = 0;
    const timer = setInterval(() => {
      // The send time rides along, so the receiver can tell what was sent after a given moment.
      sock.send(Buffer.from(`seq:${n}:${Date.now()}`), Number(port), dst);
      n += 1;
      if (n >= count) {
        clearInterval(timer);
        setTimeout(() => {
          console.log(`done ${n}`);
          sock.close();
        }, 20);
      }
    }, Number(a));
  });
} else if (mode === "flows") {
  // flows <src> <dst> <port> <count>: one datagram from each of `count` fresh sockets, i.e. `count` new
  // conntrack flows back to back, as a REGISTER flood from random source ports looks.
  const [src, dst, port, count] = args;
  let sent = 0;
  const next = () => {
    if (sent >= Number(count)) {
      console.log(`done ${sent}`);
      return;
    }
    const sock = dgram.createSocket(dst.includes(":") ? "udp6" : "udp4");
    sock.bind({ address: src, port: 0 }, () =>
      sock.send(Buffer.from(`flow:${sent}`), Number(port), dst, () => {
        sent += 1;
        sock.close();
        next();
      }),
    );
  };
  next();
} else {
  console.error(`unknown mode ${mode}`);
  process.exitCode = 2;
}
