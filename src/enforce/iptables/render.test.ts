// Golden and structural tests of the pure iptables/ipset renderers; UPDATE_GOLDEN=1 rewrites testdata/*.
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
import { portsOf } from "../policy.js";
import type { FirewallPolicy } from "../policy.js";
import { DEFAULT_SIP_INSPECTION } from "../sip-inspection.js";
import type { SipAwarePolicy } from "../sip-inspection.js";
import {
  ipsetTimeout,
  renderIpsetBanBatch,
  renderIpsetPhases,
  renderIpsetUnbanBatch,
} from "./ipset-script.js";
import { countHooks, locateRestoreError, parseIpsetSave } from "./parse.js";
import { portMatches } from "./port-match.js";
import { HOOKS, renderIpsetScripts, renderIptablesScript } from "./render.js";
import { hashlimitRate } from "./sip-render.js";
import { renderStandaloneSip } from "./sip-script.js";

const TESTDATA = join(dirname(fileURLToPath(import.meta.url)), "testdata");

function golden(file: string, got: string): void {
  const path = join(TESTDATA, file);
  if (process.env.UPDATE_GOLDEN === "1") writeFileSync(path, got);
  expect(got).toBe(readFileSync(path, "utf8"));
}

const sipPolicy = (): SipAwarePolicy => ({
  ...freepbxPolicy(),
  sipInspection: {
    ...DEFAULT_SIP_INSPECTION,
    secretDomain: "pbx-7f3a.example.net",
    userAgentAllow: ["Zoiper"],
    registerLimit: { count: 20, seconds: 10 },
    inviteLimit: { count: 12, seconds: 60 },
  },
});

const GOLDEN: readonly { name: string; policy: FirewallPolicy }[] = [
  { name: "freepbx", policy: freepbxPolicy() },
  { name: "minimal", policy: minimalPolicy() },
  { name: "lab", policy: labPolicy() },
  { name: "freepbx-sip", policy: sipPolicy() },
  { name: "countries", policy: countriesPolicy() },
];

describe("golden files (fresh host: no sets, no hooks)", () => {
  for (const g of GOLDEN) {
    it(`renders ${g.name}`, () => {
      golden(`${g.name}.ipset`, renderIpsetScripts(g.policy, new Set()).prepare);
      golden(`${g.name}.v4.rules`, renderIptablesScript(g.policy, 4));
      golden(`${g.name}.v6.rules`, renderIptablesScript(g.policy, 6));
    });
  }
  it("renders standalone SIP inspection for an nftables host", () => {
    const p = sipPolicy();
    const out = renderStandaloneSip(
      {
        sip: p.sipInspection!,
        sipPorts: portsOf(p, ["sip"]),
        exempt: [...p.allowlist, ...p.zones.flatMap((z) => z.sources)],
      },
      new Set(),
      { 4: {}, 6: {} },
    );
    golden("standalone-sip.ipset", out.sets.prepare);
    golden("standalone-sip.v4.rules", out.v4);
  });
});

describe("iptables script structure", () => {
  const v4 = renderIptablesScript(sipPolicy(), 4).split("\n");
  const at = (needle: string): number => v4.findIndex((l) => l.includes(needle));

  it("owns only SW-* chains and never flushes a table or a built-in chain", () => {
    const touched = v4.filter((l) => /^(-[ADIRFNX]|:)/.test(l));
    for (const l of touched)
      expect(l).toMatch(/^(:SW-[A-Z-]+ - \[0:0\]|-A SW-|-I (PREROUTING|INPUT) 1 -j SW-)/);
  });

  it("checks the allowlist before bans, before conntrack, and ends the input chain with DROP", () => {
    expect(at("-A SW-RAW-PRE -m set --match-set sw-allow4 src -j RETURN")).toBeLessThan(
      at("sw-ban4 src -j DROP"),
    );
    expect(at("*raw")).toBeLessThan(at("sw-ban4 src -j DROP"));
    expect(at("--ctstate INVALID -j DROP")).toBeLessThan(at("RELATED,ESTABLISHED -j ACCEPT"));
    expect(at("-A SW-INPUT -j DROP")).toBeGreaterThan(at('--comment "internet"'));
    expect(at("-A SW-SIP -m set --match-set sw-allow4 src -j RETURN")).toBeLessThan(at("-A SW-SIP -p"));
  });

  it("drops scanners before admitting and drops unknown UDP only after admission", () => {
    expect(at('"User-Agent: friendly-scanner"')).toBeLessThan(at('"pbx-7f3a.example.net"'));
    expect(at('"pbx-7f3a.example.net" --algo bm --to 1500')).toBeLessThan(
      at("! --match-set swsip-known4 src -j DROP"),
    );
    expect(v4).toContain("-A SW-SIP-BAD -j SET --add-set sw-ban4 src --exist --timeout 3600");
    expect(v4).toContain(
      "-A SW-SIP-CT -p tcp -m tcp --dport 5060 -m conntrack --ctstate ESTABLISHED -m set ! --match-set swsip-known4 src -j DROP",
    );
  });

  it("adds a missing hook once and removes duplicates", () => {
    const [raw, sipRaw, mangle, filter] = [HOOKS[1]!, HOOKS[0]!, HOOKS[2]!, HOOKS[3]!];
    const save = [
      "*raw",
      `-A PREROUTING -j ${raw.to}`,
      `-A PREROUTING -j ${raw.to}`,
      `-A PREROUTING -j ${sipRaw.to}`,
      "*mangle",
      `-A PREROUTING -j ${mangle.to}`,
      "*filter",
      `-A INPUT -s 10.0.0.1/32 -j ${filter.to}`,
    ].join("\n");
    const script = renderIptablesScript(minimalPolicy(), 4, countHooks(save, HOOKS));
    expect(script.match(/^-D PREROUTING -j SW-RAW-PRE$/gm)).toHaveLength(1);
    expect(script).not.toMatch(/^-I PREROUTING 1 -j SW-(RAW-PRE|SIP|SIP-CT)$/m);
    expect(script).toMatch(/^-I INPUT 1 -j SW-INPUT$/m);
  });

  it("drops every input of a family the host does not serve", () => {
    const v6 = renderIptablesScript(minimalPolicy(), 6);
    expect(v6).toContain("-A SW-INPUT -i lo -j ACCEPT\n-A SW-INPUT -j DROP\n");
  });

  it("refuses an invalid policy or an injectable SIP pattern before rendering", () => {
    const bad: SipAwarePolicy = {
      ...minimalPolicy(),
      allowlist: ["evil; -F"],
      sipInspection: {
        ...DEFAULT_SIP_INSPECTION,
        scannerUserAgents: ['x" -j ACCEPT #'],
        secretDomain: "a b",
      },
    };
    try {
      renderIptablesScript(bad, 4);
      expect.fail("should throw");
    } catch (e) {
      expect(isEnforceError(e) && e.code).toBe("SW_ENFORCE_POLICY");
      for (const path of ["allowlist[0]", "sipInspection.scannerUserAgents[0]", "sipInspection.secretDomain"])
        expect((e as Error).message).toContain(path);
    }
  });
});

describe("ipset phases", () => {
  it("swaps a filled twin into an existing list and never recreates a ban set", () => {
    const p = renderIpsetPhases(
      [
        { kind: "net", name: "sw-block4", family: 4, entries: ["10.0.0.0/8", "10.1.0.0/16", "0.0.0.0/0"] },
        { kind: "timeout", name: "sw-ban4", family: 4 },
      ],
      new Set(["sw-block4", "sw-block4-tmp", "sw-ban4"]),
      [{ set: "sw-ban4", address: "192.0.2.1", timeoutMs: 1500 }],
    );
    expect(p.prepare).toBe(
      [
        "destroy sw-block4-tmp",
        "create sw-block4-tmp hash:net family inet hashsize 1024 maxelem 65536",
        "add sw-block4-tmp 0.0.0.0/1",
        "add sw-block4-tmp 128.0.0.0/1",
        "add sw-ban4 192.0.2.1 timeout 2",
        "",
      ].join("\n"),
    );
    expect(p.commit).toBe("swap sw-block4-tmp sw-block4\ndestroy sw-block4-tmp\n");
    expect(p.discard).toBe("destroy sw-block4-tmp\n");
  });

  it("batches bans and unbans, with timeouts rounded up and capped", () => {
    expect(renderIpsetBanBatch([{ set: "sw-ban6", address: "2001:db8::1", timeoutMs: null }])).toBe(
      "add sw-ban6 2001:db8::1 timeout 0\n",
    );
    expect(renderIpsetUnbanBatch([{ set: "sw-ban4", address: "192.0.2.1" }])).toBe("del sw-ban4 192.0.2.1\n");
    expect(ipsetTimeout(1)).toBe(1);
    expect(ipsetTimeout(90 * 86_400_000)).toBe(2_147_483);
  });
});

describe("small pieces", () => {
  it("splits multiport matches at 15 slots", () => {
    const ranges = Array.from({ length: 16 }, (_, i) => ({ from: 1000 + i * 10, to: 1000 + i * 10 }));
    expect(portMatches("udp", ranges)).toHaveLength(2);
    expect(portMatches("tcp", [{ from: 5060, to: 5061 }])).toEqual(["-p tcp -m tcp --dport 5060:5061"]);
  });

  it("expresses count per seconds exactly in hashlimit units", () => {
    expect(hashlimitRate({ count: 20, seconds: 10 })).toBe("2/sec");
    expect(hashlimitRate({ count: 12, seconds: 60 })).toBe("12/min");
    expect(hashlimitRate({ count: 7, seconds: 11 })).toBe("54982/day");
  });

  it("parses set listings and the line a restore tool blamed", () => {
    expect(
      parseIpsetSave(
        "create sw-ban4 hash:ip\nadd sw-ban4 192.0.2.1 timeout 59\nadd sw-ban4 192.0.2.2 timeout 0\n",
      ),
    ).toEqual([
      { set: "sw-ban4", address: "192.0.2.1", timeoutS: 59 },
      { set: "sw-ban4", address: "192.0.2.2", timeoutS: null },
    ]);
    expect(locateRestoreError("iptables-restore: line 3 failed\n", "a\nb\n-A SW-INPUT -j BAD\n")).toEqual({
      line: 3,
      text: "-A SW-INPUT -j BAD",
    });
    expect(locateRestoreError("Error occurred at line: 1\n", "x\n")?.line).toBe(1);
  });
});

describe("WAN bogons and the SYN rate", () => {
  it("drops bogons in raw only on the WAN interfaces, after the allowlist RETURNs", () => {
    const rules = renderIptablesScript(freepbxPolicy(), 4).split("\n");
    const allow = rules.indexOf("-A SW-RAW-PRE -m set --match-set sw-allow4 src -j RETURN");
    const bogon = rules.indexOf("-A SW-RAW-PRE -i eth0 -m set --match-set sw-bogons4 src -j DROP");
    expect(allow).toBeGreaterThan(0);
    expect(bogon).toBeGreaterThan(allow);
    expect(renderIptablesScript(freepbxPolicy(), 6)).toContain(
      "-A SW-RAW-PRE -i eth0 -m set --match-set sw-bogons6 src -j DROP",
    );
    const sets = renderIpsetScripts(freepbxPolicy(), new Set()).prepare;
    expect(sets).toContain("add sw-bogons4 10.0.0.0/8");
    expect(sets).toContain("add sw-bogons6 fc00::/7");
  });

  it("refuses an interface name that could inject an option", () => {
    const p = freepbxPolicy();
    expect(() => renderIptablesScript({ ...p, wan: { interfaces: ["-j ACCEPT"], bogons: true } }, 4)).toThrow(
      /wan.interfaces/,
    );
  });

  it("limits plain SYNs per source with hashlimit, one table per family", () => {
    const v6 = renderIptablesScript(labPolicy(), 6);
    expect(v6).toContain(
      "-A SW-SCREEN -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -m conntrack --ctstate NEW -m hashlimit --hashlimit-above 50/sec --hashlimit-burst 100 --hashlimit-mode srcip --hashlimit-name sw-synrate6 --hashlimit-htable-expire 60000 -j DROP",
    );
  });
});
