// Whether a link to the PBX is up (AMI, ESL: logged in and following events; Kamailio: its last poll worked),
// and since when and why not: the registration providers and the link sources report it the same way.

export interface LinkHealth {
  readonly up: boolean;
  /** Clock time it last went up or down; null before its first attempt ended either way. */
  readonly since: number | null;
  /** Why it last went down (or failed to come up), or null. */
  readonly lastError: string | null;
}

/** A link's health as it changes: up, down with a reason. */
export function createHealth(now: () => number): {
  up(): void;
  down(reason: string): void;
  snapshot(): LinkHealth;
} {
  let state: LinkHealth = { up: false, since: null, lastError: null };
  return {
    up() {
      if (!state.up) state = { up: true, since: now(), lastError: state.lastError };
    },
    down(reason) {
      state = { up: false, since: state.up || state.since === null ? now() : state.since, lastError: reason };
    },
    snapshot: () => state,
  };
}
