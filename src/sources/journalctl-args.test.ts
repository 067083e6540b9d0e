// Tests the journalctl command line: fixed options, start points, and rejection of anything option-like.
import { describe, expect, it } from "vitest";
import { buildJournalctlArgs, validateMatches } from "./journalctl-args.js";

const FIXED = [
  "--follow",
  "--output=json",
  "--no-pager",
  "--all",
  "--output-fields=MESSAGE,SYSLOG_IDENTIFIER,SYSLOG_PID,_PID",
];

describe("buildJournalctlArgs", () => {
  it("starts at the end by default and puts matches after --", () => {
    expect(buildJournalctlArgs(["_SYSTEMD_UNIT=freeswitch.service"], {}, { kind: "end" })).toEqual([
      ...FIXED,
      "--lines=0",
      "--",
      "_SYSTEMD_UNIT=freeswitch.service",
    ]);
  });

  it("resumes after a cursor, or starts at a time or at the beginning, and reads given files", () => {
    const loc = { files: ["/tmp/a.journal", "/tmp/b.journal"], directory: "/var/log/journal" };
    expect(buildJournalctlArgs(["A=1", "+", "B=2"], loc, { kind: "cursor", cursor: "s=1;i=2" })).toEqual([
      ...FIXED,
      "--file=/tmp/a.journal",
      "--file=/tmp/b.journal",
      "--directory=/var/log/journal",
      "--after-cursor=s=1;i=2",
      "--",
      "A=1",
      "+",
      "B=2",
    ]);
    expect(buildJournalctlArgs([], {}, { kind: "since", since: "-1h" }).slice(-2)).toEqual([
      "--since=-1h",
      "--",
    ]);
    expect(buildJournalctlArgs([], {}, { kind: "all" }).slice(-2)).toEqual(["--no-tail", "--"]);
  });

  it("reads once, without --follow, when told (test-filter's systemd-journal)", () => {
    expect(
      buildJournalctlArgs(["A=1"], { files: ["/tmp/a.journal"] }, { kind: "all" }, { follow: false }),
    ).toEqual([...FIXED.slice(1), "--file=/tmp/a.journal", "--no-tail", "--", "A=1"]);
  });

  it("rejects matches that are not FIELD=value", () => {
    for (const bad of ["-f", "--output=cat", "unit=x", "_SYSTEMD_UNIT", "1X=y", "A=b\nc", " A=b", "A B=c"]) {
      expect(() => validateMatches([bad]), bad).toThrow(/invalid journald match/);
    }
    expect(() =>
      validateMatches(["SYSLOG_IDENTIFIER=kamailio", "_PID=1", "+", "MESSAGE=a=b -c"]),
    ).not.toThrow();
  });

  it("rejects control characters in a cursor or path", () => {
    expect(() => buildJournalctlArgs([], {}, { kind: "cursor", cursor: "a\nb" })).toThrow(
      /invalid journald cursor/,
    );
    expect(() => buildJournalctlArgs([], { files: [""] }, { kind: "end" })).toThrow(/invalid journald file/);
  });
});
