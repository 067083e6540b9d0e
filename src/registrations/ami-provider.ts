// Registrations from Asterisk over AMI: PJSIP contacts and chan_sip peers, listed on connect and followed by events.

import { amiTarget, runAmiSession, type AmiSession } from "../pbx-link/ami-session.js";
import type { AmiMessage } from "../pbx-link/ami-wire.js";
import type { SessionEnd } from "../pbx-link/session-loop.js";
import { createProviderReport, type RegistrationProvider } from "./provider.js";
import { createResyncTimers } from "./resync-timers.js";
import {
  createSessionProvider,
  sessionSeams,
  type SessionProviderConfig,
  type SessionProviderDeps,
} from "./session-provider.js";
import { hostOfHostPort, sipUriHost } from "./sip-uri.js";

export interface AmiProviderConfig extends SessionProviderConfig {
  readonly username: string;
  readonly secret: string;
  /** Lifetime given to a binding whose event carries no expiry, until the next listing corrects it. Default 1 h. */
  readonly defaultLifetimeMs?: number;
  /**
   * chan_sip peers: AMI lists no expiry, so a listed peer lives this long unless re-listed (each listing
   * replaces the set) or an `Unregistered` event arrives. Default 1 h (chan_sip's default maxexpiry).
   */
  readonly sipPeerLifetimeMs?: number;
  /**
   * Fall back to the Via sent-by address (`ViaAddr`) when the contact URI host is no IP. Off by default:
   * the phone writes that header itself, and behind NAT it is the private address anyway.
   */
  readonly viaFallback?: boolean;
  readonly actionTimeoutMs?: number;
}

export type AmiProviderDeps = SessionProviderDeps;

/** How soon after a contact change the full listing runs again, to learn the real expiry. */
const RESYNC_AFTER_CHANGE_MS = 1000;

/**
 * Trust: the PJSIP contact URI host is the transport source only with `rewrite_contact=yes` (FreePBX's
 * default for extensions; Asterisk then adds `x-ast-orig-host`). Without it the URI is what the phone
 * wrote — behind NAT a private address, which spares nothing real. chan_sip's `IPaddress`/`Address` is
 * the packet source with `nat=force_rport` (the default since Asterisk 11).
 */
export function createAmiProvider(config: AmiProviderConfig, deps: AmiProviderDeps): RegistrationProvider {
  const id = config.id ?? "ami";
  const port = config.port ?? 5038;
  const { clock, connect, log } = sessionSeams(deps);
  const resyncIntervalMs = config.resyncIntervalMs ?? 300_000;
  const defaultLifetimeMs = config.defaultLifetimeMs ?? 3_600_000;
  const sipPeerLifetimeMs = config.sipPeerLifetimeMs ?? 3_600_000;
  const pjsipSource = `${id}:pjsip`;
  const sipSource = `${id}:sip`;
  const counters = {
    connects: 0,
    logins: 0,
    loginFailures: 0,
    listings: 0,
    events: 0,
    upserts: 0,
    removals: 0,
    restarts: 0,
    dropped: 0,
  };

  const report = createProviderReport(id, log, deps.onEvent);

  function expiryOf(value: string | undefined, fallbackMs: number): number {
    const now = clock.now();
    const n = value === undefined ? NaN : Number(value);
    if (!Number.isFinite(n) || n <= 0) return now + fallbackMs;
    // Absolute epoch seconds (ExpirationTime, RegExpire) versus seconds from now.
    return n > 1e9 ? n * 1000 : now + n * 1000;
  }

  function contactAddress(msg: AmiMessage, uri: string | undefined): string | undefined {
    const fromUri = uri === undefined ? null : sipUriHost(uri);
    if (fromUri !== null && /^[0-9a-f.:]+$/i.test(fromUri)) return fromUri;
    if (!config.viaFallback) return fromUri ?? undefined;
    const via = msg.get("ViaAddr") ?? msg.get("ViaAddress");
    return via === undefined ? undefined : (hostOfHostPort(via) ?? undefined);
  }

  /** ObjectName of a contact is `<aor>;@<hash>`. */
  function aorOf(msg: AmiMessage): string | undefined {
    const aor = msg.get("AOR");
    if (aor) return aor;
    const name = msg.get("ObjectName");
    return name?.split(";@")[0];
  }

  function pjsipEntry(
    msg: AmiMessage,
  ): { address: string; user: string; contact: string; expiresAt: number } | null {
    const uri = msg.get("Uri") ?? msg.get("URI");
    const address = contactAddress(msg, uri);
    const user = msg.get("Endpoint") || msg.get("EndpointName") || aorOf(msg);
    if (!uri || !address || !user) return null;
    const expiresAt = expiryOf(msg.get("ExpirationTime") ?? msg.get("RegExpire"), defaultLifetimeMs);
    return { address, user, contact: uri, expiresAt };
  }

  // `system` carries ContactStatus and PeerStatus and spares us every call event.
  const target = amiTarget(config, port, connect, "system");

  async function run(signal: AbortSignal, loggedIn: () => void): Promise<SessionEnd> {
    // Changes seen while a listing is in flight are replayed after it replaces the set, so a contact
    // removed (or added) mid-listing is not resurrected (or lost) by the older listing.
    const inFlight = new Map<string, (() => void)[]>();
    let session: AmiSession | null = null;
    const resyncs = createResyncTimers(resync, RESYNC_AFTER_CHANGE_MS);

    function apply(source: string, change: () => void): void {
      change();
      inFlight.get(source)?.push(change);
    }

    function onEvent(msg: AmiMessage): void {
      const name = msg.get("Event")?.toLowerCase();
      if (name === "contactstatus") {
        counters.events++;
        const status = msg.get("ContactStatus")?.toLowerCase();
        const uri = msg.get("URI") ?? msg.get("Uri");
        if (status === "removed") {
          if (uri === undefined) return;
          apply(pjsipSource, () => {
            counters.removals += deps.registry.remove({ source: pjsipSource, contact: uri });
          });
          return;
        }
        const entry = pjsipEntry(msg);
        if (!entry) return;
        apply(pjsipSource, () => {
          if (deps.registry.upsert({ source: pjsipSource, ...entry })) counters.upserts++;
        });
        if (status === "created" || status === "updated") resyncs.soon();
      } else if (name === "peerstatus") {
        if (msg.get("ChannelType")?.toUpperCase() !== "SIP") return; // PJSIP is covered by ContactStatus
        counters.events++;
        const user = msg.get("Peer")?.replace(/^SIP\//i, "");
        const status = msg.get("PeerStatus")?.toLowerCase();
        if (!user) return;
        if (status === "registered") {
          const address = hostOfHostPort(msg.get("Address") ?? "");
          if (!address) return;
          apply(sipSource, () => {
            const expiresAt = clock.now() + sipPeerLifetimeMs;
            if (deps.registry.upsert({ source: sipSource, address, user, expiresAt })) counters.upserts++;
          });
        } else if (status === "unregistered") {
          apply(sipSource, () => {
            counters.removals += deps.registry.remove({ source: sipSource, user });
          });
        }
      }
    }

    async function listing(
      source: string,
      action: string,
      toEntry: (m: AmiMessage) => ReturnType<typeof pjsipEntry>,
    ): Promise<void> {
      if (!session) return;
      const replay: (() => void)[] = [];
      inFlight.set(source, replay);
      try {
        const result = await session.list(action);
        if (result.response.get("Response")?.toLowerCase() !== "success") {
          // The channel driver is not loaded (chan_sip is gone in Asterisk 21); nothing to list.
          log.info({ provider: id, action, response: result.response.get("Message") }, "ami listing refused");
          return;
        }
        const entries = result.items.flatMap((m) => {
          const e = toEntry(m);
          return e ? [e] : [];
        });
        const { stored, rejected } = deps.registry.replaceAll(source, entries);
        for (const change of replay) change();
        counters.listings++;
        log.info({ provider: id, action, stored, rejected }, "ami listing applied");
      } finally {
        inFlight.delete(source);
      }
    }

    function sipPeerEntry(m: AmiMessage): ReturnType<typeof pjsipEntry> {
      if (m.get("Event")?.toLowerCase() !== "peerentry" || m.get("Dynamic")?.toLowerCase() !== "yes")
        return null;
      const address = m.get("IPaddress");
      const user = m.get("ObjectName");
      // `-none-` (or `(null)`) while the peer is not registered: parseIp refuses it, but skip it early.
      if (!address || !user || !/^[0-9a-f.:]+$/i.test(address)) return null;
      return { address, user, contact: "", expiresAt: clock.now() + sipPeerLifetimeMs };
    }

    let resyncing = false;
    async function resync(): Promise<void> {
      // One listing at a time: a second one would share the replay journal of the first.
      if (resyncing) return;
      resyncing = true;
      try {
        await listing(pjsipSource, "PJSIPShowContacts", (m) =>
          m.get("Event")?.toLowerCase() === "contactlist" ? pjsipEntry(m) : null,
        );
        await listing(sipSource, "SIPpeers", sipPeerEntry);
      } catch (e) {
        // A failed listing means the connection is gone or stuck; the session ends and reconnects.
        session?.close(`listing failed: ${e instanceof Error ? e.message : String(e)}`);
      } finally {
        resyncing = false;
      }
    }

    return runAmiSession(target, signal, counters, {
      onEvent,
      onRefused: (message) => report("error", "ami login refused", { response: message }),
      whileUp: async (up) => {
        session = up;
        loggedIn();
        log.info({ provider: id, host: config.host, port }, "ami connected");
        await resync();
        resyncs.every(resyncIntervalMs);
      },
      onEnd: () => resyncs.clear(),
    });
  }

  return createSessionProvider(
    { id, protocol: "ami", clock, reconnect: config.reconnect, report, counters },
    run,
  );
}
