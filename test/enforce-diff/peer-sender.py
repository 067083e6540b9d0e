# Runs in the peer namespace: crafts the differential test's packets with scapy and puts them on the wire.
#
# Frames go out through one packet socket with the fw's MAC filled in, so any source address can be used
# (spoofing is the point for bans and blocklists) and no neighbour lookup or local routing gets in the way.
# argv: <interface> <fw MAC>. stdin: one JSON command per line, {"cmd": "send", "packets": [...]};
# {"cmd": "listen", "flows": [...]} opens a TCP listener at each flow's destination, so the fw's connections
# complete with a real handshake. stdout: {"ev": "ready"} once scapy is loaded, then {"ev": "sent", "n": N}
# or {"ev": "listening", "n": N} per command.
import json
import socket
import sys
import time

from scapy.all import ICMP, IP, UDP, TCP, Ether, IPv6, Raw, get_if_hwaddr  # noqa: E402
from scapy.layers.inet6 import (  # noqa: E402
    ICMPv6DestUnreach,
    ICMPv6EchoRequest,
    ICMPv6MLQuery,
    ICMPv6ND_NS,
    ICMPv6ND_RS,
    ICMPv6PacketTooBig,
    ICMPv6ParamProblem,
    ICMPv6TimeExceeded,
)

IFACE, FW_MAC = sys.argv[1], sys.argv[2]
MY_MAC = get_if_hwaddr(IFACE)


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def tag(p):
    return f"swd:{p['id']};".encode()


def payload(p):
    n = p["payloadLength"]
    t = tag(p)
    # Too short for the tag: the test then recognises the packet by source address and port.
    if n < len(t):
        return b"y" * n
    return t + b"x" * (n - len(t))


def quoted(p, v6):
    """The datagram an ICMP error quotes: our own earlier UDP flow (related) or a made-up one (unrelated)."""
    q = p["quote"]
    ip = IPv6(src=q["src"], dst=q["dst"]) if v6 else IP(src=q["src"], dst=q["dst"])
    return ip / UDP(sport=q["sport"], dport=q["dport"]) / Raw(tag(p))


ICMP4_ERRORS = {"destination-unreachable": (3, 3), "time-exceeded": (11, 0), "parameter-problem": (12, 0)}
ICMP4_PLAIN = {"echo-request": 8, "echo-reply": 0, "router-advertisement": 9, "router-solicitation": 10}
ICMP6_ERRORS = {
    "destination-unreachable": lambda: ICMPv6DestUnreach(code=4),
    "packet-too-big": lambda: ICMPv6PacketTooBig(mtu=1280),
    "time-exceeded": lambda: ICMPv6TimeExceeded(),
    "parameter-problem": lambda: ICMPv6ParamProblem(),
}


def build(p):
    v6 = p["family"] == "ipv6"
    hl = p.get("hopLimit", 64)
    ip = IPv6(src=p["src"], dst=p["dst"], hlim=hl) if v6 else IP(src=p["src"], dst=p["dst"], ttl=hl)
    proto = p["protocol"]
    if proto == "tcp":
        l4 = TCP(sport=p["sport"], dport=p["dport"], flags=p["flags"], seq=1000 + p["id"], window=8192)
        if "A" in p["flags"]:
            l4.ack = 1
        body = l4 / Raw(payload(p)) if p["payloadLength"] > 0 else l4
    elif proto == "udp":
        body = UDP(sport=p["sport"], dport=p["dport"]) / Raw(payload(p))
    elif proto == "icmp":
        t = p["icmpType"]
        if t in ICMP4_ERRORS:
            typ, code = ICMP4_ERRORS[t]
            body = ICMP(type=typ, code=code) / quoted(p, False)
        else:
            body = ICMP(type=ICMP4_PLAIN[t], id=p["id"] & 0xFFFF, seq=1) / Raw(tag(p))
    else:
        t = p["icmpType"]
        if t in ICMP6_ERRORS:
            body = ICMP6_ERRORS[t]() / quoted(p, True)
        elif t == "echo-request":
            body = ICMPv6EchoRequest(id=p["id"] & 0xFFFF, seq=1, data=tag(p))
        elif t == "nd-router-solicit":
            body = ICMPv6ND_RS() / Raw(tag(p))
        elif t == "nd-neighbor-solicit":
            body = ICMPv6ND_NS(tgt=p["dst"]) / Raw(tag(p))
        elif t == "mld-listener-query":
            body = ICMPv6MLQuery() / Raw(tag(p))
        else:
            raise ValueError(f"no builder for icmpv6 {t}")
    return bytes(Ether(src=MY_MAC, dst=FW_MAC) / ip / body)


sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
sock.bind((IFACE, 0))
listeners = []
emit({"ev": "ready"})
for line in sys.stdin:
    cmd = json.loads(line)
    if cmd["cmd"] == "listen":
        for f in cmd["flows"]:
            fam = socket.AF_INET6 if ":" in f["dst"] else socket.AF_INET
            ls = socket.socket(fam, socket.SOCK_STREAM)
            ls.bind((f["dst"], f["dport"]))
            ls.listen(8)  # the kernel completes the handshake; nobody needs to accept()
            listeners.append(ls)
        emit({"ev": "listening", "n": len(cmd["flows"])})
        continue
    frames = [build(p) for p in cmd["packets"]]
    for i, f in enumerate(frames):
        sock.send(f)
        # A short breath every few dozen frames keeps the receive path's backlog far from its limit.
        if i % 50 == 49:
            time.sleep(0.002)
    emit({"ev": "sent", "n": len(frames)})
