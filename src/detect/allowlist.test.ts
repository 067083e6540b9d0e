// Allowlist behaviour over literals, a fake resolver and real temporary files.

import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseIp, type IpAddress } from "../domain/address.js";
import { createManualClock } from "../domain/clock.js";
import { UserError } from "../domain/errors.js";
import { createAllowlist, type AllowlistDeps } from "./allowlist.js";

const ip = (s: string): IpAddress => {
  const a = parseIp(s);
  if (!a) throw new Error(s);
  return a;
};

function fakeDeps(dns: Record<string, string[] | Error> = {}): AllowlistDeps & { warnings: object[] } {
  const warnings: object[] = [];
  return {
    warnings,
    resolve: async (name) => {
      const answer = dns[name];
      if (answer === undefined) throw new Error("ENOTFOUND");
      if (answer instanceof Error) throw answer;
      return answer;
    },
    readFile: (path) => readFile(path, "utf8"),
    clock: createManualClock(1000),
    log: { warn: (facts) => warnings.push(facts) },
  };
}

describe("createAllowlist: literals", () => {
  it("matches IPs and CIDRs of both families, most specific entry first", async () => {
    const list = await createAllowlist(
      ["192.168.0.0/16", "192.168.1.7", "10.0.0.0/8", "2001:db8::/32", "2001:DB8::1"],
      fakeDeps(),
    );
    expect(list.match(ip("192.168.200.1"))).toEqual({
      entry: "192.168.0.0/16",
      via: "cidr",
      detail: "config",
    });
    expect(list.match(ip("192.168.1.7"))).toEqual({ entry: "192.168.1.7", via: "ip", detail: "config" });
    expect(list.match(ip("10.255.255.255"))?.entry).toBe("10.0.0.0/8");
    expect(list.match(ip("11.0.0.0"))).toBeNull();
    expect(list.match(ip("2001:db8:ffff::9"))?.entry).toBe("2001:db8::/32");
    expect(list.match(ip("2001:db8::1"))).toEqual({ entry: "2001:db8::1", via: "ip", detail: "config" });
    expect(list.match(ip("2001:db9::1"))).toBeNull();
    expect(list.match(ip("::ffff:10.1.2.3"))?.entry).toBe("10.0.0.0/8");
  });

  it("handles /0 and clears host bits", async () => {
    const list = await createAllowlist(["0.0.0.0/0", "10.1.2.3/8"], fakeDeps());
    expect(list.match(ip("8.8.8.8"))?.entry).toBe("0.0.0.0/0");
    expect(list.match(ip("10.9.9.9"))?.entry).toBe("10.0.0.0/8");
    expect(list.match(ip("2001:db8::1"))).toBeNull();
  });

  it.each(["1.2.3.999", "10.0.0.0/33", "not a name!", "::1/129", "file:", "-bad-.example.com", "1.2.3"])(
    "rejects %j with SW_ALLOWLIST",
    async (entry) => {
      const err = await createAllowlist([entry], fakeDeps()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UserError);
      expect((err as UserError).code).toBe("SW_ALLOWLIST");
      expect((err as UserError).message).toContain(JSON.stringify(entry));
    },
  );

  it("matches thousands of entries by table lookup", async () => {
    const entries: string[] = [];
    for (let i = 0; i < 5000; i++) entries.push(`172.${16 + (i >> 8)}.${i & 255}.0/24`);
    for (let i = 0; i < 5000; i++) entries.push(`198.18.${(i >> 8) & 255}.${i & 255}`);
    const list = await createAllowlist(entries, fakeDeps());
    expect(list.size()).toBe(10_000);
    expect(list.match(ip("172.20.3.77"))?.entry).toBe("172.20.3.0/24");
    expect(list.match(ip("198.18.19.135"))?.via).toBe("ip");
    expect(list.match(ip("198.19.0.1"))).toBeNull();
  });
});

describe("createAllowlist: DNS names", () => {
  it("resolves at start and on refresh, keeping the last good answer when resolution fails", async () => {
    const dns: Record<string, string[] | Error> = { "office.example.net": ["198.51.100.9", "2001:db8::9"] };
    const deps = fakeDeps(dns);
    const list = await createAllowlist(["office.example.net"], deps);
    expect(list.match(ip("198.51.100.9"))).toEqual({
      entry: "office.example.net",
      via: "dns",
      detail: "resolved 198.51.100.9",
    });
    expect(list.match(ip("2001:db8::9"))?.entry).toBe("office.example.net");

    dns["office.example.net"] = ["198.51.100.10"];
    await list.refresh();
    expect(list.match(ip("198.51.100.9"))).toBeNull();
    expect(list.match(ip("198.51.100.10"))?.entry).toBe("office.example.net");

    dns["office.example.net"] = new Error("SERVFAIL");
    await list.refresh();
    expect(list.match(ip("198.51.100.10"))?.entry).toBe("office.example.net");
    expect(list.problems()).toEqual([
      {
        entry: "office.example.net",
        where: "config",
        message: "cannot resolve: SERVFAIL; kept 1 last good address(es)",
        at: 1000,
      },
    ]);
    expect(deps.warnings).toHaveLength(1);
  });

  it("lists its entries in load order, one per resolved address, the first on a prefix kept", async () => {
    const dns: Record<string, string[] | Error> = { "office.example.net": ["198.51.100.9", "2001:db8::9"] };
    const list = await createAllowlist(["10.0.0.0/8", "office.example.net", "10.1.2.3/8"], fakeDeps(dns));
    const listed = () => list.entries().map((e) => [e.cidr.text, e.match.entry, e.match.detail]);
    expect(listed()).toEqual([
      ["10.0.0.0/8", "10.0.0.0/8", "config"],
      ["198.51.100.9", "office.example.net", "resolved 198.51.100.9"],
      ["2001:db8::9", "office.example.net", "resolved 2001:db8::9"],
    ]);
    expect(list.entries()).toHaveLength(list.size());
    // A refresh swaps the list with the table.
    dns["office.example.net"] = ["198.51.100.10"];
    await list.refresh();
    expect(listed().slice(1)).toEqual([["198.51.100.10", "office.example.net", "resolved 198.51.100.10"]]);
  });

  it("reports a name that never resolved without failing the start", async () => {
    const list = await createAllowlist(["gone.example.net", "10.0.0.1"], fakeDeps());
    expect(list.problems()[0]?.message).toBe("cannot resolve: ENOTFOUND; no last good addresses");
    expect(list.match(ip("10.0.0.1"))).not.toBeNull();
  });

  it("shares one refresh between concurrent callers", async () => {
    let calls = 0;
    const deps = { ...fakeDeps(), resolve: async () => (calls++, ["198.51.100.1"]) };
    const list = await createAllowlist(["a.example.net"], deps);
    await Promise.all([list.refresh(), list.refresh()]);
    expect(calls).toBe(2);
  });
});

describe("createAllowlist: files", () => {
  let dir = "";
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "sipwarden-allowlist-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads entries with comments and blank lines, reporting bad lines by file:line", async () => {
    const path = join(dir, "allow.txt");
    await writeFile(
      path,
      [
        "# office networks",
        "",
        "10.1.0.0/16  # HQ",
        "2001:db8:1::/48",
        "999.1.1.1",
        "pbx.example.net",
        "file:/etc/x",
        "",
      ].join("\n"),
    );
    const list = await createAllowlist([`file:${path}`], fakeDeps({ "pbx.example.net": ["203.0.113.50"] }));
    expect(list.match(ip("10.1.2.3"))).toEqual({ entry: "10.1.0.0/16", via: "file", detail: `${path}:3` });
    expect(list.match(ip("2001:db8:1:2::3"))?.detail).toBe(`${path}:4`);
    expect(list.match(ip("203.0.113.50"))).toEqual({
      entry: "pbx.example.net",
      via: "dns",
      detail: `resolved 203.0.113.50, ${path}:6`,
    });
    expect(list.problems().map((p) => [p.where, p.entry])).toEqual([
      [`${path}:5`, "999.1.1.1"],
      [`${path}:7`, "file:/etc/x"],
    ]);
  });

  it("picks up changes on refresh and keeps the last good contents when the file disappears", async () => {
    const path = join(dir, "changing.txt");
    await writeFile(path, "192.0.2.1\n");
    const list = await createAllowlist([`file:${path}`], fakeDeps());
    await writeFile(path, "192.0.2.2\n");
    await list.refresh();
    expect(list.match(ip("192.0.2.1"))).toBeNull();
    expect(list.match(ip("192.0.2.2"))).not.toBeNull();
    await rm(path);
    await list.refresh();
    expect(list.match(ip("192.0.2.2"))).not.toBeNull();
    expect(list.problems()[0]?.message).toMatch(
      /^cannot read allowlist file: .*ENOENT.*; kept last good contents$/,
    );
  });

  it("refuses to start with a file that cannot be read", async () => {
    const err = await createAllowlist([`file:${join(dir, "missing.txt")}`], fakeDeps()).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).code).toBe("SW_ALLOWLIST");
  });
});
