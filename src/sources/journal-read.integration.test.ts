// The journal read once, by real journalctl over a journal file built with systemd-journal-remote: what
// `sipwarden test-filter systemd-journal …` reads (test/cli/test-filter-journal.test.ts: what it makes of it).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { userErrorText } from "../domain/testing/user-error-text.js";
import { readJournal, type JournalLine } from "./journal-read.js";
import { pbxJournalEntries, requireJournalRemote, timeOf, writeJournal } from "./testing/journal-export.js";

const dir = mkdtempSync(join(tmpdir(), "sw-journal-read-"));
const journal = join(dir, "pbx.journal");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(() => {
  requireJournalRemote();
  writeJournal(journal, pbxJournalEntries());
});

async function all(lines: AsyncIterable<JournalLine>): Promise<JournalLine[]> {
  const out: JournalLine[] = [];
  for await (const l of lines) out.push(l);
  return out;
}

describe("readJournal", () => {
  it("yields the matching entries' messages with their syslog tags and times, then ends", async () => {
    const ssh = await all(
      readJournal({ matches: ["_SYSTEMD_UNIT=ssh.service"], files: [journal], maxLineBytes: 16_384 }),
    );
    expect(ssh).toEqual([
      {
        text: "sshd[812]: Failed password for invalid user admin from 192.0.2.1 port 4001 ssh2",
        time: timeOf(1),
      },
      {
        text: "sshd[812]: Accepted publickey for ops from 192.0.2.50 port 4002 ssh2: ED25519 SHA256:abc",
        time: timeOf(2),
      },
      { text: "sshd[812]: Failed password for root from 2001:db8::4 port 4004 ssh2", time: timeOf(4) },
    ]);
    expect(await all(readJournal({ matches: [], files: [journal], maxLineBytes: 16_384 }))).toHaveLength(5);
    // Messages are cut as the daemon's source cuts them.
    const cut = await all(readJournal({ matches: ["_COMM=cron"], files: [journal], maxLineBytes: 20 }));
    expect(cut).toEqual([{ text: "Failed password for ", time: timeOf(3) }]);
  });

  it("stops journalctl when the reader stops early", async () => {
    for await (const l of readJournal({ matches: [], files: [journal], maxLineBytes: 16_384 })) {
      expect(l.time).toBe(timeOf(1));
      break;
    }
  });

  it("says why when journalctl fails or cannot be run", async () => {
    const missing = join(dir, "missing.journal");
    expect(
      await userErrorText(all(readJournal({ matches: [], files: [missing], maxLineBytes: 100 }))),
    ).toMatch(/^journalctl ended with status 1: .*No such file or directory \[SW_SOURCE\]$/);
    expect(
      await userErrorText(
        all(
          readJournal({
            matches: [],
            files: [journal],
            maxLineBytes: 100,
            journalctl: join(dir, "no-journalctl"),
          }),
        ),
      ),
    ).toMatch(/^cannot run .*no-journalctl: ENOENT \[SW_SOURCE\]$/);
  });
});
