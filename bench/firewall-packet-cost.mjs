// @ts-check
// Packet cost: a UDP flood through a veth pair, the seed's hand-written iptables ruleset (seeds/001, with
// fail2ban's ipset of 10,000 banned addresses and a 100k-CIDR VoIPBL ipset) versus sipwarden's compiled
// nftables ruleset (same 10,000 bans, same feed), side by side in one run.
// Run: npm run build && node bench/firewall-packet-cost.mjs [--seconds 5] [--reps 3]   (as root; hping3)
/* global process, console */
import { spawnSync } from "node:child_process";
import { writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createSpawnRunner } from "../dist/enforce/command-runner.js";
import { openNftBackend } from "../dist/enforce/nftables/backend.js";
import {
  DEFAULT_ICMP,
  DEFAULT_PROTECTIONS,
  WELL_KNOWN_SERVICES,
  sipBanScope,
} from "../dist/enforce/policy.js";
import { blocklist, createLab, machine, quantile, sh } from "./firewall-lab.mjs";

const { values } = parseArgs({
  options: { seconds: { type: "string", default: "5" }, reps: { type: "string", default: "3" } },
});
const SECONDS = Number(values.seconds);
const LAN = "192.168.1.0/24"; // the seed's xxx.xxx.xxx.xxx/24
const PROXY = "203.0.113.10"; // the seed's known_external_proxy
const FEED = blocklist(100_000, []);
const BANNED = Array.from({ length: 10_000 }, (_, i) => `172.16.${i >> 8}.${i & 255}`);

// seeds/001 verbatim (INPUT chain), placeholders filled; fail2ban's chain and sets as fail2ban creates them.
const SEED = `*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:fail2ban-ssh - [0:0]
-A fail2ban-ssh -j RETURN
-A INPUT -p udp -m multiport --dports 5060,5061 -m set --match-set fail2ban-ASTERISK src -j REJECT --reject-with icmp-port-unreachable
-A INPUT -p tcp -m multiport --dports 5060,5061 -m set --match-set fail2ban-ASTERISK src -j REJECT --reject-with icmp-port-unreachable
-A INPUT -p tcp -m multiport --dports 22 -j fail2ban-ssh
-A INPUT -m set --match-set voip_bl src -j DROP
-A INPUT -i lo -j ACCEPT
-A INPUT -p udp -m udp --dport 10000:20000 -j ACCEPT
-A INPUT -p udp -m udp --dport 2727 -j ACCEPT
-A INPUT -p udp -m udp --dport 4569 -j ACCEPT
-A INPUT -s ${LAN} -p udp -m udp --dport 5060:5061 -j ACCEPT
-A INPUT -s ${LAN} -p tcp -m tcp --dport 5060:5061 -j ACCEPT
-A INPUT -s ${PROXY} -p udp -m udp --dport 5060:5061 -j ACCEPT
-A INPUT -p udp -m udp --dport 5060:5061 -m string --string "User-Agent: VaxSIPUserAgent" --algo bm --to 65535 -j DROP
-A INPUT -p udp -m udp --dport 5060:5061 -m string --string "User-Agent: friendly-scanner" --algo bm --to 65535 -j REJECT --reject-with icmp-port-unreachable
-A INPUT -p udp -m udp --dport 5060:5061 -m string --string "REGISTER sip:" --algo bm --to 65535 -m recent --set --name VOIP --rsource
-A INPUT -p udp -m udp --dport 5060:5061 -m string --string "REGISTER sip:" --algo bm --to 65535 -m recent --update --seconds 60 --hitcount 12 --rttl --name VOIP --mask 255.255.255.255 --rsource -j DROP
-A INPUT -p udp -m udp --dport 5060:5061 -m string --string "INVITE sip:" --algo bm --to 65535 -m recent --set --name VOIPINV --rsource
-A INPUT -p udp -m udp --dport 5060:5061 -m string --string "INVITE sip:" --algo bm --to 65535 -m recent --update --seconds 60 --hitcount 12 --rttl --name VOIPINV --mask 255.255.255.255 --rsource -j DROP
-A INPUT -p tcp -m tcp --dport 5060:5061 -m hashlimit --hashlimit-upto 6/sec --hashlimit-burst 5 --hashlimit-mode srcip,dstport --hashlimit-name tunnel_limit -j ACCEPT
-A INPUT -p udp -m udp --dport 5060:5061 -m hashlimit --hashlimit-upto 6/sec --hashlimit-burst 5 --hashlimit-mode srcip,dstport --hashlimit-name tunnel_limit -j ACCEPT
${[137, 138, 139, 445, 10000, 22, 123].map((p) => `-A INPUT -s ${LAN} -p tcp -m tcp --dport ${p} -j ACCEPT`).join("\n")}
-A INPUT -s ${LAN} -p icmp -j ACCEPT
-A INPUT -s ${LAN} -p udp -m udp --dport 123 -j ACCEPT
${[5038, 58080, 55050].map((p) => `-A INPUT -s ${LAN} -p tcp -m tcp --dport ${p} -j ACCEPT`).join("\n")}
-A INPUT -p tcp -m tcp --dport 80 -j ACCEPT
-A INPUT -p tcp -m tcp --dport 443 -j ACCEPT
-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT
-A INPUT -s ${LAN} -p tcp -m tcp --dport 514 -j ACCEPT
-A INPUT -s ${LAN} -p udp -m udp --dport 514 -j ACCEPT
-A INPUT -j DROP
-A OUTPUT -j ACCEPT
COMMIT
`;
const SEED_SETS = [
  "create fail2ban-ASTERISK hash:ip timeout 0 maxelem 65536",
  ...BANNED.map((a) => `add fail2ban-ASTERISK ${a} timeout 600`),
  "create voip_bl hash:net hashsize 65536 maxelem 262144",
  ...FEED.map((c) => `add voip_bl ${c}`),
].join("\n");

const svc = (
  /** @type {string} */ name,
  /** @type {"tcp"|"udp"} */ protocol,
  /** @type {number} */ from,
  to = from,
) => ({
  name,
  ports: [{ protocol, ports: [{ from, to }] }],
});
const p0 = {
  families: /** @type {const} */ (["ipv4", "ipv6"]),
  services: [
    ...WELL_KNOWN_SERVICES,
    svc("mgcp", "udp", 2727),
    svc("samba", "tcp", 137, 139),
    svc("smb", "tcp", 445),
    svc("ntp", "udp", 123),
    svc("syslog", "udp", 514),
    svc("isymphony", "tcp", 58080),
  ],
  sipServices: ["sip", "sip-tls"],
  icmp: DEFAULT_ICMP,
  dhcpClient: { v4: false, v6: false },
  zones: [
    {
      name: "lan",
      kind: "network",
      sources: [LAN],
      services: ["sip", "ssh", "webmin", "ami", "samba", "smb", "ntp", "syslog", "isymphony"],
    },
    { name: "proxy", kind: "host", sources: [PROXY], services: ["sip"] },
  ],
  internet: { services: ["sip", "sip-tls", "rtp", "mgcp", "iax2", "http", "https"] },
  allowlist: [],
  banSets: [],
  blocklists: [],
  protections: DEFAULT_PROTECTIONS,
  sipInspection: null,
};
const POLICY = /** @type {any} */ ({
  ...p0,
  banSets: [
    { name: "ban", scope: { kind: "all" } },
    { name: "sipban", scope: sipBanScope(/** @type {any} */ (p0)) },
  ],
  blocklists: [{ name: "voipbl", scope: sipBanScope(/** @type {any} */ (p0)), entries: FEED }],
});

console.log(`machine: ${machine()}`);
const lab = createLab([]);
const dir = mkdtempSync(join(tmpdir(), "swbench-"));
const base = createSpawnRunner({ timeoutMs: 120_000 });
/** @type {import("../dist/enforce/command-runner.js").CommandRunner} */
const fwRun = (cmd, args, stdin) => base("ip", ["netns", "exec", lab.fw, cmd, ...args], stdin);
const inFw = (/** @type {string} */ cmd, /** @type {string[]} */ args, /** @type {string} */ input = "") =>
  sh("ip", ["netns", "exec", lab.fw, cmd, ...args], input);

function reset() {
  inFw("nft", ["flush", "ruleset"]);
  spawnSync("ip", ["netns", "exec", lab.fw, "ipset", "destroy"]);
  inFw("conntrack", ["-F"]);
  // The meter: counts every packet that leaves the backlog into IP processing, before any ruleset.
  inFw(
    "nft",
    ["-f", "-"],
    "table ip swbench {\n chain c {\n  type filter hook prerouting priority -1000; counter\n }\n}\n",
  );
}

function meter() {
  const out = inFw("nft", ["list", "chain", "ip", "swbench", "c"]);
  return Number(/counter packets (\d+)/.exec(out)?.[1] ?? "0");
}

// A REGISTER from an unknown stranger to 5060: walks the SIP protections of both rulesets.
const payload = join(dir, "register.txt");
writeFileSync(
  payload,
  "REGISTER sip:10.80.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 10.80.0.2:40000\r\nUser-Agent: Zoiper\r\nContent-Length: 0\r\n\r\n",
);

function flood() {
  const before = meter();
  const t0 = process.hrtime.bigint();
  spawnSync(
    "ip",
    [
      "netns",
      "exec",
      lab.peer,
      "timeout",
      "-s",
      "INT",
      String(SECONDS),
      "hping3",
      "--udp",
      "-p",
      "5060",
      "-s",
      "40000",
      "-k",
      "-d",
      "120",
      "-E",
      payload,
      "--flood",
      "10.80.0.1",
    ],
    { stdio: "ignore" },
  );
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  return (meter() - before) / secs;
}

const fast = await openNftBackend({
  run: fwRun,
  clock: { now: Date.now },
  log: { warn: (f, m) => console.warn("warn:", m, f) },
  netnsPath: `/run/netns/${lab.fw}`,
});
const rates = { seed: /** @type {number[]} */ ([]), sipwarden: /** @type {number[]} */ ([]) };
try {
  for (let r = 0; r < Number(values.reps); r++) {
    reset();
    inFw("ipset", ["restore"], `${SEED_SETS}\n`);
    inFw("iptables-restore", [], SEED);
    rates.seed.push(flood());
    reset();
    await fast.apply(POLICY);
    await fast.ban(
      BANNED.map((target) => ({ target, timeoutMs: 600_000, scope: sipBanScope(/** @type {any} */ (p0)) })),
    );
    rates.sipwarden.push(flood());
    console.log(
      `rep ${r + 1}: seed ${rates.seed[r]?.toFixed(0)} pps, sipwarden ${rates.sipwarden[r]?.toFixed(0)} pps`,
    );
  }
  const s = quantile(rates.seed, 0.5);
  const w = quantile(rates.sipwarden, 0.5);
  console.log(
    `\nmedian packets/s through the ruleset (${SECONDS} s floods × ${values.reps}): seed iptables ${s.toFixed(0)}, sipwarden nftables ${w.toFixed(0)}, ratio sipwarden/seed ${(w / s).toFixed(2)}  ${w >= s * 0.97 ? "PASS" : "MISS"} (not slower; 3 % noise band)`,
  );
} finally {
  fast.close();
  rmSync(dir, { recursive: true, force: true });
  lab.destroy();
}
