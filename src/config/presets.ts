// Per-PBX presets: the log paths, services and jails each PBX needs, so a minimal config is three lines.

import type { PresetName, RawConfig } from "./schema.js";

const SIP = { ports: [5060], protocols: ["udp", "tcp"] } as const;
const SIP_TLS = { ports: [5061], protocols: ["tcp"] } as const;
const SSH = { ports: [22], protocols: ["tcp"] } as const;
const WEB = { ports: [80, 443], protocols: ["tcp"] } as const;

/**
 * sshd logs to the journal on Debian 12 (no rsyslog by default); OpenSSH 9.8+ logs authentication from
 * `sshd-session` (10.0: `sshd-auth` too). Matches on one field are alternatives to journalctl.
 */
const sshd: RawConfig = {
  services: { ssh: { ...SSH, ports: [...SSH.ports], protocols: [...SSH.protocols] } },
  sources: {
    sshd: {
      type: "journald",
      match: ["SYSLOG_IDENTIFIER=sshd", "SYSLOG_IDENTIFIER=sshd-session", "SYSLOG_IDENTIFIER=sshd-auth"],
    },
  },
  jails: { sshd: { filter: "sshd", sources: ["sshd"], services: ["ssh"] } },
};

function merge(...parts: RawConfig[]): RawConfig {
  const out: RawConfig = { services: {}, sources: {}, jails: {} };
  for (const p of parts) {
    Object.assign(out.services as object, p.services);
    Object.assign(out.sources as object, p.sources);
    Object.assign(out.jails as object, p.jails);
  }
  return out;
}

const asteriskServices: RawConfig["services"] = {
  sip: { ports: [...SIP.ports], protocols: [...SIP.protocols] },
  "sip-tls": { ports: [...SIP_TLS.ports], protocols: [...SIP_TLS.protocols] },
  iax2: { ports: [4569], protocols: ["udp"] },
  ami: { ports: [5038], protocols: ["tcp"] },
};

export const PRESETS: Readonly<Record<PresetName, RawConfig>> = {
  // Vanilla Asterisk: logger.conf's default `messages` channel carries NOTICE/WARNING (chan_sip, pjsip, AMI).
  asterisk: merge(sshd, {
    services: asteriskServices,
    sources: {
      asterisk: { type: "file", path: ["/var/log/asterisk/messages", "/var/log/asterisk/messages.log"] },
    },
    jails: {
      asterisk: { filter: "asterisk", sources: ["asterisk"], services: ["sip", "sip-tls", "iax2", "ami"] },
    },
  }),
  // FreePBX logs everything to `full` and GUI/UCP login failures to freepbx_security.log.
  freepbx: merge(sshd, {
    services: { ...asteriskServices, web: { ports: [...WEB.ports], protocols: [...WEB.protocols] } },
    sources: {
      asterisk: { type: "file", path: "/var/log/asterisk/full" },
      "freepbx-security": { type: "file", path: "/var/log/asterisk/freepbx_security.log" },
    },
    jails: {
      asterisk: { filter: "asterisk", sources: ["asterisk"], services: ["sip", "sip-tls", "iax2", "ami"] },
      freepbx: { filter: "freepbx", sources: ["freepbx-security"], services: ["web"] },
    },
  }),
  // FreeSWITCH: internal profile on 5060, external (carriers) on 5080.
  freeswitch: merge(sshd, {
    services: {
      sip: { ports: [5060, 5080], protocols: ["udp", "tcp"] },
      "sip-tls": { ports: [5061, 5081], protocols: ["tcp"] },
    },
    sources: { freeswitch: { type: "file", path: "/var/log/freeswitch/freeswitch.log" } },
    jails: { freeswitch: { filter: "freeswitch", sources: ["freeswitch"], services: ["sip", "sip-tls"] } },
  }),
  // FusionPBX = FreeSWITCH + a PHP web GUI that logs failed logins through syslog, and a dialplan that logs
  // "[inbound routes] 404 not found <IP>" in freeswitch.log for calls to numbers it does not serve (as
  // FusionPBX's own fail2ban setup does, counted as a SIP attack: the scanners' toll-fraud probe).
  fusionpbx: merge(sshd, {
    services: {
      sip: { ports: [5060, 5080], protocols: ["udp", "tcp"] },
      "sip-tls": { ports: [5061, 5081], protocols: ["tcp"] },
      web: { ports: [...WEB.ports], protocols: [...WEB.protocols] },
    },
    sources: {
      freeswitch: { type: "file", path: "/var/log/freeswitch/freeswitch.log" },
      fusionpbx: { type: "journald", match: ["SYSLOG_IDENTIFIER=FusionPBX"] },
    },
    jails: {
      freeswitch: { filter: "freeswitch", sources: ["freeswitch"], services: ["sip", "sip-tls"] },
      // One filter, one kind of line per jail (see filters/fusionpbx.conf's modes).
      fusionpbx: { filter: "fusionpbx[mode=web]", sources: ["fusionpbx"], services: ["web"] },
      "fusionpbx-404": {
        filter: "fusionpbx[mode=dialplan]",
        sources: ["freeswitch"],
        services: ["sip", "sip-tls"],
      },
    },
  }),
  // Kamailio logs through syslog; the auth-failure lines are the ones docs/filters.md recommends.
  kamailio: merge(sshd, {
    services: {
      sip: { ports: [...SIP.ports], protocols: [...SIP.protocols] },
      "sip-tls": { ports: [...SIP_TLS.ports], protocols: [...SIP_TLS.protocols] },
    },
    sources: { kamailio: { type: "journald", match: ["SYSLOG_IDENTIFIER=kamailio"] } },
    jails: { kamailio: { filter: "kamailio", sources: ["kamailio"], services: ["sip", "sip-tls"] } },
  }),
};

/** Which preset fits this host, judged by the log files the PBX leaves; null when none is found. */
export function detectPreset(exists: (path: string) => boolean): PresetName | null {
  if (exists("/var/log/asterisk/freepbx_security.log") || exists("/etc/freepbx.conf")) return "freepbx";
  if (exists("/var/www/fusionpbx")) return "fusionpbx";
  if (exists("/var/log/freeswitch/freeswitch.log")) return "freeswitch";
  if (exists("/var/log/asterisk")) return "asterisk";
  if (exists("/etc/kamailio/kamailio.cfg")) return "kamailio";
  return null;
}
