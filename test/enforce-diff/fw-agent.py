# Runs in the fw namespace: reports every packet that got past the firewall, and opens flows on request.
#
# Raw sockets receive a copy of each packet the IP stack delivers locally, which happens after the INPUT
# hook: a packet the ruleset dropped never reaches them, whether or not a program listens on its port.
# A packet socket would not do, it sees frames before netfilter.
#
# stdout: one JSON object per line: {"ev": "ready"}, {"ev": "in", ...} per arrival, {"ev": "opened", "n": N}.
# stdin: one JSON command per line: {"cmd": "open", "flows": [{"src", "sport", "dst", "dport"}]} sends one
# UDP datagram per flow from this host, so the peer's answers to it are ESTABLISHED (and ICMP errors about
# it RELATED) in conntrack; {"cmd": "connect", "flows": [...]} opens TCP connections to the peer's
# listeners and answers {"ev": "connected", "n": N} with how many completed within two seconds.
import json
import os
import re
import select
import socket
import sys
import time

TAG = re.compile(rb"swd:(\d+);")


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def raw(family, proto):
    s = socket.socket(family, socket.SOCK_RAW, proto)
    # Bursts of a few hundred packets must not overflow the queue: that would look like a firewall drop.
    s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE, allowed for root
    s.setblocking(False)
    return s


NAMES = {6: "tcp", 17: "udp", 1: "icmp", 58: "icmpv6"}
socks = {}
for fam, proto in [
    (socket.AF_INET, 6),
    (socket.AF_INET, 17),
    (socket.AF_INET, 1),
    (socket.AF_INET6, 6),
    (socket.AF_INET6, 17),
    (socket.AF_INET6, 58),
]:
    socks[raw(fam, proto)] = (fam, proto)


def report(fam, proto, data, addr):
    if fam == socket.AF_INET:
        # IPv4 raw sockets see the IP header; IPv6 ones start at the transport header.
        ihl = (data[0] & 0x0F) * 4
        src = socket.inet_ntop(socket.AF_INET, data[12:16])
        l4 = data[ihl:]
    else:
        src = addr[0].split("%")[0]
        l4 = data
    sport = None
    if proto in (6, 17) and len(l4) >= 4:
        sport = int.from_bytes(l4[0:2], "big")
    m = TAG.search(l4)
    emit({"ev": "in", "p": NAMES[proto], "src": src, "sport": sport, "tag": int(m.group(1)) if m else None})


def open_flows(flows):
    n = 0
    for f in flows:
        fam = socket.AF_INET6 if ":" in f["src"] else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((f["src"], f["sport"]))
        s.sendto(b"opener", (f["dst"], f["dport"]))
        s.close()
        n += 1
    emit({"ev": "opened", "n": n})


held = []


def connect_flows(flows):
    pending = []
    for f in flows:
        fam = socket.AF_INET6 if ":" in f["src"] else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        # Several connections share one local port (towards different peers): allowed while none listens.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((f["src"], f["sport"]))
        s.setblocking(False)
        s.connect_ex((f["dst"], f["dport"]))
        pending.append(s)
        held.append(s)  # kept open: closing would end the flow the test is about to use
    done = 0
    waiting = list(pending)
    deadline = time.monotonic() + 2.0
    while waiting and time.monotonic() < deadline:
        _, writable, _ = select.select([], waiting, [], max(0.0, deadline - time.monotonic()))
        for w in writable:
            waiting.remove(w)
            if w.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                done += 1
    emit({"ev": "connected", "n": done})


emit({"ev": "ready"})
stdin = sys.stdin.fileno()
os.set_blocking(stdin, False)
buf = b""
watch = list(socks) + [stdin]
while True:
    ready, _, _ = select.select(watch, [], [])
    for r in ready:
        if r == stdin:
            chunk = os.read(stdin, 1 << 20)
            if not chunk:
                sys.exit(0)  # the test closed our stdin: it is done with us
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                cmd = json.loads(line)
                if cmd["cmd"] == "open":
                    open_flows(cmd["flows"])
                elif cmd["cmd"] == "connect":
                    connect_flows(cmd["flows"])
            continue
        fam, proto = socks[r]
        while True:
            try:
                data, addr = r.recvfrom(65535)
            except BlockingIOError:
                break
            report(fam, proto, data, addr)
