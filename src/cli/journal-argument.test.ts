// test-filter's `systemd-journal[...]` argument: told from a file, its options, its matches.
import { describe, expect, it } from "vitest";
import { journalLocation, journalMatches, namesJournal } from "./journal-argument.js";

describe("systemd-journal as test-filter's log", () => {
  it("is told from files by its exact name, with or without options", () => {
    expect(namesJournal("systemd-journal")).toBe(true);
    expect(namesJournal("systemd-journal[journalpath=/var/log/journal]")).toBe(true);
    expect(namesJournal("./systemd-journal")).toBe(false);
    expect(namesJournal("systemd-journal.log")).toBe(false);
    expect(namesJournal("systemd-journal[")).toBe(false);
  });

  it("reads journalpath and journalfiles (blank- or comma-separated), and refuses other options", () => {
    expect(journalLocation("systemd-journal")).toEqual({});
    expect(journalLocation("systemd-journal[journalpath=/srv/journal]")).toEqual({
      directory: "/srv/journal",
    });
    expect(journalLocation('systemd-journal[journalfiles="/a.journal /b.journal,/c.journal"]')).toEqual({
      files: ["/a.journal", "/b.journal", "/c.journal"],
    });
    expect(() => journalLocation("systemd-journal[journalflags=1]")).toThrow(
      /takes journalpath=DIR or journalfiles=FILE\.\.\., not "journalflags"/,
    );
    expect(() => journalLocation("systemd-journal[=x]")).toThrow(/cannot read the options/);
  });

  it("splits a journalmatch into journalctl's matches, + kept", () => {
    expect(journalMatches("_SYSTEMD_UNIT=ssh.service + _COMM=sshd")).toEqual([
      "_SYSTEMD_UNIT=ssh.service",
      "+",
      "_COMM=sshd",
    ]);
    expect(journalMatches("  ")).toEqual([]);
    expect(journalMatches(undefined)).toEqual([]);
  });
});
