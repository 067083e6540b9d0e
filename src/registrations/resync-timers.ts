// When a session lists its registrations again: on a fixed period, and shortly after an event that asks for it.

export interface ResyncTimers {
  /** Lists again after the short delay; asks made while one is pending share it. */
  soon(): void;
  /** Lists again every `intervalMs` from now on. */
  every(intervalMs: number): void;
  /** Stops both; the session is over. */
  clear(): void;
}

export function createResyncTimers(resync: () => Promise<void>, soonAfterMs: number): ResyncTimers {
  let periodic: NodeJS.Timeout | null = null;
  let pending: NodeJS.Timeout | null = null;
  return {
    soon() {
      if (pending) return;
      pending = setTimeout(() => {
        pending = null;
        void resync();
      }, soonAfterMs);
    },
    every(intervalMs) {
      periodic = setInterval(() => void resync(), intervalMs);
    },
    clear() {
      if (periodic) clearInterval(periodic);
      if (pending) clearTimeout(pending);
    },
  };
}
