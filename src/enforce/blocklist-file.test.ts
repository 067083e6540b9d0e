import { describe, expect, it } from "vitest";
import { formatBlocklistProblem, parseBlocklist } from "./blocklist-file.js";
import { loadBlocklists } from "./load-blocklists.js";

describe("blocklist files", () => {
  it("reads VoIPBL's format and plain lists; bad lines are reported with file:line, not fatal", () => {
    const text = [
      "# VoIPBL - www.voipbl.org",
      "1.12.34.0/24",
      "45.134.26.77",
      "  2a0e:1c80::/32   # a whole provider",
      "",
      "not-an-ip",
      "10.0.0.1/33",
      "93.157.62.9/24\r",
    ].join("\n");
    const r = parseBlocklist(text, "/var/lib/sipwarden/voipbl.txt");
    expect(r.entries).toEqual(["1.12.34.0/24", "45.134.26.77", "2a0e:1c80::/32", "93.157.62.0/24"]);
    expect(r.problems.map(formatBlocklistProblem)).toEqual([
      '/var/lib/sipwarden/voipbl.txt:6: not an IPv4/IPv6 address or CIDR: "not-an-ip"',
      '/var/lib/sipwarden/voipbl.txt:7: not an IPv4/IPv6 address or CIDR: "10.0.0.1/33"',
    ]);
  });

  it("an unreadable file leaves its list empty and says so", async () => {
    const r = await loadBlocklists([{ name: "x", file: "/nonexistent/list" }], () =>
      Promise.reject(Object.assign(new Error("no"), { code: "ENOENT" })),
    );
    expect(r.entries.get("x")).toEqual([]);
    expect(formatBlocklistProblem(r.problems[0]!)).toBe(
      "/nonexistent/list: cannot read (ENOENT); list left empty",
    );
  });
});
