// Whether an address failed before within a span, in fixed memory whatever the flood: two Bloom filters, each
// taking the addresses of one half of the span (by event time); an address is seen when either holds it. A
// false "seen" (about 2% with 100,000 addresses in a half) only makes a first failure count from the start.

export interface SeenFilter {
  /** Whether `key` was added within about the span before `time`; adds it either way. */
  seenOrAdd(key: string, time: number): boolean;
}

/** Bits per filter: 2^20, 128 KiB each. */
const BITS_LOG2 = 20;
const HASHES = 3;

export function createSeenFilter(spanMs: number): SeenFilter {
  const halfMs = Math.max(1, Math.floor(spanMs / 2));
  let current = new Uint32Array(1 << (BITS_LOG2 - 5));
  let previous = new Uint32Array(1 << (BITS_LOG2 - 5));
  let since: number | null = null;
  const mask = (1 << BITS_LOG2) - 1;

  const has = (bits: Uint32Array, h1: number, h2: number): boolean => {
    for (let i = 0; i < HASHES; i++) {
      const bit = (h1 + i * h2) & mask;
      if ((bits[bit >>> 5]! & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  };

  return {
    seenOrAdd(key, time) {
      if (since === null) since = time;
      else if (time >= since + halfMs) {
        // The older half leaves: its filter is cleared and takes the new half (both, after a long gap).
        const cleared = previous;
        cleared.fill(0);
        if (time >= since + 2 * halfMs) current.fill(0);
        previous = current;
        current = cleared;
        since = time;
      }
      // Two FNV-1a hashes of the key, combined (Kirsch–Mitzenmacher) into HASHES bit positions.
      let h1 = 0x811c9dc5;
      let h2 = 0x01000193;
      for (let i = 0; i < key.length; i++) {
        const c = key.charCodeAt(i);
        h1 = Math.imul(h1 ^ c, 0x01000193);
        h2 = Math.imul(h2 ^ c, 0x5bd1e995);
      }
      h2 |= 1;
      const seen = has(current, h1, h2) || has(previous, h1, h2);
      for (let i = 0; i < HASHES; i++) {
        const bit = (h1 + i * h2) & mask;
        current[bit >>> 5]! |= 1 << (bit & 31);
      }
      return seen;
    },
  };
}
