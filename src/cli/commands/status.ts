// `sipwarden status`: what the running daemon is doing — backend health, jails, sources, counts, lists.

import type { Status } from "../../api/contract.js";
import { formatDuration } from "../../domain/duration.js";
import { createApiViewCommand } from "../api-view-command.js";
import { plural, printable, linkHealthText, shortTime, table } from "../api-format.js";

export const statusCommand = createApiViewCommand<Status>({
  name: "status",
  usage: "sipwarden status [--json] [--socket PATH]",
  path: "/v1/status",
  format: formatStatus,
});

/** " (jail:asterisk 3, manual 1)", or nothing when there is no ban or no breakdown. */
function byOrigin(s: Status): string {
  const list = s.counts.activeBansByOrigin ?? [];
  return list.length === 0 ? "" : ` (${list.map((o) => `${printable(o.origin)} ${o.count}`).join(", ")})`;
}

/** ", registrations: 3 at 2 addresses", or nothing from a daemon that does not say. */
function registered(s: Status): string {
  const { registrations, registeredAddresses } = s.counts;
  if (registrations === undefined || registeredAddresses === undefined) return "";
  return `, registrations: ${registrations} at ${plural(registeredAddresses, "address", "addresses")}`;
}

export function formatStatus(s: Status): string {
  const b = s.backend;
  let out =
    `sipwarden ${printable(s.version)}, up ${s.uptimeS > 0 ? formatDuration(s.uptimeS * 1000) : "0s"}\n` +
    `backend: ${printable(b.name)} ${b.ok ? "ok" : "PROBLEM"} (${printable(b.detail)})\n` +
    `bans in force: ${s.counts.activeBans}${byOrigin(s)}, spared: ${s.counts.spares}, allowlist: ${plural(s.counts.allowlist, "entry", "entries")}${registered(s)}\n`;
  out += s.jails.length === 0 ? "jails: none\n" : "jails:\n";
  if (s.jails.length > 0)
    out += table(
      [
        ["NAME", "FILTER", "FAILURES", "BANS", "TRACKED"],
        ...s.jails.map((j) => [
          printable(j.name),
          printable(j.filter),
          `${j.failures}`,
          `${j.bans}`,
          `${j.tracked}`,
        ]),
      ],
      "  ",
    );
  out += s.sources.length === 0 ? "sources: none\n" : "sources:\n";
  if (s.sources.length > 0)
    out += table(
      [
        ["ID", "LINES", "ERRORS", "LAST LINE"],
        ...s.sources.map((x) => [
          printable(x.id),
          `${x.lines}`,
          `${x.errors}`,
          x.lastLineAt === null ? "-" : shortTime(x.lastLineAt),
        ]),
      ],
      "  ",
    );
  out += suspectLines(s);
  const links = s.sources.flatMap((x) => (x.link ? [{ id: x.id, ...x.link }] : []));
  if (links.length > 0) out += `source links: ${links.map(linkHealthText).join("; ")}\n`;
  if (s.lists.length > 0)
    out +=
      "lists:\n" +
      table(
        [
          ["NAME", "NETWORKS", "DOWNLOADED", "FROM"],
          ...s.lists.map((l) => [
            printable(l.name),
            `${l.networks}`,
            l.url === null
              ? "-"
              : `${l.downloadedAt === null ? "never" : shortTime(l.downloadedAt)}${l.downloadError === null ? "" : ` (last try: ${printable(l.downloadError)})`}`,
            l.database
              ? printable(
                  `${l.database.file} (${l.database.type || "mmdb"}${l.database.builtAt === null ? "" : ` built ${l.database.builtAt.slice(0, 10)}`})`,
                )
              : l.url === null
                ? "file"
                : printable(l.url),
          ]),
        ],
        "  ",
      );
  const h = s.banLatency;
  if (h !== undefined && h.count > 0) {
    const bound = (q: number): string => {
      const want = Math.ceil(q * h.count);
      const le = h.buckets.find((b) => b.count >= want)?.le;
      return le === null || le === undefined ? "more" : `${le * 1000} ms`;
    };
    out += `bans into the kernel: ${h.count}, half within ${bound(0.5)}, 99% within ${bound(0.99)}\n`;
  }
  for (const n of s.firewallNotes) out += `firewall note: ${printable(n)}\n`;
  const providers = s.registrationProviders ?? [];
  if (providers.length > 0) out += `registration providers: ${providers.map(linkHealthText).join("; ")}\n`;
  const f = s.fleet;
  if (f !== undefined)
    out +=
      `fleet: node ${printable(f.node)}, ${f.connected ? "connected" : "not connected"}${f.signed ? (f.signing === "node" ? ", signed by node keys" : ", signed") : ""}; ${f.published} published, ${f.received} received` +
      `${f.refused === 0 ? "" : `, ${f.refused} refused${f.lastRefused === null ? "" : ` (last: ${printable(f.lastRefused)})`}`}${f.pending === 0 ? "" : `, ${f.pending} waiting`}${f.dropped === 0 ? "" : `, ${f.dropped} dropped`}` +
      `${f.lastError === null ? "" : ` (last error: ${printable(f.lastError)})`}\n`;
  for (const n of s.notifications ?? [])
    out +=
      `${n.via === "abuseipdb" ? "report to" : "notify by"} ${printable(n.via)}: ${n.sent} sent, ${n.failed} failed` +
      `${n.skipped === undefined ? "" : `, ${n.skipped} not reported`}` +
      `${n.lastAt === null ? "" : `, last ${shortTime(n.lastAt)}`}${n.lastError === null ? "" : ` (last failure: ${printable(n.lastError)})`}\n`;
  return out;
}

/**
 * "suspect registrations: 1 since the start; not shielded now: 203.0.113.5 as 1001 (log:asterisk) at 12:03
 * after 10 failed logins, until …", or nothing when none was found or the daemon does not say.
 */
function suspectLines(s: Status): string {
  const r = s.suspectRegistrations;
  if (r === undefined || r.found === 0) return "";
  const marked = r.marked.map(
    (m) =>
      `${printable(m.address)} as ${printable(m.user)} (${printable(m.source)}) at ${shortTime(m.at)} after ${m.failures} failed logins, until ${shortTime(m.until)}`,
  );
  return `suspect registrations: ${r.found} since the start${marked.length === 0 ? "" : `; not shielded now: ${marked.join("; ")}`}\n`;
}
