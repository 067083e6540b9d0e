// FreeSWITCH's failed authentications over the event socket (mod_event_socket, port 8021): sofia fires
// `sofia::register_failure` each time it answers a REGISTER or an INVITE with 403 (a wrong password, an
// unknown user), with the address the request came from (network-ip, from the transport). Each event
// becomes the line sofia_reg.c logs for it when the profile has log-auth-failures=true,
//
//   [WARNING] sofia_reg.c:0 SIP auth failure (REGISTER) on sofia profile 'internal' for [1000@pbx.example] from ip 203.0.113.5
//
// which the built-in freeswitch filter reads (line 0: no source line printed it). So bans need neither that
// profile setting nor a log file, nor the wait for FreeSWITCH to write and sipwarden to wake. The link is
// kept up as every link source's is (link-source.ts); events that come while it is down are not seen.
//
// A digest challenge (401) fires no event: as in the log, a challenge is not a failure.

import { parseIp } from "../domain/address.js";
import { tcpConnect } from "../pbx-link/connect.js";
import { eslTarget, runEslSession } from "../pbx-link/esl-session.js";
import type { SessionLoopPolicy } from "../pbx-link/session-loop.js";
import { oneLine } from "./event-text.js";
import { createLinkSource, type LinkSourceDeps } from "./link-source.js";
import type { LogSource } from "./log-source.js";

export interface EslSecurityConfig {
  readonly host: string;
  /** Default 8021. */
  readonly port?: number;
  readonly password: string;
  readonly connectTimeoutMs?: number;
  readonly commandTimeoutMs?: number;
  readonly reconnect?: Partial<SessionLoopPolicy>;
}

const SUBCLASS = "sofia::register_failure";
const SUBSCRIBE = `event plain CUSTOM ${SUBCLASS}`;
/** The longest user, domain or profile name kept. */
const MAX_FIELD = 256;

/**
 * The log line for one `sofia::register_failure` event; null for another event, and `"no-address"` when
 * its network-ip is not an IP address (such an event is counted, never turned into a line).
 *
 * to-user and to-host are the request's, attacker text: control characters become spaces (no new line can
 * start), and the filter takes the address only from the line's end, where network-ip is written. The
 * profile name is the PBX's; a quote in it would end the profile's quotes, so it is dropped.
 */
export function registerFailureLine(headers: ReadonlyMap<string, string>): string | "no-address" | null {
  if (headers.get("event-subclass") !== SUBCLASS) return null;
  const raw = (headers.get("network-ip") ?? "").trim();
  const ip = parseIp(raw.startsWith("[") && raw.endsWith("]") ? raw.slice(1, -1) : raw);
  if (!ip) return "no-address";
  const type = headers.get("registration-type") === "INVITE" ? "INVITE" : "REGISTER";
  const profile = oneLine((headers.get("profile-name") ?? "").replace(/'/g, ""), MAX_FIELD);
  const user = oneLine(headers.get("to-user") ?? "", MAX_FIELD);
  const host = oneLine(headers.get("to-host") ?? "", MAX_FIELD);
  return (
    `[WARNING] sofia_reg.c:0 SIP auth failure (${type}) on sofia profile '${profile}' ` +
    `for [${user}@${host}] from ip ${ip.text}`
  );
}

/**
 * Lines this source writes (a REGISTER's failure, an INVITE's): a jail reading the source with a filter that
 * matches neither would never ban from it.
 */
export function eslSampleLines(): string[] {
  return ["REGISTER", "INVITE"].map(
    (type) =>
      registerFailureLine(
        new Map([
          ["event-subclass", SUBCLASS],
          ["profile-name", "internal"],
          ["to-user", "1000"],
          ["to-host", "pbx.example"],
          ["network-ip", "192.0.2.77"],
          ["registration-type", type],
        ]),
      ) as string,
  );
}

export function createEslSecuritySource(config: EslSecurityConfig, deps: LinkSourceDeps): LogSource {
  const target = eslTarget(config, deps.connect ?? tcpConnect, SUBSCRIBE);
  // `lines`: failures read; `unaddressed`: events without a usable network-ip; `errors`: sessions that
  // ended (refused, lost, not reached).
  const counters = { connects: 0, logins: 0, authFailures: 0, lines: 0, unaddressed: 0, errors: 0 };
  const spec = { id: `esl:${config.host}:${target.port}`, protocol: "esl", clock: deps.clock, counters };
  return createLinkSource(
    { ...spec, ...(config.reconnect ? { reconnect: config.reconnect } : {}), onEvent: deps.onEvent },
    (signal, { emit, report, loggedIn }) =>
      runEslSession(target, signal, counters, {
        onEvent: (headers) => {
          const text = registerFailureLine(headers);
          if (text === "no-address") counters.unaddressed++;
          else if (text !== null) emit(text);
        },
        onRefused: (what, reply) =>
          what === "auth"
            ? report("error", "esl auth refused", { reply })
            : report("warning", "esl event subscription refused", { reply }),
        whileUp: () => {
          counters.logins++;
          loggedIn();
          deps.log?.info({ source: spec.id }, "esl auth failures: connected");
        },
      }),
  );
}
