// Builds the detection stages from a Config: filters per jail, the allowlist and the detector.

import { promises as dns } from "node:dns";
import { readFile } from "node:fs/promises";
import type { Config, JailConfig } from "../config/config.js";
import type { Clock } from "../domain/clock.js";
import { isUserError, UserError } from "../domain/errors.js";
import { createAllowlist, type Allowlist } from "../detect/allowlist.js";
import { createDetector, type Detector } from "../detect/detector.js";
import type { RegistrationJudge, RegistrationView } from "../detect/registration-view.js";
import type { Filter } from "../filters/filter.js";
import { resolveFilter } from "../filters/resolve.js";
import { amiSampleLines } from "../sources/ami-security.js";
import { eslSampleLines } from "../sources/esl-security.js";
import type { PipelineJail } from "./detection-pipeline.js";

export interface DetectionStages {
  readonly jails: readonly PipelineJail[];
  readonly allowlist: Allowlist;
  readonly detector: Detector;
}

/** A filter that fails to load is reported at the config key that named it. */
function loadJailFilter(config: Config, jail: string, spec: string): Filter {
  try {
    return resolveFilter(spec);
  } catch (e) {
    if (!isUserError(e)) throw e;
    const at = config.locate(["jails", jail, "filter"]);
    const where = e.location.file ? ` (${e.format()})` : "";
    throw new UserError(e.code, `jail "${jail}": ${e.message}${where}`, at);
  }
}

async function resolveBoth(name: string): Promise<string[]> {
  const [v4, v6] = await Promise.allSettled([dns.resolve4(name), dns.resolve6(name)]);
  const out = [
    ...(v4.status === "fulfilled" ? v4.value : []),
    ...(v6.status === "fulfilled" ? v6.value : []),
  ];
  if (out.length === 0) throw new Error(`${name} did not resolve`);
  return out;
}

export interface DetectionDeps {
  readonly clock: Clock;
  /** Live registrations: a registered address is judged by `registrationJudge` instead of banned. */
  readonly registrations?: RegistrationView;
  readonly registrationJudge?: RegistrationJudge;
  /** Entries added at run time; checked before the config's allowlist. */
  readonly extraAllow?: Pick<Allowlist, "match" | "overlapping">;
}

/** The config allowlist with run-time entries in front: both spare an address, the run-time one says so. */
function withExtra(base: Allowlist, extra: DetectionDeps["extraAllow"]): Allowlist {
  if (!extra) return base;
  return {
    ...base,
    match: (address) => extra.match(address) ?? base.match(address),
    overlapping: (network) => extra.overlapping(network) ?? base.overlapping(network),
  };
}

/** What each kind of link source writes, and what it is called in a refusal. */
const LINK_LINES = {
  ami: { what: "Asterisk's security events over AMI", filter: "asterisk", lines: amiSampleLines },
  esl: {
    what: "FreeSWITCH's register failures over the event socket",
    filter: "freeswitch",
    lines: eslSampleLines,
  },
} as const;

/**
 * A link source (AMI, ESL) writes lines of one fixed shape: a jail whose filter reads none of them would
 * never ban from it, without a word. Refused at the jail's sources.
 */
function checkLinkFilters(config: Config, jail: JailConfig, filter: Filter): void {
  for (const name of jail.sources) {
    const source = config.sources[name];
    if (source?.type !== "ami" && source?.type !== "esl") continue;
    const link = LINK_LINES[source.type];
    const now = Date.now();
    if (
      link.lines().some((line) => filter.match(line, { referenceTime: now, time: now }).status === "matched")
    )
      continue;
    throw new UserError(
      "SW_CONFIG_INVALID",
      `jail "${jail.name}": its filter ${jail.filter} reads none of the lines source "${name}" writes (${link.what}): use filter ${link.filter}, in this jail or one of its own`,
      config.locate(["jails", jail.name, "sources"]),
    );
  }
}

export async function composeDetection(config: Config, deps: DetectionDeps): Promise<DetectionStages> {
  const jails = config.jails.map((j) => {
    const filter = loadJailFilter(config, j.name, j.filter);
    checkLinkFilters(config, j, filter);
    return { name: j.name, filter, sources: j.sources };
  });
  // Trusted zones and trunks are never banned: their sources spare like allowlist entries.
  const trusted = config.firewall.zones.flatMap((z) => z.sources);
  const configAllowlist = await createAllowlist([...config.allowlist, ...trusted], {
    resolve: resolveBoth,
    readFile: (path) => readFile(path, "utf8"),
    clock: deps.clock,
  });
  const allowlist = withExtra(configAllowlist, deps.extraAllow);
  const detector = createDetector(
    {
      jails: config.jails.map((j) => ({
        name: j.name,
        filter: j.filter,
        maxretry: j.maxretry,
        findtimeMs: j.findtimeMs,
        bantimeMs: j.bantimeMs,
        scope: j.scope,
      })),
      escalation: config.escalation,
      recidive: config.recidive,
      ipv6Prefix: config.ipv6Prefix,
    },
    {
      allowlist,
      ...(deps.registrations ? { registrations: deps.registrations } : {}),
      ...(deps.registrationJudge ? { registrationJudge: deps.registrationJudge } : {}),
    },
  );
  return { jails, allowlist, detector };
}
