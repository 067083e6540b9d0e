// What a filter produces for one matching log line: an address did something bad (or good) at a time.

import type { IpAddress } from "./address.js";

/** `failure` counts toward bans; `success` proves a live client (a successful registration or login). */
export type OffenseKind = "failure" | "success";

export interface Evidence {
  readonly time: number;
  readonly source: string;
  readonly lineNo?: number;
  /** Attacker-controlled text: log it only under a fixed key. */
  readonly line: string;
}

export interface Offense {
  readonly kind: OffenseKind;
  readonly address: IpAddress;
  /** Event time (epoch ms) read from the line or the transport. */
  readonly time: number;
  /** Name of the filter that matched. */
  readonly filter: string;
  /** The account named in the line (F-USER), when the filter captures it. */
  readonly user?: string;
  /** Free identifier (F-ID) when captured. */
  readonly failId?: string;
  readonly evidence: Evidence;
}
