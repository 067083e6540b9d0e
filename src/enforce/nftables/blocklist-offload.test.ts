// Pure parts of the ipset offload: member normalisation and the scripts.
import { expect, it } from "vitest";
import { countriesPolicy, labPolicy } from "../../../test/enforce/policy-fixtures.js";
import { sipBanScope } from "../policy.js";
import { isEnforceError } from "../errors.js";
import { parseConntrackFlows } from "./backend.js";
import {
  blocklistMembers,
  offloadSets,
  renderOffloadIpset,
  renderOffloadRules,
  renderRestrictionRules,
  restrictionList,
  splitBlocklists,
} from "./blocklist-offload.js";

it("collapses duplicates and covered CIDRs, clears host bits, halves /0", () => {
  const m = blocklistMembers({
    name: "x",
    scope: { kind: "all" },
    entries: ["10.1.2.3/24", "10.1.2.77", "10.1.2.0/24", "192.0.2.9", "2001:db8::/32", "::/0"],
  });
  expect(m.v4).toEqual(["10.1.2.0/24", "192.0.2.9"]);
  expect(m.v6).toEqual(["2001:db8::/32", "::/1", "8000::/1"]);
  const err = (() => {
    try {
      blocklistMembers({ name: "x", scope: { kind: "all" }, entries: ["nope"] });
    } catch (e) {
      return e;
    }
    return null;
  })();
  expect(isEnforceError(err) && err.code).toBe("SW_ENFORCE_POLICY");
});

it("offloads only lists at the threshold, with allow sets first and a swap per set", () => {
  const p = labPolicy();
  expect(splitBlocklists(p, 2).offloaded).toEqual([]);
  const { nft, offloaded } = splitBlocklists(p, 1);
  expect(nft.blocklists).toEqual([]);
  const script = renderOffloadIpset(offloadSets(p, offloaded));
  expect(script).toContain("add swnft-allow4-tmp 10.77.0.4\n");
  expect(script).toContain("add swnft-block4-tmp 10.77.0.128/25\nswap swnft-block4-tmp swnft-block4\n");
});

it("renders scoped drops after the allowlist return", () => {
  const rules = renderOffloadRules([{ name: "voipbl", scope: sipBanScope(labPolicy()), entries: [] }], 4);
  expect(rules.split("\n")).toEqual([
    "*raw",
    ":SIPWARDEN-NFTBL - [0:0]",
    "-A SIPWARDEN-NFTBL -i lo -j RETURN",
    "-A SIPWARDEN-NFTBL -m set --match-set swnft-allow4 src -j RETURN",
    "-A SIPWARDEN-NFTBL -p tcp -m multiport --dports 5060:5061 -m set --match-set swnft-voipbl4 src -j DROP",
    "-A SIPWARDEN-NFTBL -p udp -m multiport --dports 5060:5061 -m set --match-set swnft-voipbl4 src -j DROP",
    "COMMIT",
    "",
  ]);
});

it("offloads a large restriction: out of the nft policy, its drops in a filter chain after the returns", () => {
  const p = countriesPolicy();
  const { nft, restricted } = splitBlocklists(p, 5);
  expect(restricted.map((r) => r.name)).toEqual(["countries"]);
  expect(nft.restrictions).toEqual([]);
  expect(splitBlocklists(p, 7).restricted).toEqual([]);
  expect(renderRestrictionRules(p, restricted, 6).split("\n")).toEqual([
    "*filter",
    ":SIPWARDEN-NFTRS - [0:0]",
    "-A SIPWARDEN-NFTRS -i lo -j RETURN",
    "-A SIPWARDEN-NFTRS -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN",
    "-A SIPWARDEN-NFTRS -m set --match-set swnft-allow6 src -j RETURN",
    "-A SIPWARDEN-NFTRS -p tcp -m multiport --dports 5060:5061 -m set --match-set swnft-countries6 src -j RETURN",
    "-A SIPWARDEN-NFTRS -p tcp -m multiport --dports 5060:5061 -j DROP",
    "-A SIPWARDEN-NFTRS -p udp -m multiport --dports 5060 -m set --match-set swnft-countries6 src -j RETURN",
    "-A SIPWARDEN-NFTRS -p udp -m multiport --dports 5060 -j DROP",
    "COMMIT",
    "",
  ]);
  // Nothing offloaded: the chain is declared empty, so an earlier apply's rules go.
  expect(renderRestrictionRules(p, [], 4)).toBe("*filter\n:SIPWARDEN-NFTRS - [0:0]\nCOMMIT\n");
  const sets = offloadSets(p, restricted.map(restrictionList));
  expect(sets.map((s) => [s.name, s.members])).toContainEqual([
    "swnft-countries6",
    ["2001:67c::/32", "2a02:8388::/32"],
  ]);
});

it("reads flows from conntrack -L", () => {
  const text =
    "udp      17 28 src=10.77.0.3 dst=10.77.0.1 sport=40001 dport=5060 [UNREPLIED] src=10.77.0.1 dst=10.77.0.3 sport=5060 dport=40001 mark=0 use=1\n" +
    "icmp     1 29 src=10.77.0.3 dst=10.77.0.1 type=8 code=0 id=1 src=10.77.0.1 dst=10.77.0.3 type=0 code=0 id=1 mark=0 use=1\n";
  expect(parseConntrackFlows(text)).toEqual([
    { src: "10.77.0.3", proto: "udp", dport: 5060 },
    { src: "10.77.0.3", proto: "icmp", dport: null },
  ]);
});
