// The control API's wire types: the one file the CLI and the web dashboard share with the daemon.
//
// Self-contained on purpose (no imports): the dashboard bundles this file alone. Times are ISO 8601
// UTC strings; `null` for an expiry means permanent. Text under `line` keys is attacker-controlled.

export const API_PREFIX = "/v1";

/** Where a ban applies; the same shape as the domain's BanScope. */
export type ScopeView =
  | { readonly kind: "all" }
  | {
      readonly kind: "service";
      readonly protocols: readonly ("tcp" | "udp" | "sctp")[];
      readonly ports: readonly { readonly from: number; readonly to: number }[];
    };

export interface EvidenceView {
  /** ISO time the line was written (event time). */
  readonly time: string;
  /** Log source, e.g. `/var/log/asterisk/full`. */
  readonly source: string;
  readonly lineNo?: number;
  /** The log line as read: attacker-controlled text, print it as data. */
  readonly line: string;
}

export interface BackendView {
  /** `nftables`, `iptables`, `memory`, ... */
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface JailView {
  readonly name: string;
  readonly filter: string;
  /** Failures counted since the daemon started. */
  readonly failures: number;
  /** Bans issued since the daemon started. */
  readonly bans: number;
  /** Addresses with failures inside the jail's find window now. */
  readonly tracked: number;
  /**
   * Failures seen twice, over a PBX link (AMI, ESL) and in the PBX's log, and counted once: not in
   * `failures`. Absent from older daemons.
   */
  readonly echoes?: number;
}

export interface SourceView {
  readonly id: string;
  readonly lines: number;
  readonly errors: number;
  /** ISO time the last line was read, or null when none yet. */
  readonly lastLineAt: string | null;
  /** A source read over a link to the PBX (AMI, ESL): its state. Absent for files and the journal. */
  readonly link?: LinkView;
}

/** A list the firewall policy loaded: a blocklist or the country restriction. */
export interface ListView {
  /** `blocklist voipbl`, `countries de, at`. */
  readonly name: string;
  /** Networks in force now (0 for a restriction left out). */
  readonly networks: number;
  /** Where the daemon downloads it from (the first URL for countries), or null. */
  readonly url: string | null;
  /** ISO time of the last download that replaced or confirmed the file, or null. */
  readonly downloadedAt: string | null;
  /** Why the last download failed, or null when it did not. */
  readonly downloadError: string | null;
  /** The geolocation/ASN database (.mmdb) it was read from at the last apply; absent for a list file. */
  readonly database?: {
    readonly file: string;
    /** e.g. `GeoLite2-Country`. */
    readonly type: string;
    /** ISO time the database says it was built, or null. */
    readonly builtAt: string | null;
  };
}

export interface Status {
  readonly version: string;
  readonly uptimeS: number;
  readonly backend: BackendView;
  readonly jails: readonly JailView[];
  readonly sources: readonly SourceView[];
  readonly counts: {
    /** Bans in force (all origins). */
    readonly activeBans: number;
    /** The same per origin (`jail:asterisk`, `manual`, `feed:…`), by origin; absent from older daemons. */
    readonly activeBansByOrigin?: readonly { readonly origin: OriginView; readonly count: number }[];
    /** Spare decisions retained (bans the allowlist or a registration prevented). */
    readonly spares: number;
    /** Allowlist entries (config, files, resolved names, runtime allows). */
    readonly allowlist: number;
    /** Registrations held (all providers and log lines; expired ones leave within a minute), and their addresses. */
    readonly registrations?: number;
    readonly registeredAddresses?: number;
  };
  readonly lists: readonly ListView[];
  /** What the last firewall apply warned about: bad list lines, unreadable lists, a restriction left out. */
  readonly firewallNotes: readonly string[];
  /** Notifications per way (`email`, `command`) since the daemon started; empty when none is configured. */
  readonly notifications?: readonly NotificationView[];
  /** Seconds from each ban decided to it in force in the kernel, since the daemon started. */
  readonly banLatency?: HistogramView;
  /** The link to the fleet (bans shared through Redis) since the daemon started; absent when alone. */
  readonly fleet?: FleetView;
  /** The live-registration providers configured; absent from older daemons. */
  readonly registrationProviders?: readonly ProviderView[];
  /**
   * Registrations after many failed logins from their address (a guessed password?) found since the start,
   * and those whose address is not shielded from bans now; absent from older daemons and when turned off.
   */
  readonly suspectRegistrations?: {
    readonly found: number;
    readonly marked: readonly SuspectRegistrationView[];
  };
}

export interface SuspectRegistrationView {
  readonly address: string;
  /** The account that registered: SIP text, print it inert. */
  readonly user: string;
  readonly source: string;
  readonly at: string;
  /** Until when its address is not shielded from bans. */
  readonly until: string;
  /** Failures within the lookback before it (at most the configured threshold is counted). */
  readonly failures: number;
  readonly accounts: readonly string[];
  readonly jail: string;
  /** When an admin cleared it (`until` is then that time); absent when not cleared. */
  readonly clearedAt?: string;
}

/** GET /v1/registrations/suspects: the suspect registrations kept, in force or over, the newest first. */
export interface SuspectList {
  readonly suspects: readonly SuspectRegistrationView[];
}

/** Suspect registrations listed at most, and by default. */
export const MAX_SUSPECT_LIMIT = 10_000;
export const DEFAULT_SUSPECT_LIMIT = 100;

export interface FleetView {
  /** This node's name, the origin other nodes record (`fleet:<node>`). */
  readonly node: string;
  readonly connected: boolean;
  /** Messages are signed, and only signed ones taken (fleet.secret_file, or identity_file and peers_file). */
  readonly signed: boolean;
  /** How, when signed: a key the fleet shares, or each node's own key. Absent from older daemons. */
  readonly signing?: "shared" | "node";
  /** Messages this node published; other nodes' read; stream entries refused as invalid. */
  readonly published: number;
  readonly received: number;
  readonly refused: number;
  /** Why the last entry was refused (not signed, a key this node does not hold, …), or null. */
  readonly lastRefused: string | null;
  /** Messages waiting for Redis to come back, and those dropped because too many waited. */
  readonly pending: number;
  readonly dropped: number;
  readonly lastError: string | null;
}

/** Cumulative buckets (`le` in seconds; the last is null for +Inf), their sum and count. */
export interface HistogramView {
  readonly buckets: readonly { readonly le: number | null; readonly count: number }[];
  readonly sum: number;
  readonly count: number;
}

export interface NotificationView {
  /** `email`, `command`, `webhook`, or `abuseipdb` (reports of jail bans). */
  readonly via: string;
  readonly sent: number;
  readonly failed: number;
  /** Reports only: bans not reported (a private address, the same one within 15 minutes, the day's quota). */
  readonly skipped?: number;
  /** ISO time of the last attempt, or null. */
  readonly lastAt: string | null;
  /** Why the last attempt failed (the program's exit and stderr), or null when it worked. */
  readonly lastError: string | null;
}

/** `jail:<name>`, `feed:<name>`, `fleet:<node>` or `manual`. */
export type OriginView = string;

export interface BanView {
  /** Canonical IP or CIDR. */
  readonly target: string;
  readonly origin: OriginView;
  readonly reason: string;
  readonly scope: ScopeView;
  /** ISO time the ban was decided. */
  readonly at: string;
  /** ISO time the ban ends, or null when permanent. */
  readonly expiresAt: string | null;
  readonly evidence: readonly EvidenceView[];
  /** Where the configured .mmdb databases place the target (a network: its first address); absent: unknown. */
  readonly located?: Located;
}

export type ReasonKind = "decision" | "allowlist" | "feed" | "restriction" | "registration" | "trusted-zone";

/** One thing that bears on whether an address is blocked. */
export interface ExplainReason {
  readonly kind: ReasonKind;
  /**
   * Who says so: `jail:asterisk`, `feed:voipbl`, `manual`, `config`, `/etc/sipwarden/allow.txt:3`, `ami`,
   * `restriction:countries`.
   */
  readonly origin: string;
  /** One human sentence: the decision's reason, the allowlist entry that matched, ... */
  readonly detail: string;
  /** The IP/CIDR/name that matched the address, when there is one (a ban on a /24 covers its hosts). */
  readonly target?: string;
  readonly scope?: ScopeView;
  /** ISO expiry, null when permanent; absent when expiry does not apply. */
  readonly expiresAt?: string | null;
  readonly evidence?: readonly EvidenceView[];
}

/** A decision that no longer blocks (expired, ended by an unban or allow), or a spare. */
export interface HistoryEntry {
  readonly action: "ban" | "spare";
  readonly target: string;
  readonly origin: OriginView;
  readonly reason: string;
  readonly scope: ScopeView;
  readonly at: string;
  readonly expiresAt: string | null;
  /** ISO time an unban or allow ended it early; null when it ran its course (or is a spare). */
  readonly endedAt: string | null;
  readonly endedBy: string | null;
  readonly evidence: readonly EvidenceView[];
}

/** A decision of the recent past, in force or over. */
export interface RecentDecision extends HistoryEntry {
  /** The decision's number on this node: later recorded, larger (what `after` takes). */
  readonly id: number;
  /** A ban still in force (not expired, not ended); false for spares. */
  readonly inForce: boolean;
}

/**
 * GET /v1/decisions[?since=ISO][&limit=N][&action=ban|spare][&origin=jail:asterisk|jail:][&before=CURSOR|&after=ID]
 *
 * Newest first; `before` (a `next` of the page before) gives the page after it. With `after=ID` instead:
 * the decisions recorded after decision ID, in the order recorded, whatever their time says (another
 * node's ban or an import is recorded after its time): what an export reads, asking again with `next`.
 */
export interface DecisionList {
  /** Since when (ISO; default: a day back, or with `after` everything kept). */
  readonly since: string;
  /** `newest-first`, or with `after` `recorded` (the order recorded, oldest first). */
  readonly order: "newest-first" | "recorded";
  readonly decisions: readonly RecentDecision[];
  /** More decisions matched than `limit`. */
  readonly more: boolean;
  /**
   * Where the next page starts. Newest first: the `before` of the next page when there are more, else
   * null. With `after`: the `after` to ask with next (the last decision listed, or the one asked with).
   */
  readonly next: string | null;
  /** The id of the decision recorded last (0 before the first): `after` it, an export starts from now. */
  readonly lastId: number;
}

/** Decisions listed by default, and at most. */
export const DEFAULT_DECISION_LIMIT = 100;
export const MAX_DECISION_LIMIT = 5000;

export type Verdict = "blocked" | "allowed" | "not-blocked";

export interface ExplainResult {
  /** Canonical address asked about. */
  readonly address: string;
  /**
   * `allowed`: an allowlist entry or trusted zone matches; it wins over every ban and feed.
   * `blocked`: a ban or feed entry in force covers the address, or it is outside a restriction (a country
   * allow-list) of some services. `not-blocked`: none of these.
   */
  readonly verdict: Verdict;
  /** What decides the verdict first (allow entries when allowed, bans when blocked), then the rest. */
  readonly because: readonly ExplainReason[];
  /** Past decisions, newest first. */
  readonly history: readonly HistoryEntry[];
  /** Where the configured .mmdb databases place the address; absent when none is configured or knows it. */
  readonly located?: Located;
}

/** An address's country (upper case, from `firewall.countries.database`) and AS (from an ASN blocklist's database). */
export interface Located {
  readonly country?: string;
  readonly asn?: string;
}

export interface BanRequest {
  /** IP or CIDR. */
  readonly target: string;
  /** Ban length in ms; null: permanent; absent: the daemon's default for manual bans. */
  readonly forMs?: number | null;
  readonly reason?: string;
}

export interface AllowRequest {
  /** IP or CIDR. */
  readonly target: string;
  /** How long the entry lasts in ms; absent or null: until removed. */
  readonly forMs?: number | null;
}

/** GET /v1/bans */
export interface BanList {
  readonly bans: readonly BanView[];
}

/** POST /v1/bans (201) */
export interface BanCreated {
  readonly ban: BanView;
}

/** DELETE /v1/bans/:target */
export interface BanRemoved {
  /** The bans the unban ended (at least one; none is a 404). */
  readonly removed: readonly BanView[];
}

/** One allow entry: it wins over every ban and feed on the addresses it covers. */
export interface AllowEntryView {
  /** Canonical IP or CIDR covered (a DNS name has one entry per address it resolved to). */
  readonly network: string;
  /** As written: the IP or CIDR, or the DNS name. */
  readonly entry: string;
  /** `manual` (sipwarden allow), `config` (the allowlist, a file it names, a trusted zone). */
  readonly origin: "manual" | "config";
  /**
   * Where it comes from: `allowed by hand` (`allowed by hand on pbx-7`: that fleet node's admin), `config`,
   * `zone office`, `/etc/sipwarden/allow.txt:3`, `resolved 203.0.113.5`.
   */
  readonly detail: string;
  /** ISO time it was added (manual entries), else null. */
  readonly addedAt: string | null;
  /** ISO time it ends, or null: until removed (manual) or as long as the config says so. */
  readonly expiresAt: string | null;
}

/** GET /v1/allow */
export interface AllowList {
  /** Manual entries first (oldest first), then the config's in the order loaded. */
  readonly entries: readonly AllowEntryView[];
  /** What the last load of the config's allowlist skipped: an unreadable file, a name that did not resolve. */
  readonly problems: readonly {
    readonly entry: string;
    readonly where: string;
    readonly message: string;
    readonly at: string;
  }[];
}

/** One live registration: a customer's phone, whose address is not banned for a typo. */
export interface RegistrationView {
  /** Who reported it: `ami:pjsip`, `esl`, `kamailio`, `log:asterisk`, ... */
  readonly source: string;
  readonly address: string;
  readonly user: string;
  readonly contact?: string;
  /** ISO times: when it ends unless renewed, and when it was last seen. */
  readonly expiresAt: string;
  readonly seenAt: string;
  /**
   * Present when its address does not shield from bans: a suspect registration (after many failed logins from
   * the address) until this ISO time.
   */
  readonly suspectUntil?: string;
}

/** GET /v1/registrations[?address=IP|CIDR][&match=text][&limit=N] */
export interface RegistrationList {
  /** Live registrations that pass the query, and how many of them are listed (at most `limit`). */
  readonly total: number;
  readonly registrations: readonly RegistrationView[];
  /** Each live-registration provider: whether it is up, and its counters. */
  readonly providers: readonly ProviderView[];
}

/** A link to the PBX (AMI, ESL, Kamailio RPC), as a registration provider or a source uses it. */
export interface LinkView {
  /**
   * Connected and logged in (AMI, ESL), or its last poll worked (Kamailio). While it is down, what it
   * carries goes unseen: phones that register meanwhile (not protected), failures (not banned). Alert on it.
   */
  readonly up: boolean;
  /** ISO time it last went up or down, or null before its first attempt ended. */
  readonly since: string | null;
  /** Why it last went down or could not come up, or null. */
  readonly lastError: string | null;
}

/** A live-registration provider (AMI, ESL, Kamailio RPC). */
export interface ProviderView extends LinkView {
  readonly id: string;
  /** Its counters since the daemon started (connects, logins, events, polls, failures, ...). */
  readonly stats: Readonly<Record<string, number>>;
}

/** Registrations listed by default, and at most. */
export const DEFAULT_REGISTRATION_LIMIT = 1000;
export const MAX_REGISTRATION_LIMIT = 100_000;

/**
 * DELETE /v1/registrations/suspects/<ip>: the suspect registration an admin cleared (checked: the customer's);
 * its `until` is the moment it was cleared, from which its address is shielded again.
 */
export interface SuspectCleared {
  readonly cleared: SuspectRegistrationView;
}

/** DELETE /v1/allow/<target>: the run-time allow entries it removed. */
export interface AllowRemoved {
  readonly removed: readonly { readonly target: string; readonly expiresAt: string | null }[];
}

/** POST /v1/allow (201) */
export interface AllowCreated {
  readonly target: string;
  readonly expiresAt: string | null;
  /** Bans in force that the new entry covers; the daemon lifted them, since allow entries win. */
  readonly unbanned: readonly BanView[];
}

export type ApiErrorCode =
  | "bad-request"
  | "invalid-target"
  | "unauthorized"
  | "not-found"
  | "method-not-allowed"
  | "conflict"
  | "payload-too-large"
  | "unsupported-media-type"
  | "internal";

/** Every non-2xx answer. */
export interface ApiError {
  readonly error: { readonly code: ApiErrorCode; readonly message: string };
}

/** One ban another tool enforces (fail2ban's database), taken over as it stands. */
export interface ImportedBanRequest {
  /** IP or CIDR. */
  readonly target: string;
  /** ISO time the other tool banned it. */
  readonly at: string;
  /** ISO time its ban ends, or null when permanent. */
  readonly expiresAt: string | null;
  /** One sentence: where it comes from (`fail2ban jail asterisk`). */
  readonly reason: string;
  /** Bans of the target before this one, by the other tool's count (escalation goes on from there). */
  readonly priorBans: number;
  /** The log lines the other tool kept for it, oldest first. */
  readonly evidence: readonly { readonly source: string; readonly line: string }[];
}

/** Bans per import request, and evidence lines per ban. */
export const MAX_IMPORT_BANS = 2000;
export const MAX_IMPORT_EVIDENCE = 10;

/** POST /v1/bans/import */
export interface ImportBansRequest {
  readonly bans: readonly ImportedBanRequest[];
}

/** POST /v1/bans/import (200): how many were taken over, and each one left out with why. */
export interface ImportBansResult {
  readonly imported: number;
  readonly skipped: readonly { readonly target: string; readonly why: string }[];
}
