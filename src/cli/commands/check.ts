// `sipwarden check`: validates the config (schema, rules, filters, allowlist) and shows what it sets up.

import { suspectSettingText } from "../../daemon/suspect-watch.js";
import { linkSourceNames, type Config, type SmtpVia, type SourceConfig } from "../../config/config.js";
import { reportKey } from "../../daemon/abuse-report.js";
import { planSmtpTls, readSmtpFiles, SmtpFileError } from "../../daemon/smtp-send.js";
import { readAtKey, readSecretLine } from "../../domain/secret-file.js";
import { webhookUrl } from "../../daemon/webhook-send.js";
import { checkFleetFiles, fleetText } from "../../fleet/fleet-config-check.js";
import { banScopeText } from "../../domain/decision.js";
import { UserError } from "../../domain/errors.js";
import { formatDuration } from "../../domain/duration.js";
import { systemClock } from "../../domain/clock.js";
import { composeDetection } from "../../daemon/compose-detection.js";
import type { FirewallPolicy } from "../../enforce/policy.js";
import { renderIpsetScripts, renderIptablesScript } from "../../enforce/iptables/render.js";
import { renderStandaloneSip } from "../../enforce/iptables/sip-script.js";
import { renderNftScript } from "../../enforce/nftables/render.js";
import { portsOf } from "../../enforce/policy.js";
import type { BackendKind } from "../../enforce/try-apply.js";
import { HELP_OPTION, helpShown, parseCommandArgs } from "../args.js";
import { preparePolicy } from "../../daemon/compose-firewall.js";
import type { DatabaseInfo } from "../../enforce/geoip/read-database.js";
import { parseBackend } from "./apply.js";
import { chooseConfig, CONFIG_OPTIONS } from "../config-arg.js";
import type { CliIo } from "../io.js";

/** ", through proxy host:port" with any credentials left out, or nothing. */
function throughProxy(proxy: string | null): string {
  return proxy === null ? "" : `, through proxy ${new URL(proxy).host}`;
}

/**
 * "SMTP host:port (STARTTLS, login user)": how mail leaves, its password never shown. The password and CA
 * files are read now, so that an unreadable one is an error of `check` rather than of the first ban's mail.
 */
function smtpText(via: SmtpVia, config: Config): string {
  const plan = planSmtpTls(via);
  const tls = plan.implicit
    ? "TLS"
    : plan.requireStartTls
      ? "STARTTLS required"
      : plan.ignoreStartTls
        ? "no TLS"
        : "STARTTLS when offered";
  try {
    readSmtpFiles(via);
  } catch (e) {
    if (!(e instanceof SmtpFileError)) throw e;
    throw new UserError("SW_CONFIG_INVALID", e.message, config.locate(["notify", "email", ...e.key]));
  }
  const extras = [
    tls,
    ...(via.caFile === null ? [] : [`CA ${via.caFile}`]),
    ...(via.auth === null ? [] : [`login ${via.auth.user}`]),
  ];
  return `SMTP ${via.host}:${via.port} (${extras.join(", ")})`;
}

const USAGE = "sipwarden check [--config FILE | --preset NAME] [--backend nftables|iptables]";

/**
 * The scripts `apply` would feed the tools on a host without any sipwarden state yet: nothing here runs
 * them. nftables: the nft script, then the SIP inspection's ipsets and iptables-nft rules.
 */
/** What each kind of source reads, as check shows it (a secret or password never). */
const SOURCE_TEXT: { [K in SourceConfig["type"]]: (s: Extract<SourceConfig, { type: K }>) => string } = {
  file: (s) => s.paths.join(", "),
  journald: (s) => `journald ${s.match.join(" ")}`,
  ami: (s) => `Asterisk security events over AMI from ${s.host}:${s.port} as ${s.username}`,
  esl: (s) => `FreeSWITCH auth failures over the event socket from ${s.host}:${s.port}`,
};

function sourceText(s: SourceConfig): string {
  return (SOURCE_TEXT[s.type] as (s: SourceConfig) => string)(s);
}

export function renderRuleset(policy: FirewallPolicy, kind: BackendKind): string {
  const part = (title: string, text: string): string => (text ? `# --- ${title} ---\n${text}` : "");
  if (kind === "iptables")
    return [
      part("ipset restore", renderIpsetScripts(policy, new Set()).prepare),
      part("iptables-restore --noflush", renderIptablesScript(policy, 4)),
      part("ip6tables-restore --noflush", renderIptablesScript(policy, 6)),
    ].join("");
  const out = [part("nft -f", renderNftScript(policy))];
  const sip = policy.sipInspection;
  if (sip) {
    const r = renderStandaloneSip(
      {
        sip,
        sipPorts: portsOf(policy, sip.services),
        exempt: [...policy.zones.flatMap((z) => z.sources), ...policy.allowlist],
      },
      new Set(),
      { 4: {}, 6: {} },
    );
    out.push(
      part("SIP inspection: ipset restore", r.sets.prepare),
      part("SIP inspection: iptables-restore --noflush", r.v4),
      part("SIP inspection: ip6tables-restore --noflush", r.v6),
    );
  }
  return out.join("");
}

export async function checkCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(
    "check",
    args,
    {
      ...CONFIG_OPTIONS,
      backend: { type: "string" },
      ...HELP_OPTION,
    },
    { min: 0, max: 0, usage: USAGE },
  );
  if (helpShown(values, io, USAGE)) return 0;
  const { config, how } = chooseConfig(values, io.env, null);
  const stages = await composeDetection(config, { clock: systemClock });
  const lines = [`config: ${how}`, `state: ${config.stateDir}`, "sources:"];
  for (const s of Object.values(config.sources)) lines.push(`  ${s.name}: ${sourceText(s)}`);
  lines.push("jails:");
  // IPv6 failures also count per network of this length, whose bans go in the ban sets' network sets.
  const perNetwork = config.ipv6Prefix < 128 ? ` (per address, and per IPv6 /${config.ipv6Prefix})` : "";
  const links = linkSourceNames(config);
  for (const j of config.jails) {
    const ban = j.bantimeMs === null ? "permanent" : formatDuration(j.bantimeMs);
    const linked = j.sources.filter((s) => links.has(s));
    const paired =
      linked.length > 0 && linked.length < j.sources.length
        ? ` (a failure seen over ${linked.join(", ")} and in another counts once)`
        : "";
    lines.push(
      `  ${j.name}: filter ${j.filter}, ${j.maxretry} in ${formatDuration(j.findtimeMs)}${perNetwork} → ban ${ban} on ${banScopeText(j.scope)}; reads ${j.sources.join(", ")}${paired}`,
    );
  }
  const e = config.escalation;
  lines.push(
    `escalation: ${e.enabled ? `×${e.factor} per prior ban up to ${formatDuration(e.maxBantimeMs)}, remembered ${formatDuration(e.memoryMs)}` : "off"}`,
  );
  const r = config.recidive;
  lines.push(
    `recidive: ${r.enabled ? `${r.maxretry} bans in ${formatDuration(r.findtimeMs)} → ${r.bantimeMs === null ? "permanent" : formatDuration(r.bantimeMs)} on all ports` : "off"}`,
  );
  lines.push(`allowlist: ${config.allowlist.length === 0 ? "(empty)" : config.allowlist.join(", ")}`);
  lines.push(`suspect registrations: ${suspectSettingText(config.registrations.suspect)}`);
  const n = config.notify;
  if (n) {
    const via = [
      ...(n.email
        ? [
            `mail to ${n.email.to.join(", ")} via ${n.email.via.kind === "smtp" ? smtpText(n.email.via, config) : n.email.via.argv.join(" ")}`,
          ]
        : []),
      ...(n.command ? [`${n.command.join(" ")} (JSON on stdin)`] : []),
      ...(n.webhook ? [webhookText(n.webhook, config)] : []),
    ];
    const pace = n.batchMs === 0 ? "each batch at once" : `at most one per ${formatDuration(n.batchMs)}`;
    const topics =
      n.on.length < 3 ? n.on.join(" and ") : `${n.on.slice(0, -1).join(", ")} and ${n.on.at(-1)}`;
    const links = n.on.includes("link") ? ` (links down ${formatDuration(n.linkDownAfterMs)})` : "";
    lines.push(`notify: ${topics}${links} → ${via.join("; ")}; ${pace}`);
  }
  const report = config.report?.abuseipdb;
  if (report) {
    readAtKey(() => reportKey(report), config.locate(["report", "abuseipdb", "key_file"]));
    const categories =
      report.categories === null ? "by jail (sshd 18,22; else 8,18)" : report.categories.join(",");
    lines.push(
      `report: jail bans of public addresses to ${new URL(report.url).host} (categories ${categories}), at most ${report.maxPerDay} a day`,
    );
  }
  if (config.fleet) {
    checkFleetFiles(config);
    lines.push(`fleet: ${fleetText(config.fleet)}`);
  }
  for (const p of stages.allowlist.problems()) lines.push(`  warning: ${p.where}: ${p.entry}: ${p.message}`);
  const kind = parseBackend(values.backend, config);
  const { policy, warnings, countryDatabase, listDatabases } = await preparePolicy(config);
  const fw = config.firewall;
  lines.push(
    `firewall: ${kind}, ${fw.families.join("+")}; open to the internet: ${fw.open.join(", ") || "nothing"}`,
  );
  for (const z of fw.zones)
    lines.push(
      `  ${z.kind === "network" ? "zone" : "host"} ${z.name}: ${z.sources.join(", ")} → ${z.services.join(", ")}`,
    );
  lines.push(`  ban sets: ${policy.banSets.map((b) => `${b.name} (${banScopeText(b.scope)})`).join(", ")}`);
  if (policy.networkBanPrefix6 !== undefined)
    lines.push(`  IPv6 network bans: /${policy.networkBanPrefix6} networks in each ban set`);
  for (const b of policy.blocklists) {
    const from = fw.blocklists.find((x) => x.name === b.name);
    const fetched = from?.url
      ? `, downloaded from ${from.url} every ${formatDuration(from.refreshMs)}${throughProxy(config.httpProxy)}`
      : "";
    const db = listDatabases.get(b.name);
    const asns =
      db && from?.asns
        ? `, the networks of ${from.asns.map((a) => `AS${a}`).join(", ")} in ${databaseText(db)}`
        : "";
    lines.push(
      `  blocklist ${b.name}: ${b.entries.length} entries on ${banScopeText(b.scope)}${fetched}${asns}`,
    );
  }
  for (const r of policy.restrictions ?? [])
    lines.push(
      `  ${r.services.join(", ")} open only to ${r.name}: ${r.lists.map((l) => `${l.label} (${l.entries.length} network${l.entries.length === 1 ? "" : "s"})`).join(", ")}`,
    );
  if (countryDatabase) lines.push(`  countries from ${databaseText(countryDatabase)}`);
  for (const w of warnings) lines.push(`  warning: ${w}`);
  io.stdout(lines.join("\n") + "\nconfig OK\n\n" + renderRuleset(policy, kind));
  return 0;
}

/** `/var/lib/GeoIP/GeoLite2-Country.mmdb (GeoLite2-Country built 2026-12-01, 512340 networks in all)`. */
function databaseText(db: DatabaseInfo): string {
  const built =
    db.metadata.builtAt === null ? "" : ` built ${new Date(db.metadata.builtAt).toISOString().slice(0, 10)}`;
  return `${db.file} (${db.metadata.databaseType || "a MaxMind DB"}${built}, ${db.networks} networks in all)`;
}

/**
 * `webhook https://hooks.slack.com (slack, token)`: the host only (a chat's webhook URL is a secret), after
 * reading the URL and token files as a send would.
 */
function webhookText(w: NonNullable<NonNullable<Config["notify"]>["webhook"]>, config: Config): string {
  const key = "file" in w.url ? "url_file" : "url";
  const url = readAtKey(() => webhookUrl(w), config.locate(["notify", "webhook", key]));
  if (w.tokenFile !== null)
    readAtKey(
      () => readSecretLine(w.tokenFile as string, "webhook token file"),
      config.locate(["notify", "webhook", "token_file"]),
    );
  return `webhook ${url.protocol}//${url.host} (${w.format}${w.tokenFile === null ? "" : ", with a token"})`;
}
