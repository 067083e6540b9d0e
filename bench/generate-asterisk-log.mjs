// @ts-check
/**
 * Deterministic generator of realistic Asterisk `full` logs: mostly benign traffic with every attack
 * format interleaved, from tens of thousands of attacker addresses (198.18.0.0/15, 2001:db8::/32).
 *
 * The same seed and options always give the same bytes, so benchmark runs are comparable.
 *
 * Usage:
 *   node bench/generate-asterisk-log.mjs --lines 1000000 --seed 1 --out bench/out/asterisk-1m.log \
 *     [--attack-ratio 0.3] [--date-format default|iso|iso-ms|mixed] [--start 2026-10-29T18:00:00Z]
 *     [--rate 60]
 *   node bench/generate-asterisk-log.mjs --catalog bench/out/formats.log [--per-format 3]
 *
 * `--start` defaults to 18:00 UTC forty days ago (`defaultStartMs`): a `mixed` log changes between
 * Asterisk's year-less default date and dated ISO lines, and a reader takes a year-less date in the year that
 * puts it nearest before now, so a start in the recent past keeps both kinds of line on one timeline (a
 * fixed start years back made the year-less quarters jump years ahead of the dated ones).
 *
 * Besides the log it writes `<out>.manifest.json` (options, line counts per format, distinct attacker
 * addresses) and `<out>.truth.txt` (every address that appears in a failure line whose address field is
 * written by Asterisk itself — the set a correct filter must find). `--catalog` writes a small log with
 * a few lines of every format plus `<catalog>.json` naming the format of each line, for coverage checks.
 *
 * Formats are taken from Asterisk's sources (chan_sip.c, chan_iax2.c, manager.c, res_pjsip, res_security_log)
 * and from fail2ban's own sample log (fail2ban/tests/files/logs/asterisk).
 */

import { closeSync, openSync, writeFileSync, writeSync, mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import process from "node:process";
import { pathToFileURL } from "node:url";

// ---------------------------------------------------------------------------------------------------
// Seeded randomness

/**
 * sfc32 seeded through splitmix32: small, fast, and good enough for test data.
 * @param {number} seed
 */
export function createRandom(seed) {
  let s = seed >>> 0;
  const splitmix = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  /** Uniform in [0, 1). */
  const next = () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  return {
    next,
    /** Integer in [lo, hi]. @param {number} lo @param {number} hi */
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    /** @template T @param {readonly T[]} items @returns {T} */
    pick: (items) => /** @type {T} */ (items[Math.floor(next() * items.length)]),
    /** @param {number} p */
    chance: (p) => next() < p,
    /** Exponentially distributed with the given mean. @param {number} mean */
    exp: (mean) => -Math.log(1 - next()) * mean,
    /** @param {number} n */
    hex: (n) => {
      let out = "";
      for (let i = 0; i < n; i++) out += "0123456789abcdef"[Math.floor(next() * 16)];
      return out;
    },
    /** @param {number} n */
    digits: (n) => {
      let out = "";
      for (let i = 0; i < n; i++) out += String(Math.floor(next() * 10));
      return out;
    },
  };
}

/** @typedef {ReturnType<typeof createRandom>} Random */

/**
 * Picks from weighted entries in O(log n).
 * @template T
 * @param {readonly (readonly [T, number])[]} entries
 */
function weighted(entries) {
  /** @type {number[]} */
  const cumulative = [];
  let total = 0;
  for (const [, w] of entries) cumulative.push((total += w));
  /** @param {Random} rnd @returns {T} */
  return (rnd) => {
    const x = rnd.next() * total;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (/** @type {number} */ (cumulative[mid]) > x) hi = mid;
      else lo = mid + 1;
    }
    return /** @type {readonly [T, number]} */ (entries[lo])[0];
  };
}

// ---------------------------------------------------------------------------------------------------
// Dates, as Asterisk's logger writes them (`dateformat` in logger.conf)

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
/** @param {number} n */
const p2 = (n) => (n < 10 ? "0" + n : String(n));

/**
 * @typedef {"default" | "iso" | "iso-ms"} DateStyle
 * `default` is Asterisk's built-in `%b %e %T` (day padded with a space), `iso` is `dateformat=%F %T`,
 * `iso-ms` is `dateformat=%F %T.%3q`.
 */

/** @param {number} ms @param {DateStyle} style */
export function formatAsteriskDate(ms, style) {
  const d = new Date(ms);
  const time = `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`;
  if (style === "default") {
    const day = d.getUTCDate();
    return `${MONTHS[d.getUTCMonth()]} ${day < 10 ? " " + day : day} ${time}`;
  }
  const date = `${d.getUTCFullYear()}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())}`;
  if (style === "iso") return `${date} ${time}`;
  return `${date} ${time}.${String(d.getUTCMilliseconds()).padStart(3, "0")}`;
}

/** `EventTV` as res_security_log writes it (ISO with offset; very old versions used `sec-usec`). */
function eventTv(/** @type {number} */ ms, /** @type {Random} */ rnd) {
  if (rnd.chance(0.1)) return `${Math.floor(ms / 1000)}-${rnd.digits(6)}`;
  const d = new Date(ms);
  const date = `${d.getUTCFullYear()}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())}`;
  const time = `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`;
  return `${date}T${time}.${String(d.getUTCMilliseconds()).padStart(3, "0")}+0000`;
}

// ---------------------------------------------------------------------------------------------------
// The world: the PBX, its phones and trunks (benign), and the attackers

const PBX_V4 = "192.0.2.1";
const PBX_V6 = "2001:db8:ffff::1";
const TRUNKS = ["192.0.2.10", "192.0.2.11"];
const EXTENSIONS = Array.from({ length: 60 }, (_, i) => String(100 + i));
/** Phone address by extension: most on the LAN, some remote behind NAT (many phones, one public IP). */
const PHONE_ADDR = new Map(
  EXTENSIONS.map((ext, i) => [ext, i < 40 ? `192.168.1.${20 + i}` : `203.0.113.${10 + ((i - 40) % 6)}`]),
);
const CONTEXTS_IN = ["default", "from-sip-external", "public", "from-external", "from-pstn"];
const AMI_USERS = ["admin", "manager", "asterisk", "freepbxuser", "root", "opennms", "test"];

/**
 * Attacker address for a number in [0, 2^31): mostly IPv4 from 198.18.0.0/15, some IPv6 from 2001:db8::/32,
 * both written in canonical form (RFC 5952), as Asterisk prints them.
 * @param {Random} rnd
 */
function attackerAddress(rnd) {
  if (rnd.chance(0.12)) {
    const g = () => rnd.int(1, 0xffff).toString(16);
    return `2001:db8:${g()}:${g()}::${g()}`;
  }
  // 198.18.0.0/15 minus .0 and .255 hosts.
  return `198.${18 + rnd.int(0, 1)}.${rnd.int(0, 255)}.${rnd.int(1, 254)}`;
}

/** @param {string} a */
const isV6 = (a) => a.includes(":");
/** `ip:port` as ast_sockaddr_stringify/pj_sockaddr_print write it (brackets around IPv6). */
const hostPort = (/** @type {string} */ a, /** @type {number} */ port) =>
  isV6(a) ? `[${a}]:${port}` : `${a}:${port}`;

/** Dialled number a toll-fraud scanner tries. */
function fraudNumber(/** @type {Random} */ rnd) {
  const prefix = rnd.pick(["00", "011", "9011", "900", "+", "0", "000", "9", ""]);
  return prefix + rnd.pick(["44", "972", "46", "1", "370", "881", "963", "234"]) + rnd.digits(rnd.int(7, 10));
}

/** The account name an attacker tries. */
function victimUser(/** @type {Random} */ rnd) {
  return rnd.chance(0.6)
    ? String(rnd.int(100, 9999))
    : rnd.pick(["admin", "test", "1000", "100", "200", "user"]);
}

// ---------------------------------------------------------------------------------------------------
// Line layout

/**
 * The part after the date: `LEVEL[lwp][C-xxxxxxxx] file.c: ` — or, for some builds and log channels,
 * `LEVEL[lwp]: file.c:line function: `. Both occur in the wild (see fail2ban's sample log).
 * @param {Random} rnd @param {string} level @param {string} file @param {string} fn
 * @param {string | null} callId
 */
function prefix(rnd, level, file, fn, callId) {
  const lwp = rnd.int(1000, 32000);
  const cid = callId ? `[${callId}]` : "";
  if (rnd.chance(0.08)) return `${level}[${lwp}]${cid}: ${file}:${rnd.int(200, 30000)} ${fn}: `;
  return `${level}[${lwp}]${cid} ${file}: `;
}

// ---------------------------------------------------------------------------------------------------
// Attack formats

/**
 * @typedef {object} AttackFormat
 * @property {string} id
 * @property {number} weight relative frequency in the attack mix
 * @property {boolean} trusted the address is one Asterisk wrote from the transport (a filter should take it);
 *   false when the only address is inside a SIP header the attacker wrote (a filter must not take it)
 * @property {boolean} [v4only] the format never carries IPv6
 * @property {string} note
 * @property {(rnd: Random, addr: string, ms: number) => string} render the line without the date
 */

/** @param {Random} rnd @param {string} user */
const toHeader = (rnd, user) => {
  const host = rnd.chance(0.5) ? PBX_V4 : rnd.pick(["pbx.example.com", "example.com", "192.0.2.1:5060"]);
  if (rnd.chance(0.3)) return `<sip:${user}@${host}>`;
  return `"${user}"<sip:${user}@${host}>`;
};

/** @param {Random} rnd */
const sipPort = (rnd) => (rnd.chance(0.6) ? 5060 : rnd.int(1024, 65535));

/** @param {Random} rnd */
const callId = (rnd) => (rnd.chance(0.5) ? `C-${rnd.hex(8)}` : null);

/** @param {string} reason @returns {(rnd: Random, addr: string) => string} */
const chanSipRegistration = (reason) => (rnd, addr) =>
  prefix(rnd, "NOTICE", "chan_sip.c", "handle_request_register", null) +
  `Registration from '${toHeader(rnd, victimUser(rnd))}' failed for '${hostPort(addr, sipPort(rnd))}' - ${reason}`;

/** @param {string} method @param {string} reason @returns {(rnd: Random, addr: string) => string} */
const pjsipRequest = (method, reason) => (rnd, addr) => {
  const user = victimUser(rnd);
  const from = rnd.chance(0.5) ? `"${user}" <sip:${user}@${PBX_V4}>` : `<sip:${user}@${PBX_V4}>`;
  const cid = rnd.chance(0.5) ? rnd.hex(32) : `${rnd.hex(8)}-${rnd.hex(8)}@${PBX_V4}`;
  const m = method ? `'${method}' ` : "";
  return (
    prefix(rnd, "NOTICE", "res_pjsip/pjsip_distributor.c", "log_failed_request", null) +
    `Request ${m}from '${from}' failed for '${hostPort(addr, sipPort(rnd))}' (callid: ${cid}) - ${reason}`
  );
};

/**
 * pjproject prints IPv6 without brackets (`pj_sockaddr_print` without the bracket flag), so PJSIP's
 * "Call from" shows `(UDP:2001:db8::1:5060)`.
 * @param {string} transport @returns {(rnd: Random, addr: string) => string}
 */
const pjsipCallNotFound = (transport) => (rnd, addr) =>
  prefix(rnd, "NOTICE", "res_pjsip_session.c", "new_invite", callId(rnd)) +
  `Call from '${rnd.chance(0.7) ? "anonymous" : victimUser(rnd)}' (${transport}:${addr}:${sipPort(rnd)}) ` +
  `to extension '${fraudNumber(rnd)}' rejected because extension not found in context '${rnd.pick(CONTEXTS_IN)}'.`;

/**
 * @param {string} event @param {string} service @param {(rnd: Random) => string} extra
 * @returns {(rnd: Random, addr: string, ms: number) => string}
 */
const securityEvent = (event, service, extra) => (rnd, addr, ms) => {
  const fam = isV6(addr) ? "IPV6" : "IPV4";
  const tp = service === "AMI" ? "TCP" : rnd.pick(["UDP", "UDP", "UDP", "TCP", "TLS"]);
  const local = isV6(addr) ? PBX_V6 : PBX_V4;
  const lport = service === "AMI" ? 5038 : tp === "TLS" ? 5061 : 5060;
  const session = service === "PJSIP" ? `${rnd.hex(8)}-${rnd.hex(8)}@${PBX_V4}` : `0x${rnd.hex(12)}`;
  return (
    prefix(rnd, "SECURITY", "res_security_log.c", "security_event_stasis_cb", null) +
    `SecurityEvent="${event}",EventTV="${eventTv(ms, rnd)}",Severity="Error",Service="${service}",` +
    `EventVersion="${event === "InvalidPassword" ? 2 : 1}",AccountID="${service === "AMI" ? rnd.pick(AMI_USERS) : victimUser(rnd)}",` +
    `SessionID="${session}",LocalAddress="${fam}/${tp}/${local}/${lport}",` +
    `RemoteAddress="${fam}/${tp}/${addr}/${sipPort(rnd)}"${extra(rnd)}`
  );
};

/** @type {readonly AttackFormat[]} */
export const ATTACK_FORMATS = [
  // chan_sip (Asterisk ≤ 20): register_verify() reasons, as printed by handle_request_register.
  {
    id: "sip-reg-wrong-password",
    weight: 14,
    trusted: true,
    note: "chan_sip REGISTER, Wrong password",
    render: chanSipRegistration("Wrong password"),
  },
  {
    id: "sip-reg-no-peer",
    weight: 14,
    trusted: true,
    note: "chan_sip REGISTER, No matching peer found",
    render: chanSipRegistration("No matching peer found"),
  },
  {
    id: "sip-reg-auth-mismatch",
    weight: 3,
    trusted: true,
    note: "chan_sip REGISTER, Username/auth name mismatch",
    render: chanSipRegistration("Username/auth name mismatch"),
  },
  {
    id: "sip-reg-not-local-domain",
    weight: 2,
    trusted: true,
    note: "chan_sip REGISTER, Not a local domain",
    render: chanSipRegistration("Not a local domain"),
  },
  {
    id: "sip-reg-acl",
    weight: 2,
    trusted: true,
    note: "chan_sip REGISTER, Device does not match ACL",
    render: chanSipRegistration("Device does not match ACL"),
  },
  {
    id: "sip-reg-not-dynamic",
    weight: 1,
    trusted: true,
    note: "chan_sip REGISTER, Peer is not supposed to register",
    render: chanSipRegistration("Peer is not supposed to register"),
  },
  {
    id: "sip-reg-acl-error",
    weight: 1,
    trusted: true,
    note: "chan_sip REGISTER, ACL error (permit/deny) (1.8)",
    render: chanSipRegistration("ACL error (permit/deny)"),
  },
  {
    id: "sip-reg-bad-transport",
    weight: 1,
    trusted: true,
    note: "chan_sip REGISTER, Device not configured to use this transport type",
    render: chanSipRegistration("Device not configured to use this transport type"),
  },
  {
    id: "sip-reg-no-port",
    weight: 1,
    trusted: true,
    v4only: true,
    note: "chan_sip 1.4 style, address without port",
    render: (rnd, addr) =>
      prefix(rnd, "NOTICE", "chan_sip.c", "handle_request_register", null) +
      `Registration from '${toHeader(rnd, victimUser(rnd))}' failed for '${addr}' - Wrong password`,
  },
  {
    id: "sip-reg-quote-in-to",
    weight: 1,
    trusted: true,
    note: "chan_sip REGISTER whose To header holds a quote (SQL-injection scanners)",
    render: (rnd, addr) =>
      prefix(rnd, "NOTICE", "chan_sip.c", "handle_request_register", null) +
      `Registration from '"${rnd.int(100, 999)}'or'1'='1"<sip:${rnd.int(100, 999)}@${PBX_V4}>' failed for '${hostPort(addr, sipPort(rnd))}' - No matching peer found`,
  },
  {
    id: "sip-call-not-found",
    weight: 8,
    trusted: true,
    note: "chan_sip INVITE to unknown extension (toll fraud)",
    render: (rnd, addr) =>
      prefix(rnd, "NOTICE", "chan_sip.c", "handle_request_invite", callId(rnd)) +
      `Call from '${rnd.chance(0.8) ? "" : victimUser(rnd)}' (${hostPort(addr, sipPort(rnd))}) to extension '${fraudNumber(rnd)}' ` +
      `rejected because extension not found in context '${rnd.pick(CONTEXTS_IN)}'.`,
  },
  {
    id: "sip-fake-auth",
    weight: 1,
    trusted: false,
    note: "chan_sip 'Sending fake auth rejection' — only address is in the attacker's From header",
    render: (rnd, addr) =>
      prefix(rnd, "NOTICE", "chan_sip.c", "handle_request_subscribe", null) +
      `${rnd.chance(0.5) ? "handle_request_subscribe: " : ""}Sending fake auth rejection for device ${victimUser(rnd)}<sip:${victimUser(rnd)}@${addr}>;tag=${rnd.hex(8)}`,
  },
  {
    id: "sip-failed-auth-device",
    weight: 1,
    trusted: false,
    note: "chan_sip 'Failed to authenticate device' — only address is in the attacker's From header",
    render: (rnd, addr) =>
      prefix(rnd, "NOTICE", "chan_sip.c", "handle_request_invite", callId(rnd)) +
      `Failed to authenticate device "${victimUser(rnd)}"<sip:${victimUser(rnd)}@${addr}>;tag=${rnd.hex(8)}`,
  },

  // chan_iax2
  {
    id: "iax-failed-auth",
    weight: 2,
    trusted: true,
    v4only: true,
    note: "chan_iax2 Host failed to authenticate",
    render: (rnd, addr) =>
      prefix(rnd, "NOTICE", "chan_iax2.c", "authenticate_request", null) +
      `Host ${addr} failed to authenticate as '${victimUser(rnd)}'`,
  },
  {
    id: "iax-no-registration",
    weight: 1,
    trusted: true,
    v4only: true,
    note: "chan_iax2 No registration for peer",
    render: (rnd, addr) =>
      prefix(rnd, "NOTICE", "chan_iax2.c", "register_verify", null) +
      `No registration for peer '${victimUser(rnd)}' (from ${addr})`,
  },
  {
    id: "iax-md5",
    weight: 1,
    trusted: true,
    v4only: true,
    note: "chan_iax2 failed MD5 authentication",
    render: (rnd, addr) =>
      prefix(rnd, "NOTICE", "chan_iax2.c", "register_verify", null) +
      `Host ${addr} failed MD5 authentication for '${victimUser(rnd)}' (${rnd.hex(32)} != ${rnd.hex(32)})`,
  },

  // res_pjsip (Asterisk 13+): pjsip_distributor.c log_failed_request().
  {
    id: "pjsip-register-no-endpoint",
    weight: 14,
    trusted: true,
    note: "PJSIP REGISTER, No matching endpoint found",
    render: pjsipRequest("REGISTER", "No matching endpoint found"),
  },
  {
    id: "pjsip-register-auth",
    weight: 8,
    trusted: true,
    note: "PJSIP REGISTER, Failed to authenticate",
    render: pjsipRequest("REGISTER", "Failed to authenticate"),
  },
  {
    id: "pjsip-invite-no-endpoint",
    weight: 6,
    trusted: true,
    note: "PJSIP INVITE, No matching endpoint found",
    render: pjsipRequest("INVITE", "No matching endpoint found"),
  },
  {
    id: "pjsip-invite-auth",
    weight: 3,
    trusted: true,
    note: "PJSIP INVITE, Failed to authenticate",
    render: pjsipRequest("INVITE", "Failed to authenticate"),
  },
  {
    id: "pjsip-options-no-endpoint",
    weight: 3,
    trusted: true,
    note: "PJSIP OPTIONS scan, No matching endpoint found",
    render: pjsipRequest("OPTIONS", "No matching endpoint found"),
  },
  {
    id: "pjsip-acl",
    weight: 1,
    trusted: true,
    note: "PJSIP Not match Endpoint ACL",
    render: pjsipRequest("REGISTER", "Not match Endpoint ACL"),
  },
  {
    id: "pjsip-contact-acl",
    weight: 1,
    trusted: true,
    note: "PJSIP Not match Endpoint Contact ACL",
    render: pjsipRequest("INVITE", "Not match Endpoint Contact ACL"),
  },
  {
    id: "pjsip-error-auth",
    weight: 1,
    trusted: true,
    note: "PJSIP Error to authenticate",
    render: pjsipRequest("REGISTER", "Error to authenticate"),
  },
  {
    id: "pjsip-no-method",
    weight: 2,
    trusted: true,
    note: "PJSIP 13 style 'Request from' (no method)",
    render: pjsipRequest("", "No matching endpoint found"),
  },
  {
    id: "pjsip-call-not-found-udp",
    weight: 5,
    trusted: true,
    note: "PJSIP INVITE to unknown extension over UDP",
    render: pjsipCallNotFound("UDP"),
  },
  {
    id: "pjsip-call-not-found-tcp",
    weight: 1,
    trusted: true,
    note: "PJSIP INVITE to unknown extension over TCP",
    render: pjsipCallNotFound("TCP"),
  },
  {
    id: "pjsip-call-not-found-tls",
    weight: 1,
    trusted: true,
    note: "PJSIP INVITE to unknown extension over TLS",
    render: pjsipCallNotFound("TLS"),
  },

  // res_security_log (SECURITY level in logger.conf)
  {
    id: "security-invalid-account",
    weight: 6,
    trusted: true,
    note: "SecurityEvent InvalidAccountID",
    render: securityEvent("InvalidAccountID", "SIP", () => ""),
  },
  {
    id: "security-invalid-account-pjsip",
    weight: 4,
    trusted: true,
    note: "SecurityEvent InvalidAccountID (PJSIP)",
    render: securityEvent("InvalidAccountID", "PJSIP", () => ""),
  },
  {
    id: "security-invalid-password",
    weight: 3,
    trusted: true,
    note: "SecurityEvent InvalidPassword",
    render: securityEvent("InvalidPassword", "SIP", (rnd) => {
      const ch = rnd.hex(8);
      return `,Challenge="${ch}",ReceivedChallenge="${ch}",ReceivedHash="${rnd.hex(32)}"`;
    }),
  },
  {
    id: "security-challenge-failed",
    weight: 3,
    trusted: true,
    note: "SecurityEvent ChallengeResponseFailed (PJSIP)",
    render: securityEvent(
      "ChallengeResponseFailed",
      "PJSIP",
      (rnd) =>
        `,Challenge="${rnd.int(1500000000, 1800000000)}/${rnd.hex(32)}",Response="${rnd.hex(32)}",ExpectedResponse=""`,
    ),
  },
  {
    id: "security-failed-acl",
    weight: 1,
    trusted: true,
    note: "SecurityEvent FailedACL",
    render: securityEvent("FailedACL", "SIP", () => `,ACLName="domain_must_match"`),
  },
  {
    id: "security-ami-failed-acl",
    weight: 1,
    trusted: true,
    note: "SecurityEvent FailedACL for AMI",
    render: securityEvent("FailedACL", "AMI", () => `,SessionTV="1970-01-01T00:00:00.000+0000"`),
  },
  {
    id: "security-ami-invalid-password",
    weight: 1,
    trusted: true,
    note: "SecurityEvent InvalidPassword for AMI",
    render: securityEvent("InvalidPassword", "AMI", () => `,SessionTV="1970-01-01T00:00:00.000+0000"`),
  },

  // manager.c (AMI on 5038)
  {
    id: "ami-nonexistent-user",
    weight: 2,
    trusted: true,
    note: "AMI login with nonexistent user",
    render: (rnd, addr) =>
      prefix(rnd, "NOTICE", "manager.c", "authenticate", null) +
      `${addr} tried to authenticate with nonexistent user '${rnd.pick(AMI_USERS)}'`,
  },
  {
    id: "ami-failed-auth",
    weight: 2,
    trusted: true,
    note: "AMI login failed",
    render: (rnd, addr) =>
      prefix(rnd, "NOTICE", "manager.c", "authenticate", null) +
      `${addr} failed to authenticate as '${rnd.pick(AMI_USERS)}'`,
  },

  // FreePBX dialplan Log(WARNING, ...) in from-sip-external (allowanon=no).
  {
    id: "freepbx-rejecting-unknown",
    weight: 3,
    trusted: true,
    note: "FreePBX Rejecting unknown SIP connection",
    render: (rnd, addr) =>
      `WARNING[${rnd.int(1000, 32000)}][C-${rnd.hex(8)}] Ext. s: "Rejecting unknown SIP connection from ${rnd.chance(0.5) ? addr : hostPort(addr, sipPort(rnd))}"`,
  },
  {
    id: "freepbx-friendly-scanner",
    weight: 1,
    // FreePBX prints the host of the client's own Via header here: not a transport address.
    trusted: false,
    note: "FreePBX Friendly Scanner warning (address from the Via header)",
    render: (rnd, addr) =>
      `WARNING[${rnd.int(1000, 32000)}][C-${rnd.hex(8)}] Ext. ${rnd.chance(0.5) ? "s" : fraudNumber(rnd)}: Friendly Scanner from ${addr}`,
  },
];

// ---------------------------------------------------------------------------------------------------
// Benign traffic: whole episodes (a call, a registration refresh, a qualify round...), rendered as lines

/**
 * @typedef {{ text: string, gapMs: number, failureFrom?: string }} BenignLine  text without the date; gap
 *   before it; `failureFrom` when a legitimate client's line is nevertheless a failure (a mistyped password)
 * @typedef {(rnd: Random, state: { chan: number, call: number }) => BenignLine[]} Episode
 */

/** @param {string} text @param {number} [gapMs] @returns {BenignLine} */
const L = (text, gapMs = 0) => ({ text, gapMs });
/** @param {string} text @param {string} from @returns {BenignLine} */
const failure = (text, from) => ({ text, gapMs: 0, failureFrom: from });
/** @param {Random} rnd */
const lwp = (rnd) => rnd.int(1000, 32000);

/** @type {Episode} */
function internalCall(rnd, st) {
  const [a, b] = [rnd.pick(EXTENSIONS), rnd.pick(EXTENSIONS)];
  const cid = `C-${(st.call++).toString(16).padStart(8, "0")}`;
  const ca = `PJSIP/${a}-${(st.chan++).toString(16).padStart(8, "0")}`;
  const cb = `PJSIP/${b}-${(st.chan++).toString(16).padStart(8, "0")}`;
  const t = lwp(rnd);
  const v = (/** @type {string} */ file, /** @type {string} */ msg, gap = 0) =>
    L(`VERBOSE[${t}][${cid}] ${file}: ${msg}`, gap);
  const bridge = `${rnd.hex(8)}-${rnd.hex(4)}-${rnd.hex(4)}-${rnd.hex(4)}-${rnd.hex(12)}`;
  const lines = [
    v("pbx.c", `-- Executing [${b}@from-internal:1] Macro("${ca}", "exten-vm,novm,${b},0,0,0") in new stack`),
    v("pbx.c", `-- Executing [s@macro-exten-vm:1] Macro("${ca}", "user-callerid,") in new stack`),
    v(
      "pbx.c",
      `-- Executing [s@macro-user-callerid:1] Set("${ca}", "TOUCH_MONITOR=${Math.floor(Date.UTC(2024, 10, 20) / 1000)}.${rnd.int(1, 999)}") in new stack`,
    ),
    v("pbx.c", `-- Executing [s@macro-user-callerid:2] Set("${ca}", "AMPUSER=${a}") in new stack`),
    v("pbx.c", `-- Executing [s@macro-user-callerid:3] Set("${ca}", "CDR(cnum)=${a}") in new stack`),
    v("pbx.c", `-- Executing [s@macro-exten-vm:2] Set("${ca}", "RingGroupMethod=none") in new stack`),
    v("pbx.c", `-- Executing [s@macro-dial-one:1] Set("${ca}", "DEXTEN=${b}") in new stack`),
    v(
      "pbx.c",
      `-- Executing [s@macro-dial-one:9] Dial("${ca}", "PJSIP/${b}/sip:${b}@${PHONE_ADDR.get(b)}:5060,20,HhTtrIb(func-apply-sipheaders^s^1)") in new stack`,
    ),
    v("app_dial.c", `-- Called PJSIP/${b}/sip:${b}@${PHONE_ADDR.get(b)}:5060`, 5),
    v("app_dial.c", `-- ${cb} is ringing`, 40),
  ];
  if (rnd.chance(0.75)) {
    lines.push(
      v("app_dial.c", `-- ${cb} answered ${ca}`, rnd.int(1500, 9000)),
      v("bridge_channel.c", `-- Channel ${cb} joined 'simple_bridge' basic-bridge <${bridge}>`, 2),
      v("bridge_channel.c", `-- Channel ${ca} joined 'simple_bridge' basic-bridge <${bridge}>`, 1),
      L(
        `VERBOSE[${t}][${cid}] res_rtp_asterisk.c: 0x7f${rnd.hex(10)} -- Strict RTP learning after remote address set to: ${PHONE_ADDR.get(a)}:${rnd.int(5000, 5999) * 2}`,
        5,
      ),
      v("bridge_native_rtp.c", `-- Locally RTP bridged '${ca}' and '${cb}' in stack`, 20),
      L(
        `VERBOSE[${t}][${cid}] res_rtp_asterisk.c: 0x7f${rnd.hex(10)} -- Strict RTP switching to RTP target address ${PHONE_ADDR.get(b)}:${rnd.int(5000, 5999) * 2} as source`,
        40,
      ),
      v(
        "bridge_channel.c",
        `-- Channel ${cb} left 'native_rtp' basic-bridge <${bridge}>`,
        rnd.int(10_000, 400_000),
      ),
      v("bridge_channel.c", `-- Channel ${ca} left 'native_rtp' basic-bridge <${bridge}>`, 2),
      v("pbx.c", `== Spawn extension (macro-dial-one, s, 9) exited non-zero on '${ca}' in macro 'dial-one'`),
    );
  } else {
    lines.push(
      v("app_dial.c", `-- Nobody picked up in 20000 ms`, 20_000),
      v("pbx.c", `-- Executing [s@macro-dial-one:10] Set("${ca}", "DIALSTATUS=NOANSWER") in new stack`),
    );
  }
  lines.push(
    v("pbx.c", `-- Executing [h@from-internal:1] Macro("${ca}", "hangupcall,") in new stack`, 1),
    v("pbx.c", `-- Executing [s@macro-hangupcall:1] GotoIf("${ca}", "1?theend") in new stack`),
    v(
      "pbx.c",
      `-- Executing [s@macro-hangupcall:3] ExecIf("${ca}", "0?Set(CDR(recordingfile)=)") in new stack`,
    ),
    v("pbx.c", `-- Executing [s@macro-hangupcall:4] Hangup("${ca}", "") in new stack`),
    v(
      "pbx.c",
      `== Spawn extension (macro-hangupcall, s, 4) exited non-zero on '${ca}' in macro 'hangupcall'`,
    ),
    v("pbx.c", `== Spawn extension (from-internal, h, 1) exited non-zero on '${ca}'`),
  );
  return lines;
}

/** @type {Episode} */
function inboundTrunkCall(rnd, st) {
  const trunk = rnd.pick(TRUNKS);
  const did = `+1555${rnd.digits(7)}`;
  const cid = `C-${(st.call++).toString(16).padStart(8, "0")}`;
  const ch = `PJSIP/trunk-${(st.chan++).toString(16).padStart(8, "0")}`;
  const ext = rnd.pick(EXTENSIONS);
  const t = lwp(rnd);
  const v = (/** @type {string} */ file, /** @type {string} */ msg, gap = 0) =>
    L(`VERBOSE[${t}][${cid}] ${file}: ${msg}`, gap);
  return [
    v("pbx.c", `-- Executing [${did}@from-pstn:1] Set("${ch}", "__DIRECTION=INBOUND") in new stack`),
    v("pbx.c", `-- Executing [${did}@from-pstn:2] Set("${ch}", "__FROM_DID=${did}") in new stack`),
    v("pbx.c", `-- Executing [${did}@from-pstn:3] Set("${ch}", "CDR(did)=${did}") in new stack`),
    v(
      "pbx.c",
      `-- Executing [${did}@from-pstn:4] NoOp("${ch}", "CallerID is 1555${rnd.digits(7)}") in new stack`,
    ),
    v("pbx.c", `-- Executing [${did}@from-pstn:5] Goto("${ch}", "ext-local,${ext},1") in new stack`),
    v("pbx.c", `-- Goto (ext-local,${ext},1)`),
    v("pbx.c", `-- Executing [${ext}@ext-local:1] Dial("${ch}", "PJSIP/${ext},20,tr") in new stack`),
    v("app_dial.c", `-- Called PJSIP/${ext}`, 3),
    v("app_dial.c", `-- PJSIP/${ext}-${(st.chan++).toString(16).padStart(8, "0")} is ringing`, 30),
    L(
      `VERBOSE[${t}][${cid}] res_rtp_asterisk.c: 0x7f${rnd.hex(10)} -- Strict RTP learning after remote address set to: ${trunk}:${rnd.int(10000, 20000)}`,
      2,
    ),
    v("app_dial.c", `-- PJSIP/${ext} answered ${ch}`, rnd.int(2000, 12000)),
    v("bridge_channel.c", `-- Channel ${ch} joined 'simple_bridge' basic-bridge <${rnd.hex(8)}>`, 2),
    v(
      "bridge_channel.c",
      `-- Channel ${ch} left 'simple_bridge' basic-bridge <${rnd.hex(8)}>`,
      rnd.int(20_000, 600_000),
    ),
    v("pbx.c", `== Spawn extension (ext-local, ${ext}, 1) exited non-zero on '${ch}'`),
    v(
      "pbx.c",
      `-- Executing [h@from-pstn:1] Set("${ch}", "CDR(userfield)=billsec=${rnd.int(5, 600)}") in new stack`,
    ),
    v("pbx.c", `-- Executing [h@from-pstn:2] Hangup("${ch}", "") in new stack`),
  ];
}

/** @type {Episode} */
function pjsipRegistration(rnd) {
  const ext = rnd.pick(EXTENSIONS);
  const addr = /** @type {string} */ (PHONE_ADDR.get(ext));
  const port = addr.startsWith("192.168.") ? 5060 : rnd.int(20000, 60000);
  const t = lwp(rnd);
  const session = `${rnd.hex(8)}-${rnd.hex(8)}@${addr}`;
  const sec = (/** @type {string} */ ev, /** @type {string} */ extra) =>
    L(
      `SECURITY[${t}] res_security_log.c: SecurityEvent="${ev}",EventTV="${eventTv(Date.UTC(2024, 10, 20), rnd)}",Severity="Informational",` +
        `Service="PJSIP",EventVersion="1",AccountID="${ext}",SessionID="${session}",LocalAddress="IPV4/UDP/${PBX_V4}/5060",` +
        `RemoteAddress="IPV4/UDP/${addr}/${port}"${extra}`,
    );
  const lines = [
    sec("ChallengeSent", `,Challenge="${rnd.int(1700000000, 1800000000)}/${rnd.hex(32)}"`),
    sec("SuccessfulAuth", `,UsingPassword="1"`),
  ];
  if (rnd.chance(0.3))
    lines.push(
      L(
        `VERBOSE[${t}] res_pjsip_registrar.c: -- Added contact 'sip:${ext}@${addr}:${port};ob' to AOR '${ext}' with expiration of 3600 seconds`,
        1,
      ),
      L(`VERBOSE[${t}] res_pjsip/pjsip_configuration.c: - Endpoint ${ext} is now Reachable`),
    );
  else
    lines.push(
      L(
        `VERBOSE[${t}] res_pjsip_registrar.c: -- Updated contact 'sip:${ext}@${addr}:${port};ob' to AOR '${ext}' with expiration of 3600 seconds`,
        1,
      ),
    );
  return lines;
}

/** @type {Episode} */
function chanSipRegister(rnd) {
  const ext = rnd.pick(EXTENSIONS);
  const addr = PHONE_ADDR.get(ext);
  const t = lwp(rnd);
  return [
    L(
      `VERBOSE[${t}] chan_sip.c: -- Registered SIP '${ext}' at ${addr}:${rnd.chance(0.7) ? 5060 : rnd.int(20000, 60000)}`,
    ),
    L(`NOTICE[${t}] chan_sip.c: Peer '${ext}' is now Reachable. (${rnd.int(2, 90)}ms / 2000ms)`, 30),
  ];
}

/** @type {Episode} */
function qualify(rnd) {
  const ext = rnd.pick(EXTENSIONS);
  const addr = PHONE_ADDR.get(ext);
  const t = lwp(rnd);
  if (rnd.chance(0.05))
    return [
      L(
        `VERBOSE[${t}] res_pjsip/pjsip_options.c: Contact ${ext}/sip:${ext}@${addr}:5060;ob is now Unreachable.  RTT: 0.000 msec`,
      ),
      L(`VERBOSE[${t}] res_pjsip/pjsip_configuration.c: - Endpoint ${ext} is now Unreachable`),
      L(`NOTICE[${t}] chan_sip.c: Peer '${ext}' is now UNREACHABLE!  Last qualify: ${rnd.int(5, 60)}`),
    ];
  return [
    L(
      `VERBOSE[${t}] res_pjsip/pjsip_options.c: Contact ${ext}/sip:${ext}@${addr}:5060;ob is now Reachable.  RTT: ${rnd.int(1, 80)}.${rnd.digits(3)} msec`,
    ),
  ];
}

/** @type {Episode} */
function housekeeping(rnd) {
  const t = lwp(rnd);
  const trunk = rnd.pick(TRUNKS);
  return /** @type {BenignLine[]} */ (
    rnd.pick([
      [
        L(`VERBOSE[${t}] asterisk.c: -- Remote UNIX connection`),
        L(`VERBOSE[${t}] asterisk.c: -- Remote UNIX connection disconnected`, rnd.int(100, 3000)),
      ],
      [
        L(`VERBOSE[${t}] manager.c: == Manager 'freepbxuser' logged on from 127.0.0.1`),
        L(`VERBOSE[${t}] manager.c: == Manager 'freepbxuser' logged off from 127.0.0.1`, rnd.int(50, 2000)),
      ],
      [
        L(
          `VERBOSE[${t}] res_pjsip_outbound_registration.c: -- Outbound registration to 'sip:${trunk}:5060' with client 'sip:pbx@${trunk}:5060' succeeded`,
        ),
      ],
      [
        L(
          `WARNING[${t}] res_pjsip_outbound_registration.c: No response received from 'sip:${trunk}:5060' on registration attempt to 'sip:pbx@${trunk}:5060', retrying in '60'`,
        ),
      ],
      [
        L(
          `WARNING[${t}] chan_sip.c: Retransmission timeout reached on transmission ${rnd.hex(16)}@${PBX_V4}:5060 for seqno 102 (Critical Request) -- See https://wiki.asterisk.org/wiki/display/AST/SIP+Retransmissions`,
        ),
      ],
      [L(`WARNING[${t}] chan_sip.c: Received response: "Forbidden" from '"Trunk" <sip:pbx@${trunk}>'`)],
      [
        L(
          `NOTICE[${t}] chan_sip.c: Failed to authenticate on INVITE to '"${rnd.pick(EXTENSIONS)}" <sip:${rnd.pick(EXTENSIONS)}@${PBX_V4}>;tag=as${rnd.hex(8)}'`,
        ),
      ],
      [L(`VERBOSE[${t}] chan_sip.c: -- Got SIP response 401 "Unauthorized" back from ${trunk}:5060`)],
      [L(`VERBOSE[${t}] logger.c: Asterisk Queue Logger restarted`)],
      [
        L(
          `VERBOSE[${t}] res_musiconhold.c: -- Started music on hold, class 'default', on channel 'PJSIP/${rnd.pick(EXTENSIONS)}-${rnd.hex(8)}'`,
        ),
      ],
      [
        L(
          `DTMF[${t}][C-${rnd.hex(8)}] channel.c: DTMF begin '${rnd.int(0, 9)}' received on PJSIP/${rnd.pick(EXTENSIONS)}-${rnd.hex(8)}`,
        ),
      ],
    ])
  );
}

/**
 * A remote phone (many phones behind one NAT address) mistyping its password: a failure from an address
 * that also registers successfully — the case the registration-aware detector must not ban.
 * @type {Episode}
 */
function phoneTypo(rnd) {
  const ext = rnd.pick(EXTENSIONS.slice(40));
  const addr = /** @type {string} */ (PHONE_ADDR.get(ext));
  return [
    failure(
      prefix(rnd, "NOTICE", "res_pjsip/pjsip_distributor.c", "log_failed_request", null) +
        `Request 'REGISTER' from '"${ext}" <sip:${ext}@${PBX_V4}>' failed for '${addr}:${rnd.int(20000, 60000)}' (callid: ${rnd.hex(24)}) - Failed to authenticate`,
      addr,
    ),
  ];
}

const pickEpisode = weighted(
  /** @type {const} */ ([
    [internalCall, 10],
    [inboundTrunkCall, 6],
    [pjsipRegistration, 30],
    [chanSipRegister, 10],
    [qualify, 30],
    [housekeeping, 12],
    [phoneTypo, 0.3],
  ]),
);

// ---------------------------------------------------------------------------------------------------
// Attack campaigns: an address scanning/guessing in a burst of lines of one family

/**
 * @typedef {object} Campaign
 * @property {string} addr
 * @property {AttackFormat[]} formats the formats this tool produces against this PBX
 * @property {number} left lines still to emit
 */

const pickFormat = weighted(ATTACK_FORMATS.map((f) => /** @type {const} */ ([f, f.weight])));

/** Burst length: most scanners try a handful of times, a few hammer for thousands of lines. */
function burstLength(/** @type {Random} */ rnd) {
  const x = rnd.next();
  if (x < 0.6) return rnd.int(1, 2);
  if (x < 0.92) return rnd.int(3, 12);
  if (x < 0.997) return rnd.int(13, 80);
  return rnd.int(81, 1500);
}

/** @param {Random} rnd @returns {Campaign} */
function newCampaign(rnd) {
  let addr = attackerAddress(rnd);
  const first = pickFormat(rnd);
  const formats = [first];
  // Real tools provoke several related lines (e.g. the pjsip line plus the SECURITY event).
  if (rnd.chance(0.4)) formats.push(pickFormat(rnd));
  if (isV6(addr) && formats.some((f) => f.v4only)) addr = `198.19.${rnd.int(0, 255)}.${rnd.int(1, 254)}`;
  return { addr, formats, left: burstLength(rnd) };
}

// ---------------------------------------------------------------------------------------------------
// Generation

/**
 * @typedef {object} GenerateOptions
 * @property {number} lines
 * @property {number} seed
 * @property {string} out
 * @property {number} attackRatio fraction of lines that are attack lines
 * @property {"default" | "iso" | "iso-ms" | "mixed"} dateFormat `mixed`: the file changes dateformat
 *   (a `logger reload`) every quarter, as happens when an admin follows the fail2ban how-to mid-life
 * @property {number} startMs
 * @property {number} rate mean lines per second
 */

/**
 * 18:00 UTC forty days before `now`: recent enough that year-less dates are read in the dated lines' year.
 * @param {number} now
 */
export function defaultStartMs(now) {
  const day = 86_400_000;
  return Math.floor((now - 40 * day) / day) * day + 18 * 3_600_000;
}

/** @param {GenerateOptions} opts */
export function generate(opts) {
  const rnd = createRandom(opts.seed);
  mkdirSync(dirname(resolve(opts.out)), { recursive: true });
  const fd = openSync(opts.out, "w");
  /** @type {Record<string, number>} */
  const perFormat = Object.fromEntries(ATTACK_FORMATS.map((f) => [f.id, 0]));
  const trustedAddrs = new Set();
  const untrustedAddrs = new Set();
  let benignLines = 0;
  /** Benign-client failure lines (phone typos): in the truth set, not in the attack counts. */
  let phoneTypoLines = 0;
  let attackLines = 0;
  let ms = opts.startMs;
  const meanGap = 1000 / opts.rate;
  const state = { chan: 1, call: 1 };
  /**
   * Benign episodes run concurrently (calls overlap registrations): each has its lines and the time its
   * next line is due. A new episode starts whenever none is due, so the clock keeps the base rate.
   * @type {{ lines: BenignLine[], at: number, due: number }[]}
   */
  const episodes = [];
  /** @type {Campaign[]} */
  const campaigns = Array.from({ length: 6 }, () => newCampaign(rnd));
  const styles = /** @type {const} */ (["default", "iso", "default", "iso"]);
  let buf = [];

  for (let i = 0; i < opts.lines; i++) {
    /** @type {DateStyle} */
    const style =
      opts.dateFormat === "mixed"
        ? (styles[Math.min(3, Math.floor((i * 4) / opts.lines))] ?? "iso")
        : opts.dateFormat;
    let text;
    if (rnd.chance(opts.attackRatio)) {
      const k = rnd.int(0, campaigns.length - 1);
      const c = /** @type {Campaign} */ (campaigns[k]);
      const f = rnd.pick(c.formats);
      // Attack bursts are fast: a scanner sends several requests per second.
      ms += rnd.exp(meanGap * 0.5);
      text = f.render(rnd, c.addr, ms);
      perFormat[f.id] = (perFormat[f.id] ?? 0) + 1;
      (f.trusted ? trustedAddrs : untrustedAddrs).add(c.addr);
      attackLines++;
      if (--c.left <= 0) campaigns[k] = newCampaign(rnd);
    } else {
      ms += rnd.exp(meanGap * 1.2);
      let ep = episodes[0];
      for (const e of episodes) if (e.due < (ep?.due ?? Infinity)) ep = e;
      if (!ep || (ep.due > ms && episodes.length < 256)) {
        ep = { lines: pickEpisode(rnd)(rnd, state), at: 0, due: ms };
        episodes.push(ep);
      }
      ms = Math.max(ms, ep.due);
      const line = /** @type {BenignLine} */ (ep.lines[ep.at++]);
      const next = ep.lines[ep.at];
      if (next) ep.due = ms + next.gapMs;
      else episodes.splice(episodes.indexOf(ep), 1);
      text = line.text;
      benignLines++;
      if (line.failureFrom) {
        phoneTypoLines++;
        trustedAddrs.add(line.failureFrom);
      }
    }
    buf.push(`[${formatAsteriskDate(ms, style)}] ${text}\n`);
    if (buf.length >= 8192) {
      writeSync(fd, buf.join(""));
      buf = [];
    }
  }
  if (buf.length) writeSync(fd, buf.join(""));
  closeSync(fd);

  // Untrusted-format addresses that never appear in a trusted line must not be found by a safe filter.
  const manifest = {
    generator: "bench/generate-asterisk-log.mjs",
    options: { ...opts, start: new Date(opts.startMs).toISOString() },
    lines: opts.lines,
    benignLines,
    attackLines,
    trustedAttackLines: ATTACK_FORMATS.filter((f) => f.trusted).reduce(
      (n, f) => n + (perFormat[f.id] ?? 0),
      0,
    ),
    untrustedAttackLines: ATTACK_FORMATS.filter((f) => !f.trusted).reduce(
      (n, f) => n + (perFormat[f.id] ?? 0),
      0,
    ),
    phoneTypoLines,
    distinctAttackerAddresses: new Set([...trustedAddrs, ...untrustedAddrs]).size,
    distinctTrustedAddresses: trustedAddrs.size,
    distinctTrustedIpv6: [...trustedAddrs].filter(isV6).length,
    endTime: new Date(ms).toISOString(),
    perFormat,
  };
  writeFileSync(`${opts.out}.manifest.json`, JSON.stringify(manifest, null, 2) + "\n");
  writeFileSync(`${opts.out}.truth.txt`, [...trustedAddrs].sort().join("\n") + "\n");
  return manifest;
}

/**
 * A small log with `perFormat` lines of every attack format (IPv4 and, where the format allows, IPv6)
 * plus benign episodes, and a JSON list naming each line's format ("benign" for benign lines).
 * @param {string} out @param {number} perFormat @param {number} seed
 */
export function writeCatalog(out, perFormat, seed) {
  const rnd = createRandom(seed);
  mkdirSync(dirname(resolve(out)), { recursive: true });
  /** @type {{ format: string, address: string | null, trusted: boolean }[]} */
  const labels = [];
  const lines = [];
  let ms = Date.UTC(2024, 10, 20, 12, 0, 0);
  for (const f of ATTACK_FORMATS) {
    for (let i = 0; i < perFormat; i++) {
      let addr = attackerAddress(rnd);
      if (f.v4only || i % 2 === 0) addr = `198.18.${rnd.int(0, 255)}.${rnd.int(1, 254)}`;
      else if (!isV6(addr))
        addr = `2001:db8:${rnd.int(1, 0xffff).toString(16)}::${rnd.int(1, 0xffff).toString(16)}`;
      ms += 1000;
      lines.push(`[${formatAsteriskDate(ms, i % 3 === 0 ? "default" : "iso")}] ${f.render(rnd, addr, ms)}`);
      labels.push({ format: f.id, address: addr, trusted: f.trusted });
    }
  }
  const state = { chan: 1, call: 1 };
  for (const ep of [
    internalCall,
    inboundTrunkCall,
    pjsipRegistration,
    chanSipRegister,
    qualify,
    housekeeping,
  ]) {
    for (let i = 0; i < 4; i++) {
      for (const l of ep(rnd, state)) {
        ms += 1000;
        lines.push(`[${formatAsteriskDate(ms, "iso")}] ${l.text}`);
        labels.push({ format: "benign", address: null, trusted: false });
      }
    }
  }
  writeFileSync(out, lines.join("\n") + "\n");
  writeFileSync(`${out}.json`, JSON.stringify(labels) + "\n");
  return labels;
}

// ---------------------------------------------------------------------------------------------------
// CLI

/** @param {string[]} argv */
function parseArgs(argv) {
  /** @type {Record<string, string>} */
  const a = {};
  for (let i = 0; i < argv.length; i++) {
    const k = /** @type {string} */ (argv[i]);
    if (!k.startsWith("--")) throw new Error(`unexpected argument ${k}`);
    const v = argv[i + 1];
    if (v === undefined || v.startsWith("--")) throw new Error(`${k} needs a value`);
    a[k.slice(2)] = v;
    i++;
  }
  return a;
}

function main() {
  const a = parseArgs(process.argv.slice(2));
  if (a.catalog) {
    const labels = writeCatalog(a.catalog, Number(a["per-format"] ?? 3), Number(a.seed ?? 1));
    process.stdout.write(`wrote ${labels.length} lines to ${a.catalog}\n`);
    return;
  }
  const dateFormat = a["date-format"] ?? "mixed";
  if (!["default", "iso", "iso-ms", "mixed"].includes(dateFormat))
    throw new Error(`bad --date-format ${dateFormat}`);
  /** @type {GenerateOptions} */
  const opts = {
    lines: Number(a.lines ?? 1_000_000),
    seed: Number(a.seed ?? 1),
    out: a.out ?? "bench/out/asterisk-1m.log",
    attackRatio: Number(a["attack-ratio"] ?? 0.3),
    dateFormat: /** @type {GenerateOptions["dateFormat"]} */ (dateFormat),
    startMs: a.start === undefined ? defaultStartMs(Date.now()) : Date.parse(a.start),
    rate: Number(a.rate ?? 60),
  };
  if (!(opts.lines > 0) || !(opts.attackRatio >= 0 && opts.attackRatio <= 1) || Number.isNaN(opts.startMs))
    throw new Error("bad --lines, --attack-ratio or --start");
  const t0 = performance.now();
  const m = generate(opts);
  process.stdout.write(
    `wrote ${m.lines} lines (${m.attackLines} attack, ${m.distinctAttackerAddresses} attacker addresses, ` +
      `${m.distinctTrustedAddresses} in trusted fields) to ${opts.out} in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    main();
  } catch (err) {
    process.stderr.write(`generate-asterisk-log: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  }
}
