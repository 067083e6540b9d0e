// Read-only view of live SIP registrations, so an address with registered phones is spared, not banned.

import type { IpAddress } from "../domain/address.js";

/**
 * Answers "did this address hold a live registration at event time `at`?". Fed elsewhere (AMI/ESL/Kamailio
 * RPC or successful-registration log lines); detection only asks.
 */
export interface RegistrationView {
  isRegistered(address: IpAddress, at: number): { readonly user?: string } | null;
}
