// Read-only view of live SIP registrations, so an address with registered phones is spared, not banned.

import type { Cidr, IpAddress } from "../domain/address.js";
import type { Evidence, Offense } from "../domain/offense.js";

/**
 * Answers "did this address hold a live registration at event time `at`?". Fed elsewhere (AMI/ESL/Kamailio
 * RPC or successful-registration log lines); detection only asks.
 */
export interface RegistrationView {
  isRegistered(address: IpAddress, at: number): { readonly user?: string } | null;
  /** A live registration from an address inside `network` at `at`, naming that address; or null. */
  registeredIn(network: Cidr, at: number): { readonly user?: string; readonly address: string } | null;
}

/** What a registration-aware policy says about one failure (src/registrations implements it). */
export type RegistrationVerdictView =
  /** No live registration: the jail's ordinary counting applies. */
  | { readonly kind: "unregistered" }
  /** Registered: counted per account elsewhere; nothing to decide yet. */
  | { readonly kind: "counted" }
  /** Registered: one account keeps failing; report it as a spare, never ban for it. */
  | { readonly kind: "spare"; readonly reason: string; readonly evidence: readonly Evidence[] }
  /** Registered, but so many failures that the address is banned anyway (allowlist still wins). */
  | { readonly kind: "ban"; readonly reason: string; readonly evidence: readonly Evidence[] };

/**
 * Registration-aware counting: failures from an address with live registrations are judged here instead of
 * in the jail window, so one phone's wrong password never cuts off the other phones behind that address.
 */
export interface RegistrationJudge {
  judge(
    jail: { readonly name: string; readonly maxretry: number; readonly findtimeMs: number },
    offense: Offense,
  ): RegistrationVerdictView;
  expire(now: number): void;
}
