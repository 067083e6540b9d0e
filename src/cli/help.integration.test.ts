// `sipwarden --help` as an admin reads it: every command listed once, its summary in one column.
import { describe, expect, it } from "vitest";
import { sipwarden } from "../../test/sipwarden-cli.js";

describe("sipwarden --help", () => {
  it("lists every command with its summary starting in one column", () => {
    const r = sipwarden("--help");
    expect(r.status).toBe(0);
    const rows = r.stdout.split("\n").filter((l) => /^ {2}[a-z]/.test(l));
    const names = rows.map((l) => l.trim().split(/\s+/)[0]);
    expect(names).toEqual(
      expect.arrayContaining(["run", "test-filter", "replay", "explain", "convert-fail2ban"]),
    );
    expect(new Set(names).size).toBe(names.length);
    // Where each summary starts: after the name and at least two spaces, the same for all.
    const starts = rows.map((l) => /^ {2}\S+ {2,}/.exec(l)?.[0].length);
    expect(starts.every((s) => s !== undefined && s === starts[0])).toBe(true);
  });
});
