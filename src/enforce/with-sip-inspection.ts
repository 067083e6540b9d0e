// Decorates the nftables backend with SIP inspection: nft cannot match strings, so its rules go in via iptables-nft.
import type { IpFamily } from "../domain/address.js";
import type { CommandRunner } from "./command-runner.js";
import { EnforceError } from "./errors.js";
import type { FirewallBackend } from "./firewall-backend.js";
import { countHooks, firstComplaint, locateRestoreError, parseIpsetNames } from "./iptables/parse.js";
import type { HookCounts } from "./iptables/render.js";
import { SIP_HOOKS, renderStandaloneSip } from "./iptables/sip-script.js";
import {
  SIP_BAD_CHAIN,
  SIP_CHAIN,
  SIP_CT_CHAIN,
  SIP_TCP_CHAIN,
  SIP_UDP_CHAIN,
} from "./iptables/sip-render.js";
import { portsOf } from "./policy.js";
import type { FirewallPolicy } from "./policy.js";
import { checkSipInspection } from "./sip-inspection.js";

export interface SipToolsConfig {
  readonly iptablesRestore: string;
  readonly ip6tablesRestore: string;
  readonly iptablesSave: string;
  readonly ip6tablesSave: string;
  readonly ipset: string;
}

export const DEFAULT_SIP_TOOLS: SipToolsConfig = {
  iptablesRestore: "iptables-restore",
  ip6tablesRestore: "ip6tables-restore",
  iptablesSave: "iptables-save",
  ip6tablesSave: "ip6tables-save",
  ipset: "ipset",
};

export interface WithSipInspectionDeps {
  readonly run: CommandRunner;
  readonly tools?: SipToolsConfig;
}

/** Our SIP sets all start with `swsip-`; the standalone script never uses the main backend's `sw-` sets. */
const SIP_SET = /^swsip-/;
const RAW_CHAINS = [SIP_CHAIN, SIP_UDP_CHAIN, SIP_TCP_CHAIN, SIP_BAD_CHAIN];

/** The `*table … COMMIT` block of an iptables-save listing, or "" when the table is absent. */
export function tableBlock(save: string, table: string): string {
  const start = save.indexOf(`*${table}\n`);
  if (start < 0) return "";
  const end = save.indexOf("\nCOMMIT", start);
  return save.slice(start, end < 0 ? undefined : end);
}

/**
 * Wraps `backend` so that `apply` also installs (policy.sipInspection set) or removes (null) the SIP chains
 * and `swsip-*` sets, after the main ruleset went in. The main ruleset is applied first because the SIP
 * rules only add drops: a failure there leaves the host protected by the rest and is reported.
 */
export function withSipInspection(backend: FirewallBackend, deps: WithSipInspectionDeps): FirewallBackend {
  const tools = deps.tools ?? DEFAULT_SIP_TOOLS;

  async function must(cmd: string, args: readonly string[], stdin: string | undefined, what: string) {
    const r = await deps.run(cmd, args, stdin);
    if (r.code === 0) return r;
    const where = stdin ? locateRestoreError(r.stderr, stdin) : null;
    throw new EnforceError(
      r.code === -1 ? "SW_ENFORCE_COMMAND" : "SW_ENFORCE_APPLY",
      `${cmd} refused the ${what}${where ? ` at line ${where.line}: ${where.text}` : ""} (${firstComplaint(r.stderr)})`,
      { ...(where ? { location: where } : {}), stderr: r.stderr },
    );
  }

  async function counts(): Promise<Record<IpFamily, HookCounts>> {
    const v4 = await must(tools.iptablesSave, [], undefined, "listing");
    const v6 = await must(tools.ip6tablesSave, [], undefined, "listing");
    return { 4: countHooks(v4.stdout, SIP_HOOKS), 6: countHooks(v6.stdout, SIP_HOOKS) };
  }

  async function existingSets(): Promise<Set<string>> {
    return parseIpsetNames((await must(tools.ipset, ["list", "-n"], undefined, "set listing")).stdout);
  }

  async function install(policy: FirewallPolicy): Promise<void> {
    const sip = policy.sipInspection;
    if (!sip) return;
    const existing = await existingSets();
    const out = renderStandaloneSip(
      {
        sip,
        sipPorts: portsOf(policy, sip.services),
        exempt: [...policy.zones.flatMap((z) => z.sources), ...policy.allowlist],
      },
      existing,
      await counts(),
    );
    if (out.sets.prepare)
      await must(tools.ipset, ["-exist", "restore"], out.sets.prepare, "SIP set preparation");
    await must(tools.iptablesRestore, ["--noflush", "-w"], out.v4, "IPv4 SIP inspection");
    await must(tools.ip6tablesRestore, ["--noflush", "-w"], out.v6, "IPv6 SIP inspection");
    if (out.sets.commit) await must(tools.ipset, ["restore"], out.sets.commit, "SIP set swap");
  }

  /** Unhooks and deletes the SIP chains, then the sets no rule refers to any more. Absent pieces are fine. */
  async function remove(): Promise<void> {
    const c = await counts();
    for (const f of [4, 6] as const) {
      const save = (await must(f === 4 ? tools.iptablesSave : tools.ip6tablesSave, [], undefined, "listing"))
        .stdout;
      const has = (table: string, chain: string): boolean => tableBlock(save, table).includes(`\n:${chain} `);
      const lines: string[] = [];
      for (const [table, chains] of [
        ["raw", RAW_CHAINS],
        ["mangle", [SIP_CT_CHAIN]],
      ] as const) {
        const present = chains.filter((ch) => has(table, ch));
        if (present.length === 0) continue;
        lines.push(`*${table}`, ...present.map((ch) => `:${ch} - [0:0]`));
        for (const h of SIP_HOOKS.filter((x) => x.table === table))
          for (let i = 0; i < (c[f][`${h.table} ${h.from} ${h.to}`] ?? 0); i++)
            lines.push(`-D ${h.from} -j ${h.to}`);
        lines.push(...present.map((ch) => `-X ${ch}`), "COMMIT");
      }
      if (lines.length > 0)
        await must(
          f === 4 ? tools.iptablesRestore : tools.ip6tablesRestore,
          ["--noflush", "-w"],
          `${lines.join("\n")}\n`,
          `IPv${f} SIP removal`,
        );
    }
    for (const name of [...(await existingSets())].filter((n) => SIP_SET.test(n)))
      await deps.run(tools.ipset, ["destroy", name]);
  }

  return {
    async apply(policy) {
      if (policy.sipInspection) {
        const problems = checkSipInspection(policy.sipInspection, policy);
        if (problems.length > 0)
          throw new EnforceError(
            "SW_ENFORCE_POLICY",
            `invalid SIP inspection: ${problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`,
          );
      }
      await backend.apply(policy);
      if (policy.sipInspection) await install(policy);
      else await remove();
    },
    ban: (entries) => backend.ban(entries),
    unban: (targets) => backend.unban(targets),
    listBans: () => backend.listBans(),
    health: () => backend.health(),
  };
}
