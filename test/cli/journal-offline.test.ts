// `sipwarden test-filter systemd-journal …` (as fail2ban-regex reads the journal) and `sipwarden replay
// systemd-journal`: real journalctl over journal files built with systemd-journal-remote.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { replayCommand } from "../../src/cli/commands/replay.js";
import { testFilterCommand } from "../../src/cli/commands/test-filter.js";
import { createRecordingIo } from "../../src/cli/test-io.js";
import { userErrorText } from "../../src/domain/testing/user-error-text.js";
import {
  exportEntry,
  pbxJournalEntries,
  requireJournalRemote,
  writeJournal,
} from "../../src/sources/testing/journal-export.js";

const dir = mkdtempSync(join(tmpdir(), "sw-tf-journal-"));
const journal = join(dir, "pbx.journal");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(() => {
  requireJournalRemote();
  writeJournal(journal, pbxJournalEntries());
});

describe("test-filter systemd-journal (as fail2ban-regex reads the journal)", () => {
  const arg = `systemd-journal[journalfiles=${journal}]`;

  it("reads the entries the filter's journalmatch names, dated by the journal", async () => {
    const io = createRecordingIo();
    expect(await testFilterCommand([arg, "sshd", "--json"], io)).toBe(0);
    expect(JSON.parse(io.out())).toMatchObject({
      filter: "sshd",
      file: arg,
      lines: 3,
      matched: 3,
      missed: 0,
      matches: [
        { line: 1, address: "192.0.2.1", time: "2023-11-14T22:13:21.000Z", user: "admin", kind: "failure" },
        { line: 2, address: "192.0.2.50", time: "2023-11-14T22:13:22.000Z", user: "ops", kind: "success" },
        { line: 3, address: "2001:db8::4", time: "2023-11-14T22:13:24.000Z", user: "root", kind: "failure" },
      ],
    });
    const since = createRecordingIo();
    expect(await testFilterCommand([arg, "sshd", "--json", "--since", "@1700000004"], since)).toBe(0);
    expect(JSON.parse(since.out())).toMatchObject({
      lines: 1,
      matches: [{ line: 1, address: "2001:db8::4" }],
    });
    const text = createRecordingIo();
    expect(await testFilterCommand([arg, "sshd"], text)).toBe(0);
    expect(text.out()).toContain(
      `Use log file : ${arg} (journal match _SYSTEMD_UNIT=ssh.service + _COMM=sshd + _COMM=sshd-session + _COMM=sshd-auth)\n`,
    );
    expect(text.out()).toMatch(/^Lines: 3 lines, 0 ignored, 3 matched, 0 missed$/m);
  });

  it("takes --journalmatch; a FreeSWITCH line counts at its entry's time, as in the daemon", async () => {
    const io = createRecordingIo();
    expect(
      await testFilterCommand(
        [arg, "freeswitch", "--json", "--journalmatch", "SYSLOG_IDENTIFIER=freeswitch"],
        io,
      ),
    ).toBe(0);
    expect(JSON.parse(io.out())).toMatchObject({
      lines: 1,
      matches: [{ line: 1, address: "203.0.113.5", time: "2023-11-14T22:13:25.000Z" }],
    });
    // An entry without a syslog tag: its message as it is.
    const cron = createRecordingIo();
    expect(
      await testFilterCommand([arg, "sshd", "--journalmatch", "_COMM=cron", "--print-matched"], cron),
    ).toBe(0);
    expect(cron.out().split("\n")[0]).toBe("1: Failed password for root from 198.51.100.3 port 1 ssh2");
    expect(
      await userErrorText(
        testFilterCommand([arg, "sshd", "--journalmatch", "not a match"], createRecordingIo()),
      ),
    ).toMatch(/invalid journald match "not".*\[SW_SOURCE\]$/);
    expect(
      await userErrorText(testFilterCommand(["systemd-journal[flags=1]", "sshd"], createRecordingIo())),
    ).toBe('systemd-journal takes journalpath=DIR or journalfiles=FILE..., not "flags" [SW_USAGE]');
    expect(
      await userErrorText(
        testFilterCommand([journal, "sshd", "--journalmatch", "_COMM=sshd"], createRecordingIo()),
      ),
    ).toMatch(/--journalmatch and --since are for systemd-journal/);
  });
});

describe("replay systemd-journal", () => {
  const attacks = join(dir, "attacks.journal");
  const arg = `systemd-journal[journalfiles=${attacks}]`;
  beforeAll(() => {
    const entries: Buffer[] = [];
    for (let i = 0; i < 5; i++) {
      entries.push(
        exportEntry(10 + 3 * i, {
          SYSLOG_IDENTIFIER: "sshd",
          SYSLOG_PID: "812",
          MESSAGE: `Failed password for invalid user u${i} from 192.0.2.20 port ${4000 + i} ssh2`,
        }),
        exportEntry(11 + 3 * i, {
          SYSLOG_IDENTIFIER: "FusionPBX",
          SYSLOG_PID: "77",
          MESSAGE: `[198.51.100.41] authentication failed for admin${i}`,
        }),
        // No source of the preset names cron (nor would the sshd filter read "cron: Failed password …").
        exportEntry(12 + 3 * i, {
          SYSLOG_IDENTIFIER: "cron",
          _COMM: "cron",
          MESSAGE: `Failed password for root from 203.0.113.99 port ${5000 + i} ssh2`,
        }),
      );
    }
    writeJournal(attacks, entries);
  });

  const brief = (d: { action: string; target: string; origin: string; at: string }): string =>
    [d.action, d.target, d.origin, d.at].join(" ");

  it("reads the entries the config's journald sources name, each at its entry's time", async () => {
    const io = createRecordingIo();
    expect(await replayCommand([arg, "--preset", "fusionpbx", "--json"], io)).toBe(0);
    const r = JSON.parse(io.out());
    expect(r.files).toEqual([arg]);
    expect(r.decisions.map(brief)).toEqual([
      "ban 192.0.2.20 jail:sshd 2023-11-14T22:13:42Z",
      "ban 198.51.100.41 jail:fusionpbx 2023-11-14T22:13:43Z",
    ]);
    expect(r.decisions[0].evidence[0]).toEqual({
      time: "2023-11-14T22:13:30Z",
      source: arg,
      lineNo: 1,
      line: "sshd[812]: Failed password for invalid user u0 from 192.0.2.20 port 4000 ssh2",
    });
    expect(r.stats).toMatchObject({ lines: 10, offenses: 10, bans: 2 });
    const text = createRecordingIo();
    expect(await replayCommand([arg, "--preset", "fusionpbx"], text)).toBe(0);
    expect(text.out().split("\n")[0]).toBe(
      `# preset fusionpbx; jails: sshd, freeswitch, fusionpbx, fusionpbx-404; journal: ${arg} (journal match SYSLOG_IDENTIFIER=sshd SYSLOG_IDENTIFIER=sshd-session SYSLOG_IDENTIFIER=sshd-auth + SYSLOG_IDENTIFIER=FusionPBX)`,
    );
  });

  it("takes --journalmatch instead (only sshd here: no FusionPBX ban), and is replayed alone", async () => {
    const io = createRecordingIo();
    expect(
      await replayCommand(
        [arg, "--preset", "fusionpbx", "--journalmatch", "SYSLOG_IDENTIFIER=sshd", "--json"],
        io,
      ),
    ).toBe(0);
    expect(JSON.parse(io.out()).decisions.map(brief)).toEqual([
      "ban 192.0.2.20 jail:sshd 2023-11-14T22:13:42Z",
    ]);
    // --since: the sshd failures from u2 on (entries 16, 19, 22 of 10-24) are too few to ban.
    const since = createRecordingIo();
    expect(
      await replayCommand([arg, "--preset", "fusionpbx", "--since", "@1700000016", "--json"], since),
    ).toBe(0);
    const s = JSON.parse(since.out());
    expect(s.stats).toMatchObject({ lines: 6, offenses: 6, bans: 0 });
    expect(s.decisions).toEqual([]);
    const log = join(dir, "some.log");
    writeFileSync(log, "nothing\n");
    expect(await userErrorText(replayCommand([arg, log, "--preset", "fusionpbx"], createRecordingIo()))).toBe(
      "replay: systemd-journal is replayed on its own, without files [SW_USAGE]",
    );
    expect(
      await userErrorText(
        replayCommand([log, "--journalmatch", "_COMM=cron", "--preset", "fusionpbx"], createRecordingIo()),
      ),
    ).toMatch(/--journalmatch and --since are for systemd-journal/);
  });
});
