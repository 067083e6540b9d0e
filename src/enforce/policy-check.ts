// Named consistency rules over the policy IR, run before anything is rendered or sent to the kernel.
import { parseCidr } from "../domain/address.js";
import type { BanScope, PortRange } from "../domain/decision.js";
import type { FirewallPolicy, ServicePort } from "./policy.js";
import { internetServices, portsOf, sameScope } from "./policy.js";

/** One broken rule: `path` points into the IR (`zones[1].sources[0]`), `message` says what is wrong. */
export interface PolicyProblem {
  readonly path: string;
  readonly message: string;
}

/** Names that end up in the script as identifiers or comments: no quoting, no injection. */
const NAME = /^[a-z][a-z0-9_-]{0,31}$/;
/** Set base names get a family digit appended and must not need quoting in nft. */
const SET_NAME = /^[a-z][a-z0-9_]{0,15}$/;
/** Set names the renderer itself uses. */
const RESERVED_SETS = new Set(["allow", "trap", "siprate", "synrate", "bogons"]);
/**
 * A kernel interface name as it goes into `iifname "…"` and `-i …`: at most 15 characters, starting with a
 * letter, digit or `_` (never `-`, which iptables would read as an option), no quote, space, `*`, `+` or `:`,
 * so it cannot inject a token or widen into a wildcard.
 */
export const INTERFACE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/;
const PROTOCOLS = new Set(["tcp", "udp", "sctp"]);

function checkRanges(ranges: readonly PortRange[], path: string, out: PolicyProblem[]): void {
  if (ranges.length === 0) out.push({ path, message: "no ports" });
  ranges.forEach((r, i) => {
    const ok = Number.isInteger(r.from) && Number.isInteger(r.to) && r.from >= 1 && r.to <= 65535;
    if (!ok || r.from > r.to)
      out.push({ path: `${path}[${i}]`, message: `bad port range ${r.from}-${r.to}` });
  });
}

function checkServicePorts(sp: readonly ServicePort[], path: string, out: PolicyProblem[]): void {
  if (sp.length === 0) out.push({ path, message: "no ports" });
  sp.forEach((p, i) => {
    if (!PROTOCOLS.has(p.protocol)) out.push({ path: `${path}[${i}].protocol`, message: `bad protocol` });
    checkRanges(p.ports, `${path}[${i}].ports`, out);
  });
}

function checkScope(scope: BanScope, path: string, out: PolicyProblem[]): void {
  if (scope.kind === "all") return;
  if (scope.protocols.length === 0) out.push({ path: `${path}.protocols`, message: "no protocols" });
  scope.protocols.forEach((p, i) => {
    if (!PROTOCOLS.has(p)) out.push({ path: `${path}.protocols[${i}]`, message: "bad protocol" });
  });
  checkRanges(scope.ports, `${path}.ports`, out);
}

function checkAddresses(
  list: readonly string[],
  path: string,
  hostsOnly: boolean,
  out: PolicyProblem[],
): void {
  list.forEach((s, i) => {
    // Strict parse: `10.0.0.1/8` is a typo for either a host or a network, so refuse to guess.
    const c = parseCidr(s, false);
    if (!c)
      out.push({
        path: `${path}[${i}]`,
        message: `not an address or CIDR with zero host bits: ${JSON.stringify(s)}`,
      });
    else if (hostsOnly && c.prefix !== (c.family === 4 ? 32 : 128))
      out.push({ path: `${path}[${i}]`, message: `a host zone lists single addresses, not ${c.text}` });
  });
}

function overlaps(a: readonly ServicePort[], b: readonly ServicePort[]): boolean {
  return a.some((x) =>
    b.some(
      (y) =>
        x.protocol === y.protocol &&
        x.ports.some((r) => y.ports.some((q) => r.from <= q.to && q.from <= r.to)),
    ),
  );
}

/** Every rule the IR breaks; empty means the renderers may trust it. */
export function checkPolicy(policy: FirewallPolicy): PolicyProblem[] {
  const out: PolicyProblem[] = [];
  if (policy.families.length === 0) out.push({ path: "families", message: "at least one family" });

  const serviceNames = new Set<string>();
  policy.services.forEach((s, i) => {
    if (!NAME.test(s.name))
      out.push({ path: `services[${i}].name`, message: `bad name ${JSON.stringify(s.name)}` });
    if (serviceNames.has(s.name))
      out.push({ path: `services[${i}].name`, message: `duplicate service ${s.name}` });
    serviceNames.add(s.name);
    checkServicePorts(s.ports, `services[${i}].ports`, out);
  });
  const known = (names: readonly string[], path: string): void =>
    names.forEach((n, i) => {
      if (!serviceNames.has(n))
        out.push({ path: `${path}[${i}]`, message: `unknown service ${JSON.stringify(n)}` });
    });
  known(policy.sipServices, "sipServices");
  known(policy.internet.services, "internet.services");

  const zoneNames = new Set<string>();
  policy.zones.forEach((z, i) => {
    if (!NAME.test(z.name))
      out.push({ path: `zones[${i}].name`, message: `bad name ${JSON.stringify(z.name)}` });
    if (zoneNames.has(z.name)) out.push({ path: `zones[${i}].name`, message: `duplicate zone ${z.name}` });
    zoneNames.add(z.name);
    if (z.sources.length === 0) out.push({ path: `zones[${i}].sources`, message: "no sources" });
    checkAddresses(z.sources, `zones[${i}].sources`, z.kind === "host", out);
    known(z.services, `zones[${i}].services`);
  });
  checkAddresses(policy.allowlist, "allowlist", false, out);

  const setNames = new Set<string>();
  const claimSet = (name: string, path: string): void => {
    if (!SET_NAME.test(name)) out.push({ path, message: `bad set name ${JSON.stringify(name)}` });
    else if (RESERVED_SETS.has(name)) out.push({ path, message: `set name ${name} is reserved` });
    else if (setNames.has(name)) out.push({ path, message: `duplicate set name ${name}` });
    setNames.add(name);
  };
  const netPrefix = policy.networkBanPrefix6;
  if (netPrefix !== undefined && (!Number.isInteger(netPrefix) || netPrefix < 1 || netPrefix > 127))
    out.push({
      path: "networkBanPrefix6",
      message: `not an IPv6 network prefix length below 128: ${netPrefix}`,
    });
  policy.banSets.forEach((b, i) => {
    claimSet(b.name, `banSets[${i}].name`);
    checkScope(b.scope, `banSets[${i}].scope`, out);
    // A ban names its scope, not its set; two sets with one scope would make that ambiguous.
    if (policy.banSets.slice(0, i).some((o) => sameScope(o.scope, b.scope)))
      out.push({ path: `banSets[${i}].scope`, message: "another ban set has the same scope" });
  });
  policy.blocklists.forEach((b, i) => {
    claimSet(b.name, `blocklists[${i}].name`);
    checkScope(b.scope, `blocklists[${i}].scope`, out);
    b.entries.forEach((e, j) => {
      // Feeds carry host bits now and then; clearing them is safe, anything unparsable is not.
      if (!parseCidr(e))
        out.push({ path: `blocklists[${i}].entries[${j}]`, message: `not a CIDR: ${JSON.stringify(e)}` });
    });
  });

  const narrowed = new Set<string>();
  (policy.restrictions ?? []).forEach((r, i) => {
    const path = `restrictions[${i}]`;
    claimSet(r.name, `${path}.name`);
    known(r.services, `${path}.services`);
    r.services.forEach((s, j) => {
      if (!policy.internet.services.includes(s))
        out.push({ path: `${path}.services[${j}]`, message: `${s} is not open to the internet` });
      else if (narrowed.has(s))
        out.push({ path: `${path}.services[${j}]`, message: `${s} is restricted twice` });
      narrowed.add(s);
    });
    r.lists.forEach((l, j) => {
      if (!NAME.test(l.label))
        out.push({ path: `${path}.lists[${j}].label`, message: `bad label ${JSON.stringify(l.label)}` });
      l.entries.forEach((e, k) => {
        if (!parseCidr(e))
          out.push({
            path: `${path}.lists[${j}].entries[${k}]`,
            message: `not a CIDR: ${JSON.stringify(e)}`,
          });
      });
    });
  });
  // A port both open and restricted would be accepted by the open rule: the restriction would do nothing.
  const split = internetServices(policy);
  split.restricted.forEach(({ services }, i) => {
    if (overlaps(portsOf(policy, services), portsOf(policy, split.open)))
      out.push({
        path: `restrictions[${i}].services`,
        message: "shares a port with an internet service it does not restrict",
      });
  });

  const p = policy.protections;
  if (p.sipRateLimit) {
    const { perSecond, burst } = p.sipRateLimit;
    if (!Number.isInteger(perSecond) || perSecond < 1 || !Number.isInteger(burst) || burst < 0)
      out.push({ path: "protections.sipRateLimit", message: "perSecond ≥ 1 and burst ≥ 0, integers" });
    if (policy.sipServices.length === 0)
      out.push({
        path: "protections.sipRateLimit",
        message: "needs sipServices to know which ports to limit",
      });
  }
  if (p.synRateLimit) {
    const { perSecond, burst } = p.synRateLimit;
    if (!Number.isInteger(perSecond) || perSecond < 1 || !Number.isInteger(burst) || burst < 0)
      out.push({ path: "protections.synRateLimit", message: "perSecond ≥ 1 and burst ≥ 0, integers" });
  }
  if (policy.wan) {
    const seen = new Set<string>();
    policy.wan.interfaces.forEach((n, i) => {
      if (!INTERFACE_NAME.test(n))
        out.push({ path: `wan.interfaces[${i}]`, message: `bad interface name ${JSON.stringify(n)}` });
      else if (seen.has(n)) out.push({ path: `wan.interfaces[${i}]`, message: `duplicate interface ${n}` });
      seen.add(n);
    });
    if (policy.wan.bogons && policy.wan.interfaces.length === 0)
      out.push({ path: "wan.bogons", message: "needs wan.interfaces to know where the internet is" });
  }
  if (p.portScanTrap) {
    checkServicePorts(p.portScanTrap.bait, "protections.portScanTrap.bait", out);
    if (!Number.isInteger(p.portScanTrap.timeoutMs) || p.portScanTrap.timeoutMs < 1000)
      out.push({ path: "protections.portScanTrap.timeoutMs", message: "at least 1000 ms, an integer" });
    // Bait on an open port would trap every honest client of that service.
    const open = portsOf(policy, [...policy.internet.services, ...policy.zones.flatMap((z) => z.services)]);
    if (overlaps(p.portScanTrap.bait, open))
      out.push({
        path: "protections.portScanTrap.bait",
        message: "a bait port is also an open service port",
      });
  }
  return out;
}
