// A live registration as the registry holds it and the API shows it: who is registered from which address.

import type { IpAddress } from "./address.js";

export interface RegistrationEntry {
  /** The provider that owns it, e.g. `kamailio`, `ami:pjsip`, `esl`, `log:asterisk`. */
  readonly source: string;
  readonly address: IpAddress;
  /** The account (AoR user, endpoint, reg_user): text from SIP, shown only as inert text. */
  readonly user: string;
  readonly contact?: string;
  /** Epoch ms after which it is gone unless refreshed. */
  readonly expiresAt: number;
  /** Clock time of the latest upsert or dump that carried this binding. */
  readonly seenAt: number;
}
