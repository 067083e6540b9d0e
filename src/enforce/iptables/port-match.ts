// Destination-port matches in iptables syntax, split where the multiport match's 15-slot limit forces it.
import type { PortRange, Protocol } from "../../domain/decision.js";
import type { ServicePort } from "../policy.js";
import { mergePortRanges } from "../policy.js";

/** xt_multiport holds 15 ports, a range taking two of them. */
const MULTIPORT_SLOTS = 15;

function rangeText(r: PortRange): string {
  return r.from === r.to ? `${r.from}` : `${r.from}:${r.to}`;
}

/**
 * Matches for `protocol` to any of `ranges`: one string per rule the caller must write, each starting with
 * `-p <protocol>`. Ranges are merged first, so overlapping input costs no extra rules.
 */
export function portMatches(protocol: Protocol, ranges: readonly PortRange[]): string[] {
  const chunks: PortRange[][] = [];
  let slots = 0;
  for (const r of mergePortRanges(ranges)) {
    const cost = r.from === r.to ? 1 : 2;
    const last = chunks[chunks.length - 1];
    if (!last || slots + cost > MULTIPORT_SLOTS) {
      chunks.push([r]);
      slots = cost;
    } else {
      last.push(r);
      slots += cost;
    }
  }
  return chunks.map((c) =>
    c.length === 1
      ? `-p ${protocol} -m ${protocol} --dport ${rangeText(c[0] as PortRange)}`
      : `-p ${protocol} -m multiport --dports ${c.map(rangeText).join(",")}`,
  );
}

/** Service ports grouped by protocol in a fixed order, so output is stable whatever the IR's order. */
export function byProtocol(sp: readonly ServicePort[]): [Protocol, PortRange[]][] {
  const order: Protocol[] = ["tcp", "udp", "sctp"];
  return order
    .map((p): [Protocol, PortRange[]] => [p, sp.filter((x) => x.protocol === p).flatMap((x) => x.ports)])
    .filter(([, r]) => r.length > 0);
}

/** Every match for a list of service ports: protocols in fixed order, each split as `portMatches` does. */
export function serviceMatches(sp: readonly ServicePort[]): string[] {
  return byProtocol(sp).flatMap(([proto, ranges]) => portMatches(proto, ranges));
}
