// Which links to the PBX have been down too long, and which came back: the `link` notifications. A link
// source (AMI, ESL) that is down leaves the PBX's failed logins unseen; a registration provider that is down
// leaves the phones registering meanwhile unknown, so unprotected. A restart of the PBX (down a minute) is
// not worth a mail: only a link down `downForMs` is told, once, and then told again when it is back up.

import type { LinkHealth } from "../pbx-link/link-health.js";
import { createIsoFormatter } from "../domain/iso-time.js";

export interface WatchedLink {
  /** `ami:10.0.0.5:5038` (a source), `ami` (a registration provider). */
  readonly id: string;
  readonly kind: "source" | "registrations";
  readonly health: LinkHealth;
}

const iso = createIsoFormatter();

const CONSEQUENCE: Record<WatchedLink["kind"], string> = {
  source: "the failed logins it reports go unseen",
  registrations: "phones that register meanwhile are not known, so not spared",
};

export interface LinkWatch {
  /** The sentences to tell now, given each link's health at `now`. */
  check(links: readonly WatchedLink[], now: number): string[];
}

export function createLinkWatch(downForMs: number): LinkWatch {
  const told = new Set<string>();
  const name = (l: WatchedLink): string => `${l.kind === "source" ? "source" : "registrations from"} ${l.id}`;
  return {
    check(links, now) {
      const out: string[] = [];
      for (const l of links) {
        const key = `${l.kind} ${l.id}`;
        const { up, since, lastError } = l.health;
        if (up) {
          if (told.delete(key))
            out.push(`${name(l)} up again since ${since === null ? "now" : iso(since, true)}`);
          continue;
        }
        if (since === null || now - since < downForMs || told.has(key)) continue;
        told.add(key);
        out.push(
          `${name(l)} down since ${iso(since, true)}${lastError === null ? "" : ` (${lastError})`}: ${CONSEQUENCE[l.kind]}`,
        );
      }
      return out;
    },
  };
}
