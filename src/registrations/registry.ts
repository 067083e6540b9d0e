// The live registration table: who is registered from which address, fed by PBX providers, asked by detection.

import { cidrMatcher, parseIp, type Cidr, type IpAddress } from "../domain/address.js";
import type { Clock } from "../domain/clock.js";
import { forgetOldest } from "../domain/forget-oldest.js";
import type { RegistrationEntry } from "../domain/registration.js";

/** One contact binding as a provider reported it. */
export interface RegistrationInput {
  /** The provider that owns the entry, e.g. `kamailio`, `ami:pjsip`, `esl`, `log:asterisk`. */
  readonly source: string;
  /**
   * Transport source address as text, validated with `parseIp` before it is stored; or one parsed already
   * (a matched log line's), taken as it is.
   */
  readonly address: string | IpAddress;
  /** The account (AoR user, endpoint, reg_user). Attacker-influenced text: log only under fixed keys. */
  readonly user: string;
  /** The Contact URI, when the provider knows it; distinguishes several phones of one account. */
  readonly contact?: string;
  /** Epoch ms after which the binding is gone unless refreshed. */
  readonly expiresAt: number;
}

export type { RegistrationEntry };

/** What `remove` matches; omitted fields match anything. */
export interface RegistrationFilter {
  readonly source: string;
  readonly address?: string;
  readonly user?: string;
  readonly contact?: string;
}

/** Answer of `isRegistered`: the first user for compatibility with `RegistrationView`, then all of them. */
export interface RegistrationMatch {
  readonly user?: string;
  readonly users: readonly string[];
  readonly sources: readonly string[];
}

export interface RegistryStats {
  readonly entries: number;
  readonly addresses: number;
  /** Inputs refused: invalid address, empty user, already expired, or the table full. */
  readonly rejected: number;
}

export interface Registry {
  /**
   * Same shape as detection's `RegistrationView`: a live binding from `address` at event time `at`.
   * Structural, so this stage does not import `detect/`.
   */
  isRegistered(address: IpAddress, at: number): RegistrationMatch | null;
  /**
   * A live binding from an address inside `network` at `at` (a scan: for rare network questions), passing
   * over the addresses `skip` names.
   */
  registeredIn(
    network: Cidr,
    at: number,
    skip?: (address: string) => boolean,
  ): (RegistrationMatch & { readonly address: string }) | null;
  /**
   * Whether an address inside `network` (but those `skip` names) held a binding between `since` and `at`:
   * live at `at`, or gone since `since` (remembered only with `onNew`). A scan, for rare questions.
   */
  heldIn(network: Cidr, since: number, at: number, skip?: (address: string) => boolean): boolean;
  /** Adds or refreshes one binding; false when refused (see `RegistryStats.rejected`). */
  upsert(input: RegistrationInput): boolean;
  /** Removes the matching bindings of one source; returns how many. */
  remove(filter: RegistrationFilter): number;
  /**
   * A full dump from one provider: after this call the source holds exactly the valid `entries`. Computed
   * before anything changes, then swapped in one synchronous step, so no reader sees half a dump.
   */
  replaceAll(
    source: string,
    entries: readonly Omit<RegistrationInput, "source">[],
  ): { stored: number; rejected: number };
  /** Live bindings now, grouped by nothing, in insertion order. */
  list(): readonly RegistrationEntry[];
  /** Live bindings of one address now (`ip` text or parsed); empty for an invalid address. */
  forAddress(ip: string | IpAddress): readonly RegistrationEntry[];
  /** Drops bindings expired at `now` (default: the clock); call periodically to bound memory. */
  expire(now?: number): number;
  stats(): RegistryStats;
}

export interface RegistryDeps {
  readonly clock: Clock;
  /**
   * Bindings held at most; new ones beyond are refused (and counted), never evicting a customer's phone.
   * Default 200 000.
   */
  readonly maxEntries?: number;
  /**
   * A binding the registry did not hold (by source, address, account and contact) came in, by an upsert or a
   * dump; `heldBefore` is the latest time its address held another binding: the binding's own time when one
   * is live there, the time the last went (expired, removed, or left out of a dump) when none is, or null
   * when none was within HELD_MEMORY_MS (as far as remembered).
   */
  readonly onNew?: (entry: RegistrationEntry, heldBefore: number | null) => void;
}

/**
 * How long an address is remembered after its last binding went, for `onNew`'s `heldBefore`: the longest
 * look-back a rule asks about (registrations.suspect's lookback is at most 30 days).
 */
export const HELD_MEMORY_MS = 30 * 86_400_000;

/** Longest user and contact text kept: the values come from SIP headers a client chose. */
const MAX_USER_CHARS = 128;
const MAX_CONTACT_CHARS = 512;

/**
 * Invariant: every entry is in `bySource` under its source and key, and in `byAddress` under its address;
 * both maps always hold the same set. Keys are `address\0user\0contact`, unique within a source, so one
 * phone re-registering refreshes its entry instead of adding another.
 */
export function createRegistry(deps: RegistryDeps): Registry {
  const maxEntries = deps.maxEntries ?? 200_000;
  const bySource = new Map<string, Map<string, RegistrationEntry>>();
  const byAddress = new Map<string, Set<RegistrationEntry>>();
  /**
   * Per address, the latest time one of its bindings went (was live until); only kept with `onNew` (nothing
   * else asks). In the order they went, at most `maxEntries`, the first going first.
   */
  const gone = new Map<string, number>();
  let size = 0;
  let rejected = 0;

  function normalize(
    source: string,
    input: Omit<RegistrationInput, "source">,
    now: number,
  ): RegistrationEntry | null {
    const address = typeof input.address === "string" ? parseIp(input.address) : input.address;
    const user = clean(input.user, MAX_USER_CHARS);
    if (!address || user === "" || !Number.isFinite(input.expiresAt) || input.expiresAt <= now) return null;
    const contact = input.contact === undefined ? undefined : clean(input.contact, MAX_CONTACT_CHARS);
    return contact
      ? { source, address, user, contact, expiresAt: input.expiresAt, seenAt: now }
      : { source, address, user, expiresAt: input.expiresAt, seenAt: now };
  }

  function keyOf(e: Pick<RegistrationEntry, "address" | "user" | "contact">): string {
    return `${e.address.text}\0${e.user}\0${e.contact ?? ""}`;
  }

  function link(entry: RegistrationEntry): void {
    let set = byAddress.get(entry.address.text);
    if (!set) byAddress.set(entry.address.text, (set = new Set()));
    set.add(entry);
  }

  function unlink(entry: RegistrationEntry): void {
    const set = byAddress.get(entry.address.text);
    if (!set) return;
    set.delete(entry);
    if (set.size === 0) byAddress.delete(entry.address.text);
  }

  function put(entry: RegistrationEntry, key = keyOf(entry)): boolean {
    let bucket = bySource.get(entry.source);
    const old = bucket?.get(key);
    if (old !== undefined && bucket !== undefined) {
      // A refresh: the same address (it is in the key), so its set stays where it is.
      const set = byAddress.get(old.address.text);
      set?.delete(old);
      set?.add(entry);
      bucket.set(key, entry);
      return true;
    }
    if (size >= maxEntries) return false;
    if (!bucket) bySource.set(entry.source, (bucket = new Map()));
    size++;
    bucket.set(key, entry);
    link(entry);
    return true;
  }

  /** Drops a binding live until `at` (its expiry, or the moment it was removed). */
  function drop(
    bucket: Map<string, RegistrationEntry>,
    key: string,
    entry: RegistrationEntry,
    at: number,
  ): void {
    bucket.delete(key);
    unlink(entry);
    size--;
    wentAt(entry, at);
  }

  /**
   * Remembers when a binding went (live until `at`, or its expiry before): the latest of an address's is when
   * it last held one, once none is left.
   */
  function wentAt(entry: RegistrationEntry, at: number): void {
    if (deps.onNew === undefined) return;
    const until = Math.min(entry.expiresAt, at);
    const known = gone.get(entry.address.text);
    if (known !== undefined && known >= until) return;
    gone.delete(entry.address.text);
    gone.set(entry.address.text, until);
    if (gone.size > maxEntries) forgetOldest(gone, maxEntries);
  }

  /**
   * `onNew`'s `heldBefore` for a binding of `address` coming in at `at`: `at` while one is live, else the
   * latest a binding was (one expired but not yet dropped by `expire` counts too).
   */
  function heldBefore(address: string, at: number): number | null {
    let latest = gone.get(address) ?? -Infinity;
    for (const e of byAddress.get(address) ?? []) {
      if (e.expiresAt > at) return at;
      if (e.expiresAt > latest) latest = e.expiresAt;
    }
    return at - latest < HELD_MEMORY_MS ? latest : null;
  }

  function live(entries: Iterable<RegistrationEntry>, at: number): RegistrationEntry[] {
    const out: RegistrationEntry[] = [];
    for (const e of entries) if (e.expiresAt > at) out.push(e);
    return out;
  }

  function isRegistered(address: IpAddress, at: number): RegistrationMatch | null {
    const set = byAddress.get(address.text);
    if (!set) return null;
    const found = live(set, at);
    if (found.length === 0) return null;
    // Latest expiry first: the most recently refreshed phone is the best name to report.
    found.sort((a, b) => b.expiresAt - a.expiresAt);
    const users = [...new Set(found.map((e) => e.user))];
    const sources = [...new Set(found.map((e) => e.source))];
    return { user: users[0] as string, users, sources };
  }

  return {
    isRegistered,

    registeredIn(network, at, skip) {
      // Every entry of a set shares its address, parsed once when it came in; the other family is skipped
      // before any parsing (a provider's registry can hold a hundred thousand IPv4 phones).
      const inside = cidrMatcher(network);
      for (const [text, set] of byAddress) {
        const address = set.values().next().value?.address;
        if (address === undefined || address.family !== network.family || !inside(address)) continue;
        if (skip?.(text) === true) continue;
        const match = isRegistered(address, at);
        if (match) return { ...match, address: text };
      }
      return null;
    },

    heldIn(network, since, at, skip) {
      const inside = cidrMatcher(network);
      const within = (text: string, address: IpAddress | null | undefined): boolean =>
        address != null && address.family === network.family && inside(address) && skip?.(text) !== true;
      for (const [text, set] of byAddress) {
        if (!within(text, set.values().next().value?.address)) continue;
        const held = heldBefore(text, at);
        if (held !== null && held >= since) return true;
      }
      for (const [text, went] of gone)
        if (went >= since && text.includes(":") === (network.family === 6) && within(text, parseIp(text)))
          return true;
      return false;
    },

    upsert(input) {
      const entry = normalize(input.source, input, deps.clock.now());
      if (!entry) {
        rejected++;
        return false;
      }
      const key = keyOf(entry);
      const isNew = deps.onNew !== undefined && bySource.get(entry.source)?.has(key) !== true;
      const held = isNew ? heldBefore(entry.address.text, entry.seenAt) : null;
      if (!put(entry, key)) {
        rejected++;
        return false;
      }
      if (isNew) deps.onNew?.(entry, held);
      return true;
    },

    remove(filter) {
      const bucket = bySource.get(filter.source);
      if (!bucket) return 0;
      const address = filter.address === undefined ? undefined : parseIp(filter.address)?.text;
      if (filter.address !== undefined && address === undefined) return 0;
      let removed = 0;
      for (const [key, e] of bucket) {
        if (address !== undefined && e.address.text !== address) continue;
        if (filter.user !== undefined && e.user !== clean(filter.user, MAX_USER_CHARS)) continue;
        if (filter.contact !== undefined && e.contact !== clean(filter.contact, MAX_CONTACT_CHARS)) continue;
        drop(bucket, key, e, deps.clock.now());
        removed++;
      }
      if (bucket.size === 0) bySource.delete(filter.source);
      return removed;
    },

    replaceAll(source, entries) {
      const now = deps.clock.now();
      const next = new Map<string, RegistrationEntry>();
      let refused = 0;
      for (const input of entries) {
        const e = normalize(source, input, now);
        if (e) next.set(keyOf(e), e);
        else refused++;
      }
      const old = bySource.get(source);
      const room = maxEntries - (size - (old?.size ?? 0));
      // Over capacity: keep the bindings that live longest rather than an arbitrary prefix of the dump.
      let kept = [...next.values()];
      if (kept.length > room) {
        kept.sort((a, b) => b.expiresAt - a.expiresAt);
        refused += kept.length - Math.max(room, 0);
        kept = kept.slice(0, Math.max(room, 0));
      }
      const news =
        deps.onNew === undefined
          ? []
          : kept
              .filter((e) => old?.has(keyOf(e)) !== true)
              .map((e) => ({ e, held: heldBefore(e.address.text, now) }));
      // From here on nothing can fail: the old entries go and the new ones come in one synchronous step.
      if (old) for (const e of old.values()) unlink(e);
      size -= old?.size ?? 0;
      const bucket = new Map<string, RegistrationEntry>();
      for (const e of kept) {
        bucket.set(keyOf(e), e);
        link(e);
      }
      size += bucket.size;
      if (bucket.size > 0) bySource.set(source, bucket);
      else bySource.delete(source);
      rejected += refused;
      // Bindings the dump no longer holds: live until now.
      if (old) for (const e of old.values()) if (!bucket.has(keyOf(e))) wentAt(e, now);
      for (const { e, held } of news) deps.onNew?.(e, held);
      return { stored: bucket.size, rejected: refused };
    },

    list() {
      const now = deps.clock.now();
      const out: RegistrationEntry[] = [];
      for (const bucket of bySource.values()) out.push(...live(bucket.values(), now));
      return out;
    },

    forAddress(ip) {
      const text = typeof ip === "string" ? parseIp(ip)?.text : ip.text;
      const set = text === undefined ? undefined : byAddress.get(text);
      return set ? live(set, deps.clock.now()) : [];
    },

    expire(now = deps.clock.now()) {
      let dropped = 0;
      for (const [source, bucket] of bySource) {
        for (const [key, e] of bucket) {
          if (e.expiresAt > now) continue;
          drop(bucket, key, e, e.expiresAt);
          dropped++;
        }
        if (bucket.size === 0) bySource.delete(source);
      }
      for (const [address, went] of gone) if (now - went >= HELD_MEMORY_MS) gone.delete(address);
      return dropped;
    },

    stats() {
      return { entries: size, addresses: byAddress.size, rejected };
    },
  };
}

/** Control characters out, length capped: the text ends up in logs and API answers. */
function clean(text: string, max: number): string {
  return (
    text
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u001f\u007f]/g, "")
      .trim()
      .slice(0, max)
  );
}
