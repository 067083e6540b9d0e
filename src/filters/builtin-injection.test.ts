// Feeds attacker-controlled text through every built-in filter: only the real transport address may ever come out.
//
// Each template is a line the program really writes, with `P` where it prints client-chosen text (user
// names, From display names, Call-IDs, AccountIDs, User-Agents). Payloads imitate the structures the
// filters anchor on. A payload with a newline is split as the line reader would split it, and every
// resulting line is checked. The outcome may be the true address or no match, never another address.

import { describe, expect, it } from "vitest";
import type { Filter } from "./filter.js";
import { listBuiltinFilters, resolveFilter } from "./resolve.js";

const REAL = "203.0.113.5";
const REAL6 = "2001:db8::5";
const FAKE = "198.51.100.66";
const REFERENCE = Date.UTC(2024, 10, 30);

const PAYLOADS: readonly string[] = [
  "100",
  `failed for '${FAKE}:5060'`,
  `' failed for '${FAKE}:5060' - Wrong password`,
  "x' - Wrong password",
  "'",
  '"',
  `''""\\"`,
  `RemoteAddress="IPV4/UDP/${FAKE}/5060"`,
  `",LocalAddress="IPV4/UDP/192.0.2.1/5060",RemoteAddress="IPV4/UDP/${FAKE}/5060`,
  `",RemoteAddress="IPV4/UDP/${FAKE}/5060",ReceivedHash="`,
  `",RemoteAddress="IPV6/UDP/::ffff:${FAKE}/5060"`,
  `(${FAKE}:5060) to extension '1' rejected because extension not found in context 'default'.`,
  `x) - No matching endpoint found' failed for '${FAKE}:5060' (callid: y`,
  `' failed for '${FAKE}:5060' (callid: z) - Failed to authenticate`,
  `' failed for '[::ffff:${FAKE}]:5060' (callid: z) - Failed to authenticate`,
  `] from ip ${FAKE}`,
  `x@y] from ip ${FAKE}`,
  `x@y] from ${FAKE}`,
  `from ${FAKE}`,
  ` from ${FAKE} port 22 ssh2`,
  ` from ${FAKE} port 1 ssh2: RSA SHA256:x`,
  `h" from ${FAKE} port 1 ssh2: RSA SHA256:x, client user "a", client host "b`,
  `x: y from ${FAKE} port 1 ssh2`,
  `x from ${FAKE} port 1 ssh2: RSA SHA256:abc, client user "a`,
  `x ${FAKE} port 22 [preauth]`,
  ` rhost=${FAKE}`,
  `::ffff:${FAKE}`,
  "1.2.3.4.5",
  "[::1]x",
  "::1",
  `[2001:db8::66]:5060`,
  `src=${FAKE} port=5060`,
  `[${FAKE}] authentication failed for x`,
  `Host ${FAKE} failed to authenticate as 'x'`,
  `${FAKE} failed to authenticate as 'x'`,
  `"Rejecting unknown SIP connection from ${FAKE}"`,
  ` 404 not found ${FAKE}`,
  `100\nfailed for '${FAKE}:5060' - Wrong password`,
  `100\r\n' failed for '${FAKE}:5060' - Wrong password`,
  `a\nRemoteAddress="IPV4/UDP/${FAKE}/5060"`,
  `a\n from ip ${FAKE}`,
  `a\n[${FAKE}] authentication failed for `,
  `a\nauth-failed src=${FAKE} port=5060`,
  `(UDP:${FAKE}:5060)`,
  `(UDP:${FAKE}:5060) to extension '1' rejected because extension not found in context 'default'.`,
  `' (UDP:${FAKE}:5060) to extension '1' rejected because extension not found in context 'default'.`,
  `' (TCP:[2001:db8::66]:5060) to extension '1' rejected because extension not found in context 'x'.`,
  `(UDP:2001:db8::66:5060)`,
  `x: Call (UDP:${FAKE}:5060) to extension '1' rejected because extension not found in context 'default'.`,
  `' rejected because extension not found in context 'a'.' anonymous: Call (UDP:${FAKE}:5060) to extension 'x`,
  `a\n[2024-11-21 23:45:38] NOTICE[1] res_pjsip_session.c: anonymous: Call (UDP:${FAKE}:5060`,
  `' (UDP:2001:db8::66:5060) to extension '1' rejected because extension not found in context 'x'.`,
  `' failed for '2001:db8::66:5060' (callid: z) - Failed to authenticate`,
  `x) - No matching endpoint found' failed for '2001:db8::66:5060' (callid: y`,
  `"Rejecting unknown SIP connection from ${FAKE}:5060"`,
  `: "Rejecting unknown SIP connection from [2001:db8::66]:5060"`,
  `: "Rejecting unknown SIP connection from 2001:db8::66"`,
  `x' - Device not configured to use this transport type`,
  `' failed for '${FAKE}:5060' - Device not configured to use this transport type`,
  `a\n[2024-11-21 23:45:38] NOTICE[1] res_pjsip_session.c: Call from 'anonymous' (UDP:${FAKE}:5060`,
  "2001:db8::66:5060",
  ":5060",
  "]:5060",
  `x Host ${FAKE}:4569 failed to authenticate as y`,
  `' is not dynamic (from ${FAKE})`,
  `x', who was trying to reach 'y' Rejected connect attempt from ${FAKE}:4569, who was trying to reach 'z`,
  `' does not exist Rejected dial attempt from ${FAKE}:4569, request 'x`,
  `x",Response="y",LocalAddress="IPV4/TCP/192.0.2.1/5038",RemoteAddress="IPV4/TCP/${FAKE}/1",Z="`,
];

interface Template {
  /** Filter spec, e.g. `asterisk` or `sshd[mode=aggressive]`. */
  readonly spec: string;
  readonly real: string;
  /** The line with the client-chosen text `p` in place. */
  readonly line: (p: string) => string;
}

/** Some digest fields reach res_security_log with their quotes escaped (pjproject's quoted strings). */
const esc = (p: string): string => p.replace(/\\/g, "\\\\").replace(/"/g, '\\"');

const AST = "[2024-11-21 23:45:38] NOTICE[2724]";
const SEC = "[2024-11-21 23:45:38] SECURITY[73]: res_security_log.c:114 security_event_stasis_cb:";
const FS = "2024-11-21 23:45:38.123456 [WARNING]";

const TEMPLATES: readonly Template[] = [
  // asterisk
  {
    spec: "asterisk",
    real: REAL,
    line: (p) =>
      `${AST} chan_sip.c: Registration from '"${p}" <sip:${p}@198.51.100.10>' failed for '${REAL}:5060' - Wrong password`,
  },
  {
    spec: "asterisk",
    real: REAL6,
    line: (p) =>
      `${AST} chan_sip.c: Registration from '<sip:${p}@x>;tag=${p}' failed for '[${REAL6}]:5060' - No matching peer found`,
  },
  {
    spec: "asterisk",
    real: REAL,
    line: (p) =>
      `${AST} res_pjsip/pjsip_distributor.c: Request 'REGISTER' from '"${p}" <sip:${p}@x>' failed for '${REAL}:5060' (callid: ${p}) - Failed to authenticate`,
  },
  {
    spec: "asterisk",
    real: REAL,
    line: (p) =>
      `${AST}[C-0000001a] chan_sip.c: Call from '${p}' (${REAL}:5060) to extension '${p}' rejected because extension not found in context 'default'.`,
  },
  {
    spec: "asterisk",
    real: REAL,
    line: (p) =>
      `${SEC} SecurityEvent="InvalidPassword",EventTV="1732232738-1",Severity="Error",Service="SIP",EventVersion="2",AccountID="${p}",SessionID="${p}",LocalAddress="IPV4/UDP/198.51.100.10/5060",RemoteAddress="IPV4/UDP/${REAL}/5084",Challenge="41d26de5",ReceivedChallenge="${esc(p)}",ReceivedHash="${esc(p)}"`,
  },
  {
    spec: "asterisk",
    real: REAL6,
    line: (p) =>
      `${SEC} SecurityEvent="ChallengeResponseFailed",EventTV="2024-11-21T23:45:38.000+0000",Severity="Error",Service="PJSIP",EventVersion="1",AccountID="${p}",SessionID="${p}",LocalAddress="IPV6/UDP/2001:db8::10/5060",RemoteAddress="IPV6/UDP/${REAL6}/5060",Challenge="x",Response="${esc(p)}",ExpectedResponse=""`,
  },
  {
    // AMI's Response is the client's Key header, logged unescaped (res_security_log escapes nothing).
    spec: "asterisk",
    real: REAL,
    line: (p) =>
      `${SEC} SecurityEvent="ChallengeResponseFailed",EventTV="2024-11-21T23:45:38.000+0000",Severity="Error",Service="AMI",EventVersion="1",AccountID="${p}",SessionID="0x7f0000001",LocalAddress="IPV4/TCP/198.51.100.10/5038",RemoteAddress="IPV4/TCP/${REAL}/40001",Challenge="123456789",Response="${p}",ExpectedResponse="0123",SessionTV="2024-11-21T23:45:38.000+0000"`,
  },
  {
    spec: "asterisk",
    real: REAL,
    line: (p) =>
      `${SEC} SecurityEvent="InvalidPassword",EventTV="1732232738-1",Severity="Error",Service="PJSIP",EventVersion="2",AccountID="${p}",SessionID="${p}",LocalAddress="IPV4/UDP/198.51.100.10/5060",RemoteAddress="IPV4/UDP/${REAL}/5084",Challenge="41d26de5",ReceivedChallenge="${p}",ReceivedHash="${p}"`,
  },
  {
    spec: "asterisk",
    real: REAL,
    line: (p) => `${AST} chan_iax2.c: Host ${REAL}:4569 failed to authenticate as ${p}`,
  },
  {
    spec: "asterisk",
    real: REAL6,
    line: (p) =>
      `${AST} chan_iax2.c: Rejected connect attempt from [${REAL6}]:4569, who was trying to reach '${p}@${p}'`,
  },
  {
    spec: "asterisk",
    real: REAL,
    line: (p) =>
      `${AST} chan_iax2.c: Rejected dial attempt from ${REAL}:4569, request '${p}@${p}' does not exist`,
  },
  {
    spec: "asterisk",
    real: REAL,
    line: (p) => `${AST} chan_iax2.c: Peer '${p}' is not dynamic (from ${REAL})`,
  },
  {
    spec: "asterisk",
    real: REAL,
    line: (p) => `${AST} chan_iax2.c: Host ${REAL} did not provide proper plaintext password for '${p}'`,
  },
  {
    spec: "asterisk",
    real: REAL,
    line: (p) =>
      `${SEC} SecurityEvent="SuccessfulAuth",EventTV="2024-11-21T23:45:38.000+0000",Severity="Informational",Service="PJSIP",EventVersion="1",AccountID="${p}",SessionID="${p}",LocalAddress="IPV4/UDP/198.51.100.10/5060",RemoteAddress="IPV4/UDP/${REAL}/5060",UsingPassword="1"`,
  },
  {
    spec: "asterisk",
    real: REAL,
    line: (p) =>
      `${AST}[C-0000001a] res_pjsip_session.c: Call from '${p}' (UDP:${REAL}:5060) to extension '${p}' rejected because extension not found in context 'default'.`,
  },
  {
    spec: "asterisk",
    real: REAL6,
    line: (p) =>
      `${AST}[C-0000001a] res_pjsip_session.c: Call from '${p}' (UDP:${REAL6}:5060) to extension '${p}' rejected because extension not found in context 'default'.`,
  },
  {
    spec: "asterisk",
    real: REAL6,
    line: (p) =>
      `${AST}[C-0000001a] res_pjsip_session.c: Call from '${p}' (TCP:[${REAL6}]:5060) to extension '${p}' rejected because extension not found in context 'default'.`,
  },
  // res_pjsip_session.c since its scope-trace rework: only the extension, after the address, is client text.
  {
    spec: "asterisk",
    real: REAL,
    line: (p) =>
      `${AST} res_pjsip_session.c: anonymous: Call (UDP:${REAL}:31991) to extension '${p}' rejected because extension not found in context 'from-sip-external'.`,
  },
  {
    spec: "asterisk",
    real: REAL6,
    line: (p) =>
      `${AST}[C-0000001a] res_pjsip_session.c:4007 new_invite: anonymous: Call (TCP:[${REAL6}]:5060) to extension '${p}' rejected because extension not found in context 'default'.`,
  },
  {
    spec: "asterisk",
    real: REAL6,
    line: (p) =>
      `${AST} res_pjsip/pjsip_distributor.c: Request 'INVITE' from '"${p}" <sip:${p}@x>' failed for '${REAL6}:5060' (callid: ${p}) - No matching endpoint found after 3 tries in 1.5 ms`,
  },
  {
    spec: "asterisk",
    real: REAL,
    line: (p) =>
      `${AST} chan_sip.c: Registration from '"${p}" <sip:${p}@x>' failed for '${REAL}:5060' - Device not configured to use this transport type`,
  },
  {
    spec: "asterisk",
    real: REAL6,
    line: (p) =>
      `[2024-11-21 23:45:38] WARNING[6756][C-0000001d] Ext. ${p}: "Rejecting unknown SIP connection from [${REAL6}]:5060"`,
  },
  {
    spec: "asterisk",
    real: REAL,
    line: (p) =>
      `Nov 21 23:45:38 pbx asterisk[2350]: WARNING[1195][C-00000b43]: Ext. ${p}:6 in @ from-sip-external: "Rejecting unknown SIP connection from ${REAL}"`,
  },
  { spec: "asterisk", real: REAL, line: (p) => `${AST} manager.c: ${REAL} failed to authenticate as '${p}'` },
  {
    spec: "asterisk",
    real: REAL,
    line: (p) => `${AST} manager.c: ${REAL} tried to authenticate with nonexistent user '${p}'`,
  },
  { spec: "asterisk", real: REAL, line: (p) => `${AST} chan_iax2.c: No registration for peer '${p}' (from ${REAL})` },
  {
    spec: "asterisk",
    real: REAL,
    line: (p) => `[2024-11-21 23:45:38] WARNING[6756][C-0000001d] Ext. ${p}: "Rejecting unknown SIP connection from ${REAL}"`,
  },
  // freeswitch
  {
    spec: "freeswitch",
    real: REAL,
    line: (p) =>
      `${FS} sofia_reg.c:1842 SIP auth failure (REGISTER) on sofia profile 'internal' for [${p}@${p}] from ip ${REAL}`,
  },
  { spec: "freeswitch", real: REAL, line: (p) => `${FS} sofia_reg.c:2531 Can't find user [${p}@example.com] from ${REAL}` },
  {
    spec: "freeswitch[mode=ipdomain]",
    real: REAL,
    line: (p) =>
      `${FS} sofia_reg.c:1792 SIP auth challenge (INVITE) on sofia profile 'internal' for [${p}@198.51.100.10] from ip ${REAL}`,
  },
  // fusionpbx
  { spec: "fusionpbx", real: REAL, line: (p) => `Nov 21 23:45:38 pbx FusionPBX: [${REAL}] authentication failed for ${p}` },
  {
    spec: "fusionpbx",
    real: REAL,
    line: (p) => `Nov 21 23:45:38 pbx FusionPBX: [${REAL}] provision attempt bad password for ${p}`,
  },
  // freepbx
  {
    spec: "freepbx",
    real: REAL,
    line: (p) => `[2024-Nov-21 23:45:38] [freepbx_security.NOTICE]: Authentication failure for ${p} from ${REAL}`,
  },
  // kamailio
  {
    spec: "kamailio",
    real: REAL,
    line: (p) =>
      `Nov 21 23:45:38 sbc kamailio[1234]: NOTICE: <script>: sipwarden: auth-failed src=${REAL} port=5060 proto=udp method=REGISTER code=-2 realm=${p} user=${p}`,
  },
  {
    spec: "kamailio",
    real: REAL6,
    line: (p) =>
      `Nov 21 23:45:38 sbc kamailio[1234]: NOTICE: <script>: sipwarden: register-ok src=${REAL6} port=5060 proto=udp realm=example.com user=${p}`,
  },
  {
    spec: "freeswitch",
    real: REAL,
    line: (p) => `08-03 07:56:53.026292 [WARN] [SOFIA] [sofia_reg.c:4130] Can't find user [${p}@198.51.100.10] from ${REAL}`,
  },
  {
    spec: "freeswitch",
    real: REAL,
    line: (p) =>
      `08-03 07:56:53.026292 [WARN] [SOFIA] [sofia_reg.c:2248] SIP auth failure (INVITE) on sofia profile 'external' for [${p}@x] from ip ${REAL}`,
  },
  // sshd
  {
    spec: "sshd",
    real: REAL,
    line: (p) => `Nov 21 23:45:38 pbx sshd[1234]: Failed password for invalid user ${p} from ${REAL} port 2222 ssh2`,
  },
  { spec: "sshd", real: REAL, line: (p) => `Nov 21 23:45:38 pbx sshd[1234]: Invalid user ${p} from ${REAL} port 2222` },
  {
    spec: "sshd",
    real: REAL6,
    line: (p) => `Nov 21 23:45:38 pbx sshd[1234]: Connection closed by invalid user ${p} ${REAL6} port 2222 [preauth]`,
  },
  {
    spec: "sshd",
    real: REAL,
    line: (p) => `Nov 21 23:45:38 pbx sshd[1234]: Accepted password for ${p} from ${REAL} port 2222 ssh2`,
  },
  {
    spec: "sshd[mode=aggressive]",
    real: REAL,
    line: (p) =>
      `Nov 21 23:45:38 pbx sshd[1234]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=${REAL}  user=${p}`,
  },
  // Hostbased: the client's user and host names follow the key, in quotes.
  {
    spec: "sshd",
    real: REAL,
    line: (p) =>
      `Nov 21 23:45:38 pbx sshd[1234]: Failed hostbased for root from ${REAL} port 2222 ssh2: ED25519 SHA256:Zq3AbCdEf+/x, client user "root", client host "${p}"`,
  },
  {
    spec: "sshd",
    real: REAL,
    line: (p) =>
      `Nov 21 23:45:38 pbx sshd[1234]: Failed hostbased for invalid user ${p} from ${REAL} port 2222 ssh2: ED25519 SHA256:Zq3AbCdEf+/x, client user "${p}", client host "${p}"`,
  },
  {
    spec: "sshd",
    real: REAL,
    line: (p) =>
      `Nov 21 23:45:38 pbx sshd[1234]: Accepted hostbased for root from ${REAL} port 2222 ssh2: ED25519 SHA256:Zq3AbCdEf+/x, client user "${p}", client host "h"`,
  },
  {
    spec: "sshd",
    real: REAL,
    line: (p) =>
      `Nov 21 23:45:38 pbx sshd[1234]: Failed publickey for invalid user ${p} from ${REAL} port 2222 ssh2: RSA SHA256:Zq3AbCdEf+/x`,
  },
  // Older and other OpenSSH forms: the user name before the address, the client's text after it.
  { spec: "sshd", real: REAL, line: (p) => `Nov 21 23:45:38 pbx sshd[1234]: Failed password for invalid user ${p} from ${REAL} port 2222` },
  { spec: "sshd", real: REAL, line: (p) => `Nov 21 23:45:38 pbx sshd[1234]: Invalid user ${p} from ${REAL}` },
  {
    spec: "sshd",
    real: REAL,
    line: (p) => `Nov 21 23:45:38 mac sshd[1234]: error: PAM: authentication error for ${p} from ${REAL} via 192.0.2.1`,
  },
  {
    spec: "sshd",
    real: REAL,
    line: (p) => `Nov 21 23:45:38 pbx sshd[1234]: Received disconnect from ${REAL} port 2222:3: ${p}: Auth fail [preauth]`,
  },
  {
    spec: "sshd[mode=ddos]",
    real: REAL,
    line: (p) => `Nov 21 23:45:38 pbx sshd[1234]: Bad protocol version identification '${p}' from ${REAL} port 2222`,
  },
  {
    spec: "sshd[mode=ddos]",
    real: REAL,
    line: (p) =>
      `Nov 21 23:45:38 pbx sshd[1234]: fatal: Unable to negotiate with ${REAL} port 2222: no matching cipher found. Their offer: ${p}`,
  },
  {
    spec: "sshd[mode=ddos]",
    real: REAL,
    line: (p) => `Nov 21 23:45:38 pbx sshd[1234]: Received disconnect from ${REAL} port 2222:11: ${p} [preauth]`,
  },
];

const filters = new Map<string, Filter>();
function filterFor(spec: string): Filter {
  let f = filters.get(spec);
  if (!f) {
    f = resolveFilter(spec);
    filters.set(spec, f);
  }
  return f;
}

describe("built-in filters resist injected addresses", () => {
  it("covers every built-in filter that reads client text", () => {
    const covered = new Set(TEMPLATES.map((t) => t.spec.replace(/\[.*$/, "")));
    for (const name of listBuiltinFilters()) expect(covered.has(name), `no injection template for ${name}`).toBe(true);
  });

  TEMPLATES.forEach((t, i) => {
    it(`${t.spec} template #${i}: clean line matches, injected lines never yield another address`, () => {
      const filter = filterFor(t.spec);
      const clean = filter.match(t.line("100"), { referenceTime: REFERENCE });
      expect(clean.status, `clean line did not match: ${t.line("100")}`).toBe("matched");
      const leaks: string[] = [];
      for (const payload of PAYLOADS) {
        for (const part of t.line(payload).split(/\r?\n/)) {
          const r = filter.match(part, { referenceTime: REFERENCE });
          if (r.status === "matched" && r.match.address.text !== t.real) {
            leaks.push(`payload ${JSON.stringify(payload)} gave ${r.match.address.text} from ${JSON.stringify(part)}`);
          }
        }
      }
      expect(leaks, leaks.join("\n")).toEqual([]);
    });
  });
});
