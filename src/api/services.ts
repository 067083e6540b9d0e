// What the daemon provides to the control API; the API validates every request before calling these.

import type { Cidr, IpAddress } from "../domain/address.js";
import type { Evidence } from "../domain/offense.js";
import type {
  AllowCreated,
  AllowList,
  AllowRemoved,
  BanView,
  DecisionList,
  ExplainResult,
  ImportBansResult,
  RegistrationList,
  Status,
  SuspectCleared,
  SuspectList,
} from "./contract.js";
import type { RegistrationQuery } from "./registration-list.js";

/** A manual ban, validated: the target parsed and canonical, the length checked. */
export interface ControlBan {
  readonly target: Cidr;
  /** ms; null: permanent; undefined: the daemon's default length for manual bans. */
  readonly forMs: number | null | undefined;
  readonly reason: string | undefined;
}

/** A ban another tool enforces, validated: taken over as a `manual` ban for the time it has left. */
export interface ControlImport {
  readonly target: Cidr;
  readonly at: number;
  readonly expiresAt: number | null;
  readonly reason: string;
  readonly priorBans: number;
  readonly evidence: readonly Evidence[];
}

/** GET /v1/decisions, validated. */
export interface ControlDecisionQuery {
  /** Epoch ms; undefined: a day back. */
  readonly since?: number;
  readonly limit: number;
  readonly action?: "ban" | "spare";
  /** An origin, or with a trailing `:` a kind of origin. */
  readonly origin?: string;
  /** The page after this decision in the newest-first list (a DecisionList's `next`). */
  readonly before?: { readonly at: number; readonly id: number };
  /** The decisions recorded after this id, oldest first (without `since`: all those kept). */
  readonly after?: number;
}

/** A runtime allowlist entry, validated. */
export interface ControlAllow {
  readonly target: Cidr;
  /** ms; null or undefined: until removed. */
  readonly forMs: number | null | undefined;
}

/**
 * The daemon's side of the API. Implementations throw ControlRefusal for requests that are valid but
 * cannot be done (→ 4xx); anything else thrown is a bug (→ 500, logged).
 */
export interface ControlServices {
  status(): Promise<Status>;
  /** Bans in force, all origins, oldest first. */
  listBans(): Promise<BanView[]>;
  /** Records a `manual` ban and enforces it; replaces a manual ban already on exactly this target. */
  ban(request: ControlBan): Promise<BanView>;
  /**
   * Takes over bans another tool enforces (migration from fail2ban), without telling the notifier: each
   * one not allowlisted, not a registered customer's address, not over, and not already banned as long.
   */
  importBans(bans: readonly ControlImport[]): Promise<ImportBansResult>;
  /** Ends the bans in force on exactly `target`; returns those ended (empty: nothing was banned there). */
  unban(target: Cidr): Promise<BanView[]>;
  /** Adds a runtime allowlist entry and lifts the bans in force that it covers. */
  allow(request: ControlAllow): Promise<AllowCreated>;
  /**
   * Removes the run-time allow entries on exactly `target` (bans may follow again); a refusal (not-found)
   * when there is none, saying so when the config's allowlist covers it (only the config can change that).
   */
  unallow(target: Cidr): Promise<AllowRemoved>;
  /** What was decided lately (bans and spares, in force or over), newest first. */
  recentDecisions(query: ControlDecisionQuery): Promise<DecisionList>;
  /** Every allow entry in force: the run-time ones, then the config's as loaded, and what loading skipped. */
  listAllows(): Promise<AllowList>;
  /** The live registrations the query asks for, and the providers' counters. */
  listRegistrations(query: RegistrationQuery): Promise<RegistrationList>;
  explain(address: IpAddress): Promise<ExplainResult>;
  /**
   * Ends the suspect registration's mark in force on `address` (an admin checked it: the customer's), so
   * its address is shielded again; a refusal (not-found) when none is in force.
   */
  clearSuspect(address: IpAddress): Promise<SuspectCleared>;
  /** The suspect registrations kept (in force, over or cleared), the newest first, at most `limit`. */
  listSuspects(query: { readonly limit: number }): Promise<SuspectList>;
}

export type RefusalKind = "conflict" | "not-found";

/** A valid request the daemon will not carry out, with the one-line reason shown to the user. */
export class ControlRefusal extends Error {
  readonly kind: RefusalKind;
  constructor(kind: RefusalKind, message: string) {
    super(message);
    this.name = "ControlRefusal";
    this.kind = kind;
  }
}

export function isControlRefusal(e: unknown): e is ControlRefusal {
  return e instanceof ControlRefusal;
}
