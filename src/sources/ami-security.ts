// Asterisk's security events over AMI, as the log lines res_security_log writes for them: the failed and
// successful authentications of every channel driver (InvalidAccountID, ChallengeResponseFailed,
// InvalidPassword, FailedACL, SuccessfulAuth, …), read live without a log file. Asterisk logs the security
// channel to no file by default (logger.conf), and a file adds a write and a wake-up before a ban; here
// each event is a line the moment Asterisk emits it, and the built-in asterisk filter reads it as it reads
// the security log (the address from RemoteAddress, which Asterisk writes from the transport).
//
// The AMI user needs `read = security` in manager.conf. The link is kept up as every link source's is
// (link-source.ts); events that come while it is down are not seen.

import { amiTarget, runAmiSession } from "../pbx-link/ami-session.js";
import { createAmiMessage, type AmiMessage } from "../pbx-link/ami-wire.js";
import { tcpConnect } from "../pbx-link/connect.js";
import type { SessionLoopPolicy } from "../pbx-link/session-loop.js";
import { oneLine } from "./event-text.js";
import { createLinkSource, type LinkSourceDeps } from "./link-source.js";
import type { LogSource } from "./log-source.js";

export interface AmiSecurityConfig {
  readonly host: string;
  /** Default 5038. */
  readonly port?: number;
  readonly username: string;
  readonly secret: string;
  readonly connectTimeoutMs?: number;
  readonly actionTimeoutMs?: number;
  readonly reconnect?: Partial<SessionLoopPolicy>;
}

/** The fields res_security_log writes first, in its order (the filters' regexes expect it); then the rest. */
const LEADING = ["EventTV", "Severity", "Service", "EventVersion", "Module", "AccountID", "SessionID"];
const ADDRESSES = ["LocalAddress", "RemoteAddress"];
/**
 * The names of the security events' fields as Asterisk writes them (AMI's keys reach us lower-cased, and
 * the filters match the log's case); another field keeps its key as read.
 */
const NAMES = new Map(
  [
    ...LEADING,
    ...ADDRESSES,
    "SessionTV",
    "ACLName",
    "ExpectedAddress",
    "RequestType",
    "RequestParams",
    "AuthMethod",
    "Challenge",
    "Response",
    "ExpectedResponse",
    "ReceivedChallenge",
    "ReceivedHash",
    "UsingPassword",
    "AttemptedTransport",
  ].map((n) => [n.toLowerCase(), n]),
);
/** AMI's own fields, not the event's. */
const NOT_FIELDS = new Set(["event", "privilege", "actionid"]);
/** A value's longest part kept, and a line's. */
const MAX_VALUE = 512;
const MAX_LINE = 8192;

/**
 * One value as it may stand between the line's quotes: a quote or backslash the attacker put in an account
 * name becomes `'` (so no field can be faked after it), control characters become spaces, and it is cut.
 */
function quoted(value: string): string {
  return `"${oneLine(value.replace(/["\\]/g, "'"), MAX_VALUE)}"`;
}

/**
 * The security log's line for one AMI event, or null when it is not a security event: `SECURITY[0]
 * res_security_log.c: SecurityEvent="…",EventTV="…",…,LocalAddress="…",RemoteAddress="…",<the rest>`.
 */
export function securityEventLine(event: AmiMessage): string | null {
  const name = event.get("Event") ?? "";
  const privilege = (event.get("Privilege") ?? "").toLowerCase().split(",");
  if (!privilege.includes("security") || !/^[A-Za-z]{1,64}$/.test(name)) return null;
  const fields = new Map<string, string>();
  for (const [key, v] of event.fields)
    if (!NOT_FIELDS.has(key) && /^[a-z][a-z0-9_-]{0,63}$/.test(key)) fields.set(NAMES.get(key) ?? key, v);
  const order = [
    ...LEADING.filter((k) => fields.has(k)),
    ...ADDRESSES.filter((k) => fields.has(k)),
    ...[...fields.keys()].filter((k) => !LEADING.includes(k) && !ADDRESSES.includes(k)),
  ];
  const parts = [`SecurityEvent="${name}"`, ...order.map((k) => `${k}=${quoted(fields.get(k) as string)}`)];
  const line = `SECURITY[0] res_security_log.c: ${parts.join(",")}`;
  return line.length > MAX_LINE ? line.slice(0, MAX_LINE) : line;
}

/**
 * Lines this source writes for the failures Asterisk reports most (an unknown account, a wrong password, a
 * failed challenge, an ACL): a jail reading the source with a filter that matches none of them would never
 * ban from it.
 */
export function amiSampleLines(): string[] {
  return ["InvalidAccountID", "InvalidPassword", "ChallengeResponseFailed", "FailedACL"].map(
    (name) =>
      securityEventLine(
        createAmiMessage(
          Object.entries({
            Event: name,
            Privilege: "security,all",
            EventTV: "2026-01-01T00:00:00.000+0000",
            Severity: "Error",
            Service: "PJSIP",
            EventVersion: "1",
            AccountID: "1000",
            SessionID: "0x0",
            LocalAddress: "IPV4/UDP/192.0.2.10/5060",
            RemoteAddress: "IPV4/UDP/192.0.2.77/5060",
          }),
        ),
      ) as string,
  );
}

export function createAmiSecuritySource(config: AmiSecurityConfig, deps: LinkSourceDeps): LogSource {
  const port = config.port ?? 5038;
  // `lines`: security events read; `errors`: sessions that ended (refused, lost, not reached).
  const counters = { connects: 0, logins: 0, loginFailures: 0, lines: 0, errors: 0, dropped: 0 };
  // Only the security class, not every call's events.
  const target = amiTarget(config, port, deps.connect ?? tcpConnect, "security");
  const spec = { id: `ami:${config.host}:${port}`, protocol: "ami", clock: deps.clock, counters };
  return createLinkSource(
    { ...spec, ...(config.reconnect ? { reconnect: config.reconnect } : {}), onEvent: deps.onEvent },
    (signal, { emit, report, loggedIn }) =>
      runAmiSession(target, signal, counters, {
        onEvent: (event) => {
          const text = securityEventLine(event);
          if (text !== null) emit(text);
        },
        onRefused: (message) => report("error", "ami login refused", { response: message }),
        whileUp: () => {
          loggedIn();
          deps.log?.info({ source: spec.id }, "ami security events: connected");
        },
      }),
  );
}
