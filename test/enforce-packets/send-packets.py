# Runs in the peer namespace: crafts TCP packets with scapy (IPv4 or IPv6, any source) and puts them on the wire.
#
# stdin: a JSON list of {iface, mac, src, dst, dport, flags, count}. Frames carry the fw interface's MAC, so
# spoofed sources need no route or neighbour entry of their own. stdout: "sent N".
import json
import random
import sys

from scapy.all import IP, TCP, Ether, IPv6, conf, sendp  # noqa: E402

conf.verb = 0
batches = {}
for p in json.load(sys.stdin):
    l3 = IPv6(src=p["src"], dst=p["dst"]) if ":" in p["dst"] else IP(src=p["src"], dst=p["dst"])
    for _ in range(int(p["count"])):
        # A fresh source port per packet: every packet is a new conntrack flow, as a scan or flood makes.
        sport = random.randint(20000, 60000)
        frame = Ether(dst=p["mac"]) / l3 / TCP(sport=sport, dport=int(p["dport"]), flags=p["flags"] or 0, seq=random.getrandbits(32))
        batches.setdefault(p["iface"], []).append(frame)
total = 0
for iface, frames in batches.items():
    # One packet socket per interface for the whole batch: a flood goes out as fast as scapy can write.
    sendp(frames, iface=iface)
    total += len(frames)
print(f"sent {total}")
