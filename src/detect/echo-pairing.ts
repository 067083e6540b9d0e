// One failure, seen twice: a PBX reports a failed login over its link (an AMI security event, an ESL
// register_failure) and also writes it to its log (chan_pjsip's NOTICE, sofia's "Can't find user"). A jail
// reading both would count it twice and ban at half its maxretry. Each failure from a link is paired with one
// from the log for the same address (and the same account, when both name one) that arrived within a few
// seconds of it, whichever came first; the second of a pair is an echo and is not counted again.
// A pair is never more than one failure: at worst (a failure only the log reports paired with one only the
// link reports, both naming no account or one of them none) two failures count as one, never zero.
//
// Pairing is by arrival, not by the lines' dates: the log's date may be in another zone, or whole seconds,
// while both sightings reach sipwarden within milliseconds of each other. A failure only one side reports (an
// ACL reject in the log, a wrong password the profile does not log, anything while the link is down) finds no
// partner and counts once, as it should.

/** How long a sighting waits for its partner from the other side. */
export const ECHO_WINDOW_MS = 5000;
/** Sightings waiting at most, all addresses together: past it the oldest addresses' are forgotten. */
const MAX_WAITING = 200_000;
/** Sightings of one address waiting at most (a flood seen by one side only): past it its oldest go. */
const MAX_PER_ADDRESS = 1024;

interface Sighting {
  readonly fromLink: boolean;
  readonly user: string | undefined;
  readonly at: number;
}

export interface EchoPairing {
  /**
   * One failure of `address` seen `fromLink` or from a log at arrival time `at`: true when it is the partner
   * of one already counted from the other side (do not count it), false when it counts (and now waits for
   * its own partner).
   */
  isEcho(address: string, user: string | undefined, fromLink: boolean, at: number): boolean;
  /** Failures found to be echoes since creation. */
  echoes(): number;
}

export function createEchoPairing(windowMs = ECHO_WINDOW_MS): EchoPairing {
  // Insertion order is the order addresses were last seen: the first key is the stalest.
  const waiting = new Map<string, Sighting[]>();
  let total = 0;
  let echoes = 0;

  function forget(address: string, list: Sighting[], n: number): void {
    list.splice(0, n);
    total -= n;
    if (list.length === 0) waiting.delete(address);
  }

  return {
    isEcho(address, user, fromLink, at) {
      let list = waiting.get(address);
      if (list) {
        let stale = 0;
        while (stale < list.length && (list[stale] as Sighting).at < at - windowMs) stale++;
        if (stale > 0) forget(address, list, stale);
        // The same account first; else one where either side names none (Asterisk's log lines name none).
        let i = list.findIndex((s) => s.fromLink !== fromLink && s.user === user);
        if (i < 0)
          i = list.findIndex((s) => s.fromLink !== fromLink && (s.user === undefined || user === undefined));
        if (i >= 0) {
          list.splice(i, 1);
          total--;
          if (list.length === 0) waiting.delete(address);
          echoes++;
          return true;
        }
        if (list.length >= MAX_PER_ADDRESS) forget(address, list, list.length - MAX_PER_ADDRESS + 1);
      }
      list = waiting.get(address);
      if (list) waiting.delete(address);
      else list = [];
      list.push({ fromLink, user, at });
      waiting.set(address, list);
      total++;
      for (const [stalest, old] of waiting) {
        if (total <= MAX_WAITING) break;
        forget(stalest, old, old.length);
      }
      return false;
    },
    echoes: () => echoes,
  };
}
