// The contract every registration provider (Kamailio RPC, AMI, ESL) meets, and the socket seam they share.

import type { LinkHealth } from "../pbx-link/link-health.js";

export interface ProviderEvent {
  readonly provider: string;
  readonly kind: "error" | "warning" | "restart";
  /** Constant text; facts go in `detail`. */
  readonly message: string;
  readonly detail?: Readonly<Record<string, unknown>>;
}

export interface RegistrationProvider {
  /** `kamailio`, `ami`, `esl` or the configured name; also the registry source prefix. */
  readonly id: string;
  /**
   * Starts the connect/poll loop and returns at once: a PBX that is down at boot must not stop the daemon.
   * Problems are reported through `onEvent` and retried with bounded backoff.
   */
  start(): Promise<void>;
  /** Closes the connection and stops retrying. Registry entries stay until they expire on their own. */
  stop(): Promise<void>;
  stats(): Readonly<Record<string, number>>;
  /**
   * Whether the provider is connected (AMI, ESL: logged in and following events) or its last poll worked
   * (Kamailio): while it is not, new registrations go unseen and those customers are not protected.
   */
  health(): ProviderHealth;
}

/** A provider's health is a link's: up, or down since when and why. */
export type ProviderHealth = LinkHealth;

/** pino-compatible subset: constant message, facts in the object. */
export interface ProviderLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export const silentLog: ProviderLog = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** Reports a provider problem: to the log (errors as errors, the rest as warnings) and to the daemon's `onEvent`. */
export type ProviderReport = (
  kind: ProviderEvent["kind"],
  message: string,
  detail: Record<string, unknown>,
) => void;

export function createProviderReport(
  id: string,
  log: ProviderLog,
  onEvent: ((event: ProviderEvent) => void) | undefined,
): ProviderReport {
  return (kind, message, detail) => {
    log[kind === "error" ? "error" : "warn"]({ provider: id, ...detail }, message);
    onEvent?.({ provider: id, kind, message, detail });
  };
}
