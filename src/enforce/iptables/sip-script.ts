// SIP inspection as a standalone iptables-restore script, for a host whose main ruleset is nftables.
import type { IpFamily } from "../../domain/address.js";
import type { ServicePort } from "../policy.js";
import type { SipInspectionPolicy } from "../sip-inspection.js";
import type { IpsetPhases, IpsetMember } from "./ipset-script.js";
import { renderIpsetPhases } from "./ipset-script.js";
import { HOOKS, buildRestoreScript } from "./render.js";
import type { HookCounts } from "./render.js";
import { SIP_CHAIN, SIP_CT_CHAIN, renderSipInspection } from "./sip-render.js";

/** Only the SIP hooks: the nft table does the rest. */
export const SIP_HOOKS = HOOKS.filter((h) => h.to === SIP_CHAIN || h.to === SIP_CT_CHAIN);

export interface StandaloneSipInput {
  readonly sip: SipInspectionPolicy;
  /** Cleartext SIP ports (the services named by `sip.services`). */
  readonly sipPorts: readonly ServicePort[];
  /** Zone sources and allowlist: never screened. Kept in the `swsip-ok` sets. */
  readonly exempt: readonly string[];
}

/**
 * The ipset phases and the (ip6)iptables-restore --noflush scripts of SIP inspection alone. iptables-nft
 * puts these chains in its own `ip raw`/`ip mangle` tables, beside nft's `inet sipwarden`; a drop in either
 * is final. Scanners go to a private `swsip-scan` set (an nft ban set is out of xt_SET's reach).
 */
export function renderStandaloneSip(
  input: StandaloneSipInput,
  existingSets: ReadonlySet<string>,
  counts: Readonly<Record<IpFamily, HookCounts>>,
  carried: readonly IpsetMember[] = [],
): { readonly sets: IpsetPhases; readonly v4: string; readonly v6: string } {
  const r = renderSipInspection(input.sip, {
    sipPorts: input.sipPorts,
    exempt: { sources: input.exempt },
    banSets: null,
  });
  const script = (f: IpFamily): string => {
    const c = r.chains(f);
    return buildRestoreScript(
      [
        { table: "raw", chains: c.raw },
        { table: "mangle", chains: c.mangle },
      ],
      SIP_HOOKS,
      counts[f],
    );
  };
  return { sets: renderIpsetPhases(r.sets, existingSets, carried), v4: script(4), v6: script(6) };
}
