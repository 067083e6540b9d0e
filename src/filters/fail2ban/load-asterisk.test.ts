// A filter written like stock fail2ban 1.0's asterisk.conf (prefregex, lookahead) loads and matches.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Filter, FilterResult } from "../filter.js";
import { loadFilterFile } from "./load.js";

// Our own fixture in the shape of fail2ban's files: a shared prefix include and a PBX filter that cuts
// the Asterisk head off with prefregex, then matches the message; the security-event regex needs a
// negative lookahead, so it runs on the gated backtracking path.
const COMMON = `[DEFAULT]
_daemon = \\S*
__pid_re = (?:\\[\\d+\\])
__hostname = \\S+
__date_ambit = (?:\\[\\])
__daemon_re = [\\[\\(]?%(_daemon)s(?:\\(\\S+\\))?[\\]\\)]?:?
__daemon_combs_re = (?:%(__pid_re)s?:\\s+%(__daemon_re)s|%(__daemon_re)s%(__pid_re)s?:?)
__prefix_line = %(__date_ambit)s?\\s*(?:%(__hostname)s\\s+)?(?:%(__daemon_combs_re)s\\s+)?
`;

const ASTERISK = `[INCLUDES]
before = common.conf

[Definition]
_daemon = asterisk
__pid_re = (?:\\s*\\[\\d+\\])
log_prefix = (?:NOTICE|SECURITY|WARNING)%(__pid_re)s:?(?:\\[C-[\\da-f]*\\])?:? [^:]+:\\d*(?:(?: in)? [^:]+:)?

prefregex = ^%(__prefix_line)s%(log_prefix)s <F-CONTENT>.+</F-CONTENT>$

failregex = ^Registration from '[^']*' failed for '<HOST>(:\\d+)?' - (?:Wrong password|No matching peer found|Username/auth name mismatch)$
            ^Call from '[^']*' \\((?:(?:TCP|UDP):)?<HOST>:\\d+\\) to extension '[^']*' rejected because extension not found in context
            ^(?:Host )?<HOST> (?:failed (?:to authenticate\\b|MD5 authentication\\b)|tried to authenticate with nonexistent user\\b)
            ^SecurityEvent="(?:FailedACL|InvalidAccountID|ChallengeResponseFailed|InvalidPassword)"(?:(?:,(?!RemoteAddress=)\\w+="[^"]*")*|.*?),RemoteAddress="IPV[46]/[^/"]+/<HOST>/\\d+"(?:,(?!RemoteAddress=)\\w+="[^"]*")*$
            ^Request (?:'[^']*' )?from '(?:[^']*|.*?)' failed for '<HOST>(?::\\d+)?'\\s\\(callid: [^\\)]*\\) - (?:No matching endpoint found|Not match Endpoint(?: Contact)? ACL|(?:Failed|Error) to authenticate)\\s*$

ignoreregex =

datepattern = {^LN-BEG}

journalmatch = _SYSTEMD_UNIT=asterisk.service
`;

const REF = Date.UTC(2024, 10, 30);
let filter: Filter;

let dir = "";
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "sw-f2b-ast-"));
  writeFileSync(join(dir, "common.conf"), COMMON);
  writeFileSync(join(dir, "asterisk.conf"), ASTERISK);
  filter = loadFilterFile(join(dir, "asterisk.conf"));
});

const m = (line: string): FilterResult => filter.match(line, { referenceTime: REF });

describe("stock-style asterisk filter", () => {
  it("matches chan_sip registration failures in file-logger and syslog formats", () => {
    expect(
      m(`[Nov 21 23:45:38] NOTICE[12345] chan_sip.c: Registration from '"100" <sip:100@203.0.113.1>' failed for '198.51.100.7:5060' - Wrong password`),
    ).toEqual({
      status: "matched",
      match: { kind: "failure", regexIndex: 0, address: { family: 4, text: "198.51.100.7" }, time: Date.UTC(2024, 10, 21, 23, 45, 38) },
    });
    expect(
      m(`[2024-11-21 23:45:38.123] NOTICE[2][C-0000001a] chan_sip.c: Registration from '<sip:1@x>' failed for '198.51.100.8' - No matching peer found`),
    ).toMatchObject({ status: "matched", match: { address: { text: "198.51.100.8" }, time: Date.UTC(2024, 10, 21, 23, 45, 38, 123) } });
    expect(
      m(`Nov  1 01:02:03 pbx asterisk[999]: NOTICE[1000]: chan_sip.c:23417 in handle_request_register: Registration from '<sip:1@x>' failed for '198.51.100.9:5060' - Username/auth name mismatch`),
    ).toMatchObject({ status: "matched", match: { address: { text: "198.51.100.9" }, time: Date.UTC(2024, 10, 1, 1, 2, 3) } });
  });

  it("matches pjsip request failures with IPv6 and the `Call from` form", () => {
    expect(
      m(`[2024-11-21 23:45:38] NOTICE[2345] res_pjsip/pjsip_distributor.c: Request 'REGISTER' from '<sip:100@example.com>' failed for '[2001:db8::7]:5062' (callid: abc@1.2.3.4) - No matching endpoint found`),
    ).toMatchObject({ status: "matched", match: { regexIndex: 4, address: { family: 6, text: "2001:db8::7" } } });
    expect(
      m(`[2024-11-21 23:45:38] NOTICE[1] chan_sip.c: Call from '' (198.51.100.10:5070) to extension '011972' rejected because extension not found in context 'public'.`),
    ).toMatchObject({ status: "matched", match: { regexIndex: 1, address: { text: "198.51.100.10" } } });
  });

  it("runs the lookahead security-event regex on the bounded backtracking path", () => {
    const line = `[2024-11-21 23:45:38] SECURITY[3456] res_security_log.c: SecurityEvent="InvalidAccountID",EventTV="2024-11-21T23:45:38.123+0000",Severity="Error",Service="SIP",EventVersion="1",AccountID="100",SessionID="0x7f",LocalAddress="IPV4/UDP/203.0.113.1/5060",RemoteAddress="IPV4/UDP/198.51.100.11/5060"`;
    expect(m(line)).toMatchObject({ status: "matched", match: { regexIndex: 3, address: { text: "198.51.100.11" } } });
    // ChallengeSent is a digest challenge, not a failure.
    expect(m(line.replace("InvalidAccountID", "ChallengeSent")).status).toBe("missed");
  });

  it("rejects host names instead of resolving them, and misses unrelated lines", () => {
    expect(
      m(`[Nov 21 23:45:38] NOTICE[1] chan_sip.c: Registration from '<sip:1@x>' failed for 'evil.example.com:5060' - Wrong password`),
    ).toEqual({ status: "rejected", regexIndex: 0, why: expect.stringMatching(/evil\.example\.com.*host name/) });
    expect(m(`[Nov 21 23:45:38] VERBOSE[1] pbx.c: Executing [s@macro:1] Dial("SIP/100")`).status).toBe("missed");
    expect(filter.journalmatch).toBe("_SYSTEMD_UNIT=asterisk.service");
  });
});
