// Tells the admin about decisions: a mail through the local MTA, a program given JSON on stdin, and/or a
// webhook (a chat's, or the admin's own endpoint),
// at most one notification per window so that a flood of bans is one message, never blocking the daemon.

import type { Located } from "../api/contract.js";
import type { NotifyConfig } from "../config/config.js";
import type { Decision } from "../domain/decision.js";
import type { CommandRunner } from "../enforce/command-runner.js";
import {
  headerSafeHost,
  notificationJson,
  notificationMail,
  notificationSlack,
  notificationTeams,
  type NotifyBatch,
  type NotifyEvent,
} from "./notify-format.js";
import { sendSmtp } from "./smtp-send.js";
import { sendWebhook, type WebhookDeps } from "./webhook-send.js";

/** The "exit code" of a way that is not a program (SMTP, the webhook): its error says what failed. */
const NOT_A_PROGRAM = -1;

/** Decisions detailed in one notification; the rest are counted. */
const MAX_DETAILED = 50;
/** Decisions held between two notifications (a flood beyond this is counted, not kept). */
const MAX_PENDING = 1000;

export interface NotifierDeps {
  readonly run: CommandRunner;
  readonly log: {
    info(facts: object, msg: string): void;
    warn(facts: object, msg: string): void;
  };
  readonly now: () => number;
  readonly host: string;
  /** Hands a mail to an SMTP server (the real client unless a test gives another). */
  readonly smtp?: typeof sendSmtp;
  /** HTTP for the webhook (through the config's proxy), and its waits between tries. */
  readonly webhook?: WebhookDeps;
  /** Where the configured databases place the decisions' targets (a notification's country and AS). */
  readonly locate?: (targets: readonly string[]) => Promise<ReadonlyMap<string, Located>>;
}

/** How one way of notifying has fared since the start. */
export interface NotifyStats {
  /** `email`, `command`, `webhook`, or `abuseipdb` (reports, see abuse-report.ts). */
  readonly via: "email" | "command" | "webhook" | "abuseipdb";
  readonly sent: number;
  readonly failed: number;
  readonly lastAt: number | null;
  readonly lastError: string | null;
}

/** The ways this module tells: a mail, a program, an HTTP POST. */
type Way = "email" | "command" | "webhook";
const WAYS: readonly Way[] = ["email", "command", "webhook"];

/** A webhook's body in each format it can be asked for. */
const WEBHOOK_BODY: Record<NonNullable<NotifyConfig["webhook"]>["format"], (batch: NotifyBatch) => string> = {
  json: notificationJson,
  slack: notificationSlack,
  teams: notificationTeams,
};

export interface Notifier {
  /** Per way configured or tried, email first. */
  stats(): NotifyStats[];
  /** Decisions just stored and enforced; those the config tells about are sent now or at the window's end. */
  add(decisions: readonly Decision[]): void;
  /** An event of sipwarden's own (the ruleset restored, a PBX link down), told when `on` has its kind. */
  event(kind: NotifyEvent["kind"], text: string): void;
  /** A reloaded config (null: notify no more; what is pending is dropped). */
  configure(config: NotifyConfig | null): void;
  /** Sends what is pending and waits for the sends in flight (each bounded by the runner's timeout). */
  stop(): Promise<void>;
}

export function createNotifier(initial: NotifyConfig | null, deps: NotifierDeps): Notifier {
  let config = initial;
  const host = headerSafeHost(deps.host);
  let pending: Decision[] = [];
  let events: NotifyEvent[] = [];
  let overflow = 0;
  let lastSentAt = -Infinity;
  let timer: NodeJS.Timeout | null = null;
  let sending: Promise<void> | null = null;
  let stopping = false;
  const tally = new Map<
    Way,
    { sent: number; failed: number; lastAt: number | null; lastError: string | null }
  >();
  const count = (via: Way, r: { code: number; stderr: string }): void => {
    const t = tally.get(via) ?? { sent: 0, failed: 0, lastAt: null, lastError: null };
    t.lastAt = deps.now();
    if (r.code === 0) {
      t.sent++;
      t.lastError = null;
    } else {
      t.failed++;
      const said = r.stderr.trim().slice(-200);
      t.lastError = r.code === NOT_A_PROGRAM ? said : `exit ${r.code}${said === "" ? "" : `: ${said}`}`;
    }
    tally.set(via, t);
  };

  async function deliver(cfg: NotifyConfig, bare: NotifyBatch): Promise<void> {
    // A location is a nicety: a database that cannot be read leaves it out, never the notification.
    const located =
      deps.locate && bare.decisions.length > 0
        ? await deps.locate(bare.decisions.map((d) => d.target)).catch(() => undefined)
        : undefined;
    const batch: NotifyBatch = located && located.size > 0 ? { ...bare, located } : bare;
    const jobs: Promise<void>[] = [];
    const told = (what: Way, r: { code: number; stderr: string }): void => {
      count(what, r);
      if (r.code === 0)
        deps.log.info({ via: what, decisions: batch.decisions.length + batch.omitted }, "notified");
      else
        deps.log.warn(
          { via: what, code: r.code, stderr: r.stderr.trim().slice(-500) },
          "notification failed",
        );
    };
    const email = cfg.email;
    if (email) {
      const message = notificationMail(batch, email, deps.now());
      const via = email.via;
      if (via.kind === "sendmail") {
        const [program, ...args] = via.argv as [string, ...string[]];
        jobs.push(
          deps
            .run(program, [...args, "-oi", "-f", email.from, "--", ...email.to], message)
            .then((r) => told("email", r)),
        );
      } else
        jobs.push(
          (deps.smtp ?? sendSmtp)(via, { from: email.from, to: email.to, data: message, helo: host }).then(
            () => told("email", { code: 0, stderr: "" }),
            (e: unknown) =>
              told("email", {
                code: NOT_A_PROGRAM,
                stderr: `SMTP ${via.host}:${via.port}: ${(e as Error).message}`,
              }),
          ),
        );
    }
    if (cfg.command) {
      const [program, ...args] = cfg.command as [string, ...string[]];
      jobs.push(deps.run(program, args, notificationJson(batch)).then((r) => told("command", r)));
    }
    const hook = cfg.webhook;
    if (hook) {
      const body = WEBHOOK_BODY[hook.format](batch);
      jobs.push(
        sendWebhook(hook, body, deps.webhook ?? { fetch: async () => fetch }).then(
          () => told("webhook", { code: 0, stderr: "" }),
          (e: unknown) => told("webhook", { code: NOT_A_PROGRAM, stderr: (e as Error).message }),
        ),
      );
    }
    await Promise.all(jobs);
  }

  /** Sends the pending decisions (one notification), then, if more came meanwhile, schedules the next. */
  function sendNow(): void {
    timer = null;
    const cfg = config;
    if (cfg === null || (pending.length === 0 && events.length === 0) || sending !== null) return;
    const taken = pending;
    const eventsTaken = events;
    const omitted = overflow + Math.max(0, taken.length - MAX_DETAILED);
    pending = [];
    events = [];
    overflow = 0;
    lastSentAt = deps.now();
    sending = deliver(cfg, { host, events: eventsTaken, decisions: taken.slice(0, MAX_DETAILED), omitted })
      .catch((e: unknown) => deps.log.warn({ err: e }, "notification failed"))
      .finally(() => {
        sending = null;
        schedule();
      });
  }

  function schedule(): void {
    if (stopping || config === null || timer !== null || sending !== null) return;
    if (pending.length === 0 && events.length === 0) return;
    const wait = lastSentAt + config.batchMs - deps.now();
    if (wait <= 0) sendNow();
    else timer = setTimeout(sendNow, wait);
  }

  return {
    stats() {
      // The ways configured now, and those that have been tried (their counts outlive a reload or stop).
      const ways = WAYS.filter((via) => tally.has(via) || (config !== null && config[via] !== null));
      return ways.map((via) => ({
        via,
        ...(tally.get(via) ?? { sent: 0, failed: 0, lastAt: null, lastError: null }),
      }));
    },
    add(decisions) {
      const cfg = config;
      if (cfg === null) return;
      for (const d of decisions) {
        if (!cfg.on.includes(d.action)) continue;
        if (pending.length < MAX_PENDING) pending.push(d);
        else overflow++;
      }
      schedule();
    },
    event(kind, text) {
      if (config === null || !config.on.includes(kind)) return;
      if (events.length < MAX_PENDING) events.push({ kind, at: deps.now(), text });
      schedule();
    },
    configure(next) {
      config = next;
      if (next === null) {
        if (timer !== null) clearTimeout(timer);
        timer = null;
        pending = [];
        events = [];
        overflow = 0;
      }
    },
    async stop() {
      stopping = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
      await sending;
      // What the window held back goes now: the daemon is going away.
      if (pending.length > 0 || events.length > 0) {
        sendNow();
        await sending;
      }
      config = null;
    },
  };
}
