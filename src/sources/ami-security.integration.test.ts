// The daemon reading Asterisk's security events over AMI (a protocol-level AMI server on loopback): three
// failed authentications from one address ban it, the evidence the security log's line; a wrong secret is
// reported and retried, never crashes the daemon.
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfigText } from "../config/load.js";
import { systemClock } from "../domain/clock.js";
import { startDaemon } from "../daemon/daemon.js";
import { startAmiTestServer } from "../../test/registrations/ami-server.js";
import { waitFor } from "./testing/wait-for.js";

const dir = mkdtempSync(join(tmpdir(), "sw-ami-sec-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function invalidPassword(ip: string, account: string): Record<string, string> {
  return {
    Event: "InvalidPassword",
    Privilege: "security,all",
    EventTV: new Date().toISOString(),
    Severity: "Error",
    Service: "PJSIP",
    EventVersion: "2",
    AccountID: account,
    SessionID: "0x55d2c1a0",
    LocalAddress: "IPV4/UDP/192.0.2.10/5060",
    RemoteAddress: `IPV4/UDP/${ip}/5060`,
    Challenge: "6b1f",
    ReceivedChallenge: "6b1f",
    ReceivedHash: "c0ffee",
  };
}

/** A daemon whose asterisk jail reads the AMI link, and the `full` log too when given. */
async function daemonOn(name: string, port: number, secret: string, full?: string) {
  const config = loadConfigText(
    [
      `state_dir: ${join(dir, name)}`,
      "sources:",
      `  ami: { type: ami, host: 127.0.0.1, port: ${port}, username: sipwarden, secret: ${secret} }`,
      ...(full === undefined ? [] : [`  full: { type: file, path: ${full} }`]),
      "jails:",
      `  asterisk: { filter: asterisk, sources: [ami${full === undefined ? "" : ", full"}], maxretry: 3 }`,
    ].join("\n"),
    `${name}.yaml`,
  );
  const daemon = await startDaemon(
    config,
    { backend: "dry-run" },
    {
      clock: systemClock,
      log: pino({ enabled: false }),
      run: async () => ({ code: 0, stdout: "", stderr: "" }),
    },
  );
  return { daemon };
}

describe("AMI security events as a source", () => {
  it("bans an address after three failed authentications Asterisk reported over AMI", async () => {
    const ami = await startAmiTestServer({
      username: "sipwarden",
      secret: "s3cret",
      contacts: [],
      peers: [],
    });
    const { daemon } = await daemonOn("events", ami.port, "s3cret");
    try {
      await waitFor(() => ami.actions.includes("Login") && ami.connections() > 0, "the AMI login", 10_000);
      // An event of another class, and two failures: no ban yet.
      ami.emit({ Event: "PeerStatus", Peer: "PJSIP/1001", PeerStatus: "Reachable" });
      ami.emit(invalidPassword("203.0.113.77", "1001"));
      ami.emit(invalidPassword("203.0.113.77", '1002",RemoteAddress="IPV4/UDP/198.51.100.66/5060'));
      await waitFor(() => (daemon.sourceStats()[0]?.stats.lines ?? 0) === 2, "two security events", 10_000);
      expect(daemon.store.activeDecisions(Date.now())).toEqual([]);
      ami.emit(invalidPassword("203.0.113.77", "1003"));
      await waitFor(() => daemon.store.activeDecisions(Date.now()).length === 1, "the ban", 10_000);
      const [ban] = daemon.store.activeDecisions(Date.now());
      expect(ban).toMatchObject({ target: "203.0.113.77", origin: "jail:asterisk" });
      expect(ban!.evidence).toHaveLength(3);
      expect(ban!.evidence[0]!.source).toBe(`ami:127.0.0.1:${ami.port}`);
      expect(ban!.evidence[0]!.line).toMatch(
        /^SECURITY\[0\] res_security_log\.c: SecurityEvent="InvalidPassword",EventTV="[^"]+",Severity="Error",Service="PJSIP",EventVersion="2",AccountID="1001",SessionID="0x55d2c1a0",LocalAddress="IPV4\/UDP\/192\.0\.2\.10\/5060",RemoteAddress="IPV4\/UDP\/203\.0\.113\.77\/5060",Challenge="6b1f"/,
      );
      expect((await daemon.backend.listBans()).map((b) => b.target)).toEqual(["203.0.113.77"]);
    } finally {
      await daemon.stop();
      await ami.close();
    }
  });

  it("counts a failure reported as a security event and as chan_pjsip's NOTICE once", async () => {
    const ami = await startAmiTestServer({
      username: "sipwarden",
      secret: "s3cret",
      contacts: [],
      peers: [],
    });
    const full = join(dir, "full");
    writeFileSync(full, "");
    const { daemon } = await daemonOn("both", ami.port, "s3cret", full);
    try {
      await waitFor(() => daemon.sourceStats().some((x) => x.health?.up === true), "the AMI login", 10_000);
      const lines = () => daemon.sourceStats().reduce((n, x) => n + (x.stats.lines ?? 0), 0);
      // Asterisk's full log names no account in this line; the event names 1001: they pair all the same.
      // Asterisk's default date, local time: `Dec  7 19:12:01`.
      const stamp = () => {
        const t = new Date().toString();
        return `${t.slice(4, 7)} ${String(Number(t.slice(8, 10))).padStart(2)} ${t.slice(16, 24)}`;
      };
      for (let i = 0; i < 2; i++) {
        ami.emit(invalidPassword("203.0.113.77", "1001"));
        appendFileSync(
          full,
          `[${stamp()}] NOTICE[2024] res_pjsip/pjsip_distributor.c: Request 'REGISTER' from '<sip:1001@pbx.example>' failed for '203.0.113.77:5060' (callid: c${i}) - Failed to authenticate\n`,
        );
      }
      await waitFor(() => lines() === 4, "four sightings", 10_000);
      expect(daemon.jailCounters().get("asterisk")).toEqual({ failures: 2, bans: 0, echoes: 2 });
      expect(daemon.store.activeDecisions(Date.now())).toEqual([]);
      ami.emit(invalidPassword("203.0.113.77", "1001"));
      await waitFor(() => daemon.store.activeDecisions(Date.now()).length === 1, "the ban", 10_000);
    } finally {
      await daemon.stop();
      await ami.close();
    }
  });

  it("a refused login is counted and waited on before the next try; the daemon keeps running", async () => {
    const ami = await startAmiTestServer({
      username: "sipwarden",
      secret: "s3cret",
      contacts: [],
      peers: [],
    });
    const { daemon } = await daemonOn("refused", ami.port, "wrong-secret");
    try {
      await waitFor(() => (daemon.sourceStats()[0]?.stats.loginFailures ?? 0) >= 1, "the refusal", 10_000);
      await waitFor(() => (daemon.sourceStats()[0]?.stats.errors ?? 0) >= 1, "the wait to try again", 10_000);
      expect(daemon.sourceStats()[0]?.stats).toMatchObject({
        logins: 0,
        loginFailures: 1,
        lines: 0,
        errors: 1,
      });
      expect(ami.actions.filter((a) => a === "Login")).toHaveLength(1);
    } finally {
      await daemon.stop();
      await ami.close();
    }
  });
});
