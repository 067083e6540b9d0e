// The nftables backend's IO choreography over a fake runner: which programs, which arguments, which input.
import { describe, expect, it } from "vitest";
import { labPolicy } from "../../../test/enforce/policy-fixtures.js";
import { createManualClock } from "../../domain/clock.js";
import type { CommandResult } from "../command-runner.js";
import { isEnforceError } from "../errors.js";
import { sipBanScope } from "../policy.js";
import { DEFAULT_NFT_CONFIG, createNftBackend } from "./backend.js";
import { renderNftScript } from "./render.js";

interface Call {
  cmd: string;
  args: string[];
  stdin?: string;
}

const OK: CommandResult = { code: 0, stdout: "", stderr: "" };
const NO_TABLE: CommandResult = { code: 1, stdout: "", stderr: "Error: No such file or directory\n" };

function setup(answer: (c: Call) => CommandResult = (c) => (c.args[0] === "list" ? NO_TABLE : OK)) {
  const calls: Call[] = [];
  const warnings: object[] = [];
  const backend = createNftBackend(DEFAULT_NFT_CONFIG, {
    run: async (cmd, args, stdin) => {
      const c = { cmd, args: [...args], ...(stdin === undefined ? {} : { stdin }) };
      calls.push(c);
      return answer(c);
    },
    clock: createManualClock(1_000_000),
    log: { warn: (facts) => warnings.push(facts) },
  });
  return { backend, calls, warnings };
}

describe("apply", () => {
  it("checks, then applies the rendered script, after reading live bans to carry", async () => {
    const { backend, calls } = setup();
    await backend.apply(labPolicy());
    const script = renderNftScript(labPolicy());
    expect(calls.filter((c) => c.args[0] === "list").map((c) => c.args.join(" "))).toEqual([
      "list set inet sipwarden ban4",
      "list set inet sipwarden ban6",
      "list set inet sipwarden sipban4",
      "list set inet sipwarden sipban6",
    ]);
    expect(calls.slice(-2)).toEqual([
      { cmd: "nft", args: ["-c", "-f", "-"], stdin: script },
      { cmd: "nft", args: ["-f", "-"], stdin: script },
    ]);
  });

  it("carries live bans with their remaining time", async () => {
    const { backend, calls } = setup((c) =>
      c.args.join(" ") === "list set inet sipwarden ban4"
        ? { code: 0, stdout: "\t\telements = { 192.0.2.7 timeout 1h expires 59m1s }\n", stderr: "" }
        : c.args[0] === "list"
          ? NO_TABLE
          : OK,
    );
    await backend.apply(labPolicy());
    expect(calls.at(-1)?.stdin).toContain("\t\t\t192.0.2.7 timeout 59m1s\n");
  });

  it("reports the offending line when the check fails and never touches the live ruleset", async () => {
    const stderr = "/dev/stdin:7:4-12: Error: conflicting intervals specified\n";
    const { backend, calls } = setup((c) =>
      c.args[0] === "list" ? NO_TABLE : c.args[0] === "-c" ? { code: 1, stdout: "", stderr } : OK,
    );
    const err = await backend.apply(labPolicy()).catch((e: unknown) => e);
    expect(isEnforceError(err) && err.code).toBe("SW_ENFORCE_APPLY");
    const line7 = renderNftScript(labPolicy()).split("\n")[6]?.trim();
    expect(isEnforceError(err) && err.location).toEqual({ line: 7, text: line7 });
    expect((err as Error).message).toContain("line 7 (conflicting intervals specified)");
    expect(calls.some((c) => c.args[0] === "-f")).toBe(false);
  });
});

describe("ban and unban", () => {
  it("sends one batch, then flushes the sources' conntrack entries within the scope", async () => {
    const { backend, calls, warnings } = setup((c) =>
      c.args[0] === "list"
        ? NO_TABLE
        : c.cmd === "conntrack" && c.args[2] === "192.0.2.1"
          ? { code: 1, stdout: "", stderr: "0 flow entries" }
          : OK,
    );
    await backend.apply(labPolicy());
    calls.length = 0;
    await backend.ban([
      { target: "192.0.2.1", timeoutMs: 2000, scope: { kind: "all" } },
      { target: "2001:db8::2", timeoutMs: null, scope: sipBanScope(labPolicy()) },
    ]);
    expect(calls[0]?.args).toEqual(["-f", "-"]);
    expect(calls[0]?.stdin).toContain("add element inet sipwarden ban4 { 192.0.2.1 timeout 2s }");
    expect(calls[0]?.stdin).toContain("add element inet sipwarden sipban6 { 2001:db8::2 }");
    expect(calls.slice(1).map((c) => `${c.cmd} ${c.args.join(" ")}`)).toEqual([
      "conntrack -D -s 192.0.2.1",
      "conntrack -D -s 2001:db8::2 -p tcp --dport 5060",
      "conntrack -D -s 2001:db8::2 -p tcp --dport 5061",
      "conntrack -D -s 2001:db8::2 -p udp --dport 5060",
      "conntrack -D -s 2001:db8::2 -p udp --dport 5061",
    ]);
    expect(warnings).toEqual([]);
  });

  it("warns but keeps the ban when conntrack itself fails", async () => {
    const { backend, warnings } = setup((c) =>
      c.args[0] === "list"
        ? NO_TABLE
        : c.cmd === "conntrack"
          ? { code: -1, stdout: "", stderr: "ENOENT" }
          : OK,
    );
    await backend.apply(labPolicy());
    await backend.ban([{ target: "192.0.2.1", timeoutMs: 2000, scope: { kind: "all" } }]);
    expect(warnings).toEqual([{ address: "192.0.2.1", code: -1, stderr: "ENOENT" }]);
  });

  it("unbans from every ban set of the address's family in one batch", async () => {
    const { backend, calls } = setup();
    await backend.apply(labPolicy());
    calls.length = 0;
    await backend.unban(["192.0.2.1"]);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.stdin).toBe(
      [
        "add element inet sipwarden ban4 { 192.0.2.1 }",
        "delete element inet sipwarden ban4 { 192.0.2.1 }",
        "add element inet sipwarden sipban4 { 192.0.2.1 }",
        "delete element inet sipwarden sipban4 { 192.0.2.1 }",
        "",
      ].join("\n"),
    );
  });

  it("runs nothing for an invalid target", async () => {
    const { backend, calls } = setup();
    await backend.apply(labPolicy());
    calls.length = 0;
    await expect(
      backend.ban([{ target: "10.0.0.1\nflush ruleset", timeoutMs: 1, scope: { kind: "all" } }]),
    ).rejects.toThrow(/not a single IP address/);
    expect(calls).toEqual([]);
  });
});

it("health reports a missing table and the nft version", async () => {
  const { backend } = setup((c) =>
    c.args[0] === "--version" ? { code: 0, stdout: "nftables v1.0.6\n", stderr: "" } : NO_TABLE,
  );
  expect(await backend.health()).toEqual({
    ok: false,
    detail: "nftables v1.0.6; table inet sipwarden missing",
  });
});
