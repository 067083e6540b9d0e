// Golden and structural tests of the pure nft renderer; UPDATE_GOLDEN=1 rewrites testdata/*.nft.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  countriesPolicy,
  freepbxPolicy,
  labPolicy,
  minimalPolicy,
} from "../../../test/enforce/policy-fixtures.js";
import { isEnforceError } from "../errors.js";
import type { FirewallPolicy } from "../policy.js";
import type { CarriedState } from "./render.js";
import { nftDuration, renderNftBanBatch, renderNftScript, renderNftUnbanBatch } from "./render.js";

const TESTDATA = join(dirname(fileURLToPath(import.meta.url)), "testdata");

const GOLDEN: readonly { name: string; policy: FirewallPolicy; state?: CarriedState }[] = [
  { name: "freepbx", policy: freepbxPolicy() },
  { name: "minimal", policy: minimalPolicy() },
  { name: "lab", policy: labPolicy() },
  { name: "countries", policy: countriesPolicy() },
  {
    name: "carried-bans",
    policy: minimalPolicy(),
    state: {
      elements: [
        { set: "ban4", address: "192.0.2.1", timeoutMs: 90_500 },
        { set: "ban4", address: "192.0.2.2", timeoutMs: null },
        { set: "ban6", address: "2001:db8::1", timeoutMs: 86_400_000 },
      ],
    },
  },
];

describe("renderNftScript golden files", () => {
  for (const g of GOLDEN) {
    it(`renders ${g.name}.nft`, () => {
      const got = renderNftScript(g.policy, g.state);
      const file = join(TESTDATA, `${g.name}.nft`);
      if (process.env.UPDATE_GOLDEN === "1") writeFileSync(file, got);
      expect(got).toBe(readFileSync(file, "utf8"));
    });
  }
});

describe("renderNftScript structure", () => {
  const script = renderNftScript(freepbxPolicy());
  const lines = script.split("\n").map((l) => l.trim());
  const at = (needle: string): number => lines.findIndex((l) => l.startsWith(needle));

  it("replaces only its own table, in one script", () => {
    expect(lines.slice(2, 5)).toEqual([
      "table inet sipwarden {}",
      "delete table inet sipwarden",
      "table inet sipwarden {",
    ]);
    expect(script).not.toMatch(/flush ruleset|table (ip|ip6|inet) (?!sipwarden)/);
  });

  it("checks allowlists before bans, at raw priority, and bans before the filter chain", () => {
    expect(lines).toContain("type filter hook prerouting priority raw; policy accept;");
    expect(at("ip saddr @allow4 return")).toBeLessThan(at("ip saddr @ban4 drop"));
    expect(at("ip6 saddr @allow6 return")).toBeLessThan(at("ip6 saddr @ban6 drop"));
    expect(at("ip saddr @ban4 drop")).toBeLessThan(at("chain input"));
    expect(lines).toContain("meta l4proto { tcp, udp } th dport 5060-5061 ip saddr @sipban4 drop");
  });

  it("drops invalid state before accepting established, and keeps neighbour discovery working", () => {
    expect(at("icmpv6 type { nd-router-solicit")).toBeLessThan(at("ct state invalid drop"));
    expect(at("ct state invalid drop")).toBeLessThan(at("ct state established,related accept"));
    expect(at("udp length <= 8 drop")).toBeLessThan(at("ct state established,related accept"));
    expect(lines).toContain("type filter hook input priority filter; policy drop;");
  });

  it("collapses overlapping CIDRs, which an interval set would refuse", () => {
    expect(script).toContain("45.134.26.0/24,");
    expect(script).not.toContain("45.134.26.77");
    expect(script).not.toMatch(/\t192\.168\.1\.0\/25/);
  });

  it("refuses an invalid policy with the path of every problem", () => {
    const bad: FirewallPolicy = { ...minimalPolicy(), allowlist: ["10.0.0.1/8", "evil; flush ruleset"] };
    try {
      renderNftScript(bad);
      expect.fail("should throw");
    } catch (e) {
      expect(isEnforceError(e) && e.code).toBe("SW_ENFORCE_POLICY");
      expect((e as Error).message).toContain("allowlist[0]");
      expect((e as Error).message).toContain("allowlist[1]");
    }
  });
});

describe("ban batches", () => {
  it("re-adds so the last timeout wins and never fails on a missing member", () => {
    expect(renderNftBanBatch([{ set: "ban4", address: "192.0.2.1", timeoutMs: 1500 }])).toBe(
      [
        "add element inet sipwarden ban4 { 192.0.2.1 }",
        "delete element inet sipwarden ban4 { 192.0.2.1 }",
        "add element inet sipwarden ban4 { 192.0.2.1 timeout 1s500ms }",
        "",
      ].join("\n"),
    );
    expect(renderNftUnbanBatch([{ set: "ban6", address: "2001:db8::1" }])).toBe(
      "add element inet sipwarden ban6 { 2001:db8::1 }\ndelete element inet sipwarden ban6 { 2001:db8::1 }\n",
    );
    expect(renderNftBanBatch([])).toBe("");
  });

  it("formats durations exactly", () => {
    expect(nftDuration(259_200_000)).toBe("3d");
    expect(nftDuration(3_723_004)).toBe("1h2m3s4ms");
    expect(nftDuration(0)).toBe("1ms");
  });
});

describe("WAN bogons and the SYN rate", () => {
  it("drops bogons only on the WAN interfaces, after the allowlist returns", () => {
    const lines = renderNftScript(freepbxPolicy())
      .split("\n")
      .map((l) => l.trim());
    const allow = lines.indexOf("ip saddr @allow4 return");
    const bogon = lines.indexOf('iifname { "eth0" } ip saddr @bogons4 drop');
    expect(allow).toBeGreaterThan(0);
    expect(bogon).toBeGreaterThan(allow);
    expect(lines).toContain('iifname { "eth0" } ip6 saddr @bogons6 drop');
    // No all-interface bogon drop is left.
    expect(lines.filter((l) => l.includes("@bogons4"))).toHaveLength(1);
  });

  it("renders no bogon set without WAN interfaces, and refuses an injectable interface name", () => {
    const p = freepbxPolicy();
    expect(renderNftScript({ ...p, wan: { interfaces: ["eth0"], bogons: false } })).not.toContain("bogons");
    for (const bad of ['eth0" } accept #', "-j", "eth+", "a".repeat(16), "eth 0", ""])
      expect(() => renderNftScript({ ...p, wan: { interfaces: [bad], bogons: true } })).toThrow(
        /wan.interfaces/,
      );
    expect(() => renderNftScript({ ...p, wan: { interfaces: [], bogons: true } })).toThrow(/wan.bogons/);
  });

  it("limits plain SYNs per source across every port in the screen chain, trap first", () => {
    const script = renderNftScript(labPolicy());
    const screen = script.slice(script.indexOf("chain screen"));
    const syn = screen.indexOf(
      "update @synrate4 { ip saddr limit rate over 50/second burst 100 packets } drop",
    );
    expect(syn).toBeGreaterThan(screen.indexOf("update @trap4"));
    expect(syn).toBeLessThan(screen.indexOf("update @siprate4"));
    expect(screen).not.toMatch(/synrate4[^\n]*dport/);
    const off = labPolicy();
    expect(
      renderNftScript({ ...off, protections: { ...off.protections, synRateLimit: null } }),
    ).not.toContain("synrate");
  });
});
