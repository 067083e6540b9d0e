// The User-Agents SIP scanners announce themselves with: config's default screening list and enforce's IR default.

/** Scanner tools seen in the seeds' honeypot rules and in fail2ban's asterisk filter notes. */
export const KNOWN_SCANNER_USER_AGENTS: readonly string[] = [
  "sipvicious",
  "friendly-scanner",
  "sipcli",
  "VaxSIPUserAgent",
  "iWar",
  "sip-scan",
  "sundayddr",
  "sipsak",
];
