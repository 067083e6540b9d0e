// Each named rule of checkPolicy fires on the input it guards against, with a path into the IR.
import { expect, it } from "vitest";
import { freepbxPolicy, labPolicy, minimalPolicy } from "../../test/enforce/policy-fixtures.js";
import type { FirewallPolicy } from "./policy.js";
import { mergePortRanges, sameScope, sipBanScope } from "./policy.js";
import { checkPolicy } from "./policy-check.js";

const paths = (p: FirewallPolicy): string[] => checkPolicy(p).map((x) => x.path);

it("accepts the fixture policies", () => {
  expect(checkPolicy(freepbxPolicy())).toEqual([]);
  expect(checkPolicy(minimalPolicy())).toEqual([]);
  expect(checkPolicy(labPolicy())).toEqual([]);
});

it("names the broken parts", () => {
  const p = minimalPolicy();
  const bad: FirewallPolicy = {
    ...p,
    families: [],
    services: [
      ...p.services,
      { name: "Bad Name", ports: [{ protocol: "udp", ports: [{ from: 0, to: 70000 }] }] },
    ],
    zones: [
      { name: "trunk", kind: "host", sources: ["10.0.0.0/8"], services: ["ssh"] },
      { name: "lan", kind: "network", sources: ["10.0.0.1/8"], services: ["nope"] },
    ],
    banSets: [
      { name: "ban", scope: { kind: "all" } },
      { name: "allow", scope: { kind: "all" } },
    ],
    blocklists: [{ name: "ban", scope: { kind: "all" }, entries: ["x"] }],
  };
  expect(paths(bad)).toEqual([
    "families",
    `services[${p.services.length}].name`,
    `services[${p.services.length}].ports[0].ports[0]`,
    "zones[0].sources[0]",
    "zones[1].sources[0]",
    "zones[1].services[0]",
    "banSets[1].name",
    "banSets[1].scope",
    "blocklists[0].name",
    "blocklists[0].entries[0]",
  ]);
});

it("refuses bait on an open port and a rate limit without SIP services", () => {
  const p = labPolicy();
  const trap = { bait: [{ protocol: "tcp" as const, ports: [{ from: 80, to: 80 }] }], timeoutMs: 60_000 };
  expect(paths({ ...p, protections: { ...p.protections, portScanTrap: trap } })).toEqual([
    "protections.portScanTrap.bait",
  ]);
  expect(paths({ ...p, sipServices: [] })).toContain("protections.sipRateLimit");
});

it("derives the SIP scope and compares scopes by content", () => {
  const s = sipBanScope(labPolicy());
  expect(s).toEqual({ kind: "service", protocols: ["tcp", "udp"], ports: [{ from: 5060, to: 5061 }] });
  expect(
    sameScope(s, {
      kind: "service",
      protocols: ["udp", "tcp"],
      ports: [
        { from: 5061, to: 5061 },
        { from: 5060, to: 5060 },
      ],
    }),
  ).toBe(true);
  expect(sameScope(s, { kind: "all" })).toBe(false);
  expect(
    mergePortRanges([
      { from: 10, to: 20 },
      { from: 5, to: 9 },
      { from: 30, to: 30 },
    ]),
  ).toEqual([
    { from: 5, to: 20 },
    { from: 30, to: 30 },
  ]);
});

it("takes an IPv6 network ban prefix only below 128", () => {
  expect(checkPolicy({ ...labPolicy(), networkBanPrefix6: 64 })).toEqual([]);
  for (const bad of [0, 128, 64.5])
    expect(paths({ ...labPolicy(), networkBanPrefix6: bad })).toEqual(["networkBanPrefix6"]);
});
