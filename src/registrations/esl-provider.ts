// Registrations from FreeSWITCH over the event socket: `show registrations` on connect, then sofia register events.

import { eslTarget, runEslSession, type EslSession } from "../pbx-link/esl-session.js";
import type { SessionEnd } from "../pbx-link/session-loop.js";
import { createProviderReport, type RegistrationProvider } from "./provider.js";
import type { RegistrationInput } from "./registry.js";
import { createResyncTimers } from "./resync-timers.js";
import {
  createSessionProvider,
  sessionSeams,
  type SessionProviderConfig,
  type SessionProviderDeps,
} from "./session-provider.js";

export interface EslProviderConfig extends SessionProviderConfig {
  readonly password: string;
  /** A command with no reply within this time closes the connection. Default 10 s. */
  readonly commandTimeoutMs?: number;
}

export type EslProviderDeps = SessionProviderDeps;

const SUBSCRIBE = "event plain CUSTOM sofia::register sofia::unregister sofia::expire";
const LIST = "api show registrations as json";
/** After an unregister/expire, how soon the full listing runs to restore the account's other phones. */
const RESYNC_AFTER_CHANGE_MS = 1000;

/**
 * Trust: `network_ip` / `network-ip` is the address the REGISTER came from (sofia's transport source);
 * the Contact is what the phone wrote and is kept only to tell phones apart.
 */
export function createEslProvider(config: EslProviderConfig, deps: EslProviderDeps): RegistrationProvider {
  const id = config.id ?? "esl";
  const { clock, connect, log } = sessionSeams(deps);
  const counters = {
    connects: 0,
    authFailures: 0,
    listings: 0,
    events: 0,
    upserts: 0,
    removals: 0,
    restarts: 0,
  };

  const report = createProviderReport(id, log, deps.onEvent);

  const target = eslTarget(config, connect, SUBSCRIBE);

  function run(signal: AbortSignal, loggedIn: () => void): Promise<SessionEnd> {
    let session: EslSession | null = null;
    let inFlight: (() => void)[] | null = null;
    const resyncs = createResyncTimers(resync, RESYNC_AFTER_CHANGE_MS);

    function apply(change: () => void): void {
      change();
      inFlight?.push(change);
    }

    function onEvent(h: Map<string, string>): void {
      const subclass = h.get("event-subclass");
      if (subclass !== "sofia::register" && subclass !== "sofia::unregister" && subclass !== "sofia::expire")
        return;
      counters.events++;
      const user = h.get("from-user") || h.get("username") || h.get("user");
      if (!user) return;
      const contact = h.get("contact") === undefined ? undefined : contactUri(h.get("contact") as string);
      if (subclass === "sofia::register") {
        const address = h.get("network-ip");
        const seconds = Number(h.get("expires"));
        if (!address || !Number.isFinite(seconds) || seconds <= 0) return;
        const input: RegistrationInput = {
          source: id,
          address,
          user,
          ...(contact ? { contact } : {}),
          expiresAt: clock.now() + seconds * 1000,
        };
        apply(() => {
          if (deps.registry.upsert(input)) counters.upserts++;
        });
        return;
      }
      apply(() => {
        counters.removals += deps.registry.remove(
          contact ? { source: id, user, contact } : { source: id, user },
        );
      });
      // Without a contact every phone of the account went; the listing brings back those still registered.
      if (!contact) resyncs.soon();
    }

    async function resync(): Promise<void> {
      if (inFlight || !session) return;
      const replay: (() => void)[] = [];
      inFlight = replay;
      try {
        const frame = await session.command(LIST);
        const entries = parseRegistrations(frame.body, clock.now());
        if (!entries) {
          report("warning", "esl listing unreadable", { body: frame.body.slice(0, 200) });
          return;
        }
        const { stored, rejected } = deps.registry.replaceAll(id, entries);
        for (const change of replay) change();
        counters.listings++;
        log.info({ provider: id, stored, rejected }, "esl listing applied");
      } catch (e) {
        session.close(`listing failed: ${e instanceof Error ? e.message : String(e)}`);
      } finally {
        inFlight = null;
      }
    }

    return runEslSession(target, signal, counters, {
      onEvent,
      onRefused: (what, reply) =>
        what === "auth"
          ? report("error", "esl auth refused", { reply })
          : report("warning", "esl event subscription refused", { reply }),
      whileUp: async (s) => {
        session = s;
        loggedIn();
        log.info({ provider: id, host: config.host, port: target.port }, "esl connected");
        await resync();
        resyncs.every(config.resyncIntervalMs ?? 300_000);
      },
      onEnd: () => resyncs.clear(),
    });
  }

  return createSessionProvider(
    { id, protocol: "esl", clock, reconnect: config.reconnect, report, counters },
    run,
  );
}

/**
 * `show registrations as json`: `{"row_count":N,"rows":[{reg_user, realm, url, expires, network_ip, ...}]}`,
 * or `{"row_count":0}`; `expires` is absolute epoch seconds. Null when the body is not that shape.
 */
export function parseRegistrations(body: string, now: number): Omit<RegistrationInput, "source">[] | null {
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch {
    return null;
  }
  if (typeof data !== "object" || data === null || !("row_count" in data)) return null;
  const rows = (data as { rows?: unknown }).rows;
  if (rows === undefined) return [];
  if (!Array.isArray(rows)) return null;
  const out: Omit<RegistrationInput, "source">[] = [];
  for (const row of rows) {
    if (typeof row !== "object" || row === null) continue;
    const r = row as Record<string, unknown>;
    const address = typeof r.network_ip === "string" ? r.network_ip : undefined;
    const user = typeof r.reg_user === "string" ? r.reg_user : undefined;
    const expires = Number(r.expires);
    if (!address || !user || !Number.isFinite(expires) || expires <= 0) continue;
    const contact = typeof r.url === "string" ? contactUri(r.url) : undefined;
    // Absolute epoch seconds in the core registrations table; a small number would be seconds from now.
    const expiresAt = expires > 1e9 ? expires * 1000 : now + expires * 1000;
    out.push(contact ? { address, user, contact, expiresAt } : { address, user, expiresAt });
  }
  return out;
}

/** `"1000" <sip:1000@192.0.2.7:5060;fs_nat=yes>` and `sofia/internal/sip:1000@…` both become `sip:1000@…`. */
export function contactUri(text: string): string | undefined {
  const m = /sips?:[^>\s]+/i.exec(text);
  return m ? m[0] : undefined;
}
