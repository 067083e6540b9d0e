// A country restriction in the IR: what checkPolicy refuses, what the SSH lockout check makes of it, and what
// `explain` learns from the applied policy (the evaluator's tests and the differential test hold the rest).
import { describe, expect, it } from "vitest";
import { countriesPolicy } from "../../test/enforce/policy-fixtures.js";
import { explainAddress } from "../api/explain.js";
import { policyFacts } from "../daemon/policy-facts.js";
import { parseIp, type IpAddress } from "../domain/address.js";
import { evaluateSsh } from "./lockout.js";
import { checkPolicy } from "./policy-check.js";
import type { FirewallPolicy } from "./policy.js";

const POLICY = countriesPolicy();

function ip(text: string): IpAddress {
  const a = parseIp(text);
  if (!a) throw new Error(text);
  return a;
}

describe("a country restriction", () => {
  it("refuses SSH from outside the countries when SSH is restricted: the lockout check sees it", () => {
    const policy: FirewallPolicy = {
      ...POLICY,
      internet: { services: [...POLICY.internet.services, "ssh"] },
      restrictions: [{ ...POLICY.restrictions![0]!, services: ["sip", "sip-tls", "ssh"] }],
    };
    const session = (client: string) => ({ client: ip(client), server: ip("203.0.113.1"), serverPort: 22 });
    expect(evaluateSsh(policy, session("9.9.9.9"))).toEqual({
      accepted: false,
      because: "open only to countries: de, at",
    });
    expect(evaluateSsh(policy, session("77.116.1.1"))).toEqual({
      accepted: true,
      because: "open to the internet (countries)",
    });
  });

  it("is checked: services open to the internet, restricted once, sharing no port with an open one", () => {
    const r = POLICY.restrictions![0]!;
    const bad: FirewallPolicy = {
      ...POLICY,
      services: [
        ...POLICY.services,
        { name: "sip-alt", ports: [{ protocol: "udp", ports: [{ from: 5060, to: 5060 }] }] },
      ],
      internet: { services: [...POLICY.internet.services, "sip-alt"] },
      restrictions: [
        { ...r, services: ["sip", "ami"], lists: [...r.lists, { label: "Bad Label", entries: ["1.2.3"] }] },
      ],
    };
    expect(checkPolicy(bad)).toEqual([
      { path: "restrictions[0].services[1]", message: "ami is not open to the internet" },
      { path: "restrictions[0].lists[2].label", message: 'bad label "Bad Label"' },
      { path: "restrictions[0].lists[2].entries[0]", message: 'not a CIDR: "1.2.3"' },
      {
        path: "restrictions[0].services",
        message: "shares a port with an internet service it does not restrict",
      },
    ]);
    expect(checkPolicy(POLICY)).toEqual([]);
  });

  it("tells explain which blocklist holds an address and which restriction leaves it out", () => {
    const outside = policyFacts(POLICY, ip("45.134.26.77"));
    expect(outside.feeds).toEqual([
      // The list holds the host and its /24: the narrowest entry is named.
      { feed: "voipbl", entry: "45.134.26.77", scope: POLICY.blocklists[0]!.scope },
    ]);
    expect(outside.restrictions).toEqual([
      {
        restriction: "countries",
        services: ["sip", "sip-tls"],
        lists: ["de", "at"],
        scope: {
          kind: "service",
          protocols: ["tcp", "udp"],
          ports: [{ from: 5060, to: 5061 }],
        },
      },
    ]);
    expect(policyFacts(POLICY, ip("5.1.61.9"))).toEqual({ feeds: [], restrictions: [] });
    expect(policyFacts(POLICY, ip("185.53.90.1")).feeds.map((f) => f.entry)).toEqual(["185.53.88.0/22"]);
    expect(policyFacts(null, ip("5.1.61.9"))).toEqual({ feeds: [], restrictions: [] });

    const result = explainAddress({
      address: ip("45.134.26.77"),
      active: [],
      past: [],
      allow: [],
      ...outside,
    });
    expect(result.verdict).toBe("blocked");
    expect(result.because.map((b) => [b.kind, b.origin, b.target])).toEqual([
      ["feed", "feed:voipbl", "45.134.26.77"],
      ["restriction", "restriction:countries", undefined],
    ]);
    expect(result.because[1]?.detail).toBe(
      "sip, sip-tls are open only to countries de, at, and no list of theirs holds this address",
    );
  });
});
