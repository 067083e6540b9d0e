// A log source fed by a live PBX link (AMI, ESL) instead of a file: each event the link turns into a line is
// delivered at once, stamped with the time it arrived. The session loop keeps the link up (bounded
// back-off, a refused login waits longest); what happens while it is down is not seen (neither link keeps
// a backlog), so a file source stays the way to read what happened before sipwarden started.

import type { Clock } from "../domain/clock.js";
import type { LogLine } from "../domain/log-line.js";
import type { ConnectFn } from "../pbx-link/connect.js";
import { createLinkLoop, type SessionEnd, type SessionLoopPolicy } from "../pbx-link/session-loop.js";
import type { LogSource, SourceEvent } from "./log-source.js";

export interface LinkSourceSpec {
  /** The source's id, as evidence and `sipwarden status` name it (`ami:host:port`, `esl:host:port`). */
  readonly id: string;
  /** `ami` or `esl`: names the link in reports. */
  readonly protocol: string;
  readonly clock: Clock;
  readonly reconnect?: Partial<SessionLoopPolicy>;
  /**
   * The source's counters, as `sipwarden status` shows them: `lines` (lines delivered) and `errors`
   * (sessions that ended and were started again) are counted here, the link's own by `run`.
   */
  readonly counters: { lines: number; errors: number } & Record<string, number>;
  readonly onEvent?: (event: SourceEvent) => void;
}

/** What a link source is given by the daemon (and tests): the clock, the TCP seam, where to report. */
export interface LinkSourceDeps {
  readonly clock: Clock;
  readonly connect?: ConnectFn;
  readonly onEvent?: (event: SourceEvent) => void;
  readonly log?: { info(facts: object, msg: string): void };
}

/** What `run` is given: where to put a line, how to report what is not one, and to say it is up. */
export interface LinkSourceSeams {
  readonly emit: (text: string) => void;
  /** The PBX took the login and the events asked for: the source is up until the session ends. */
  readonly loggedIn: () => void;
  readonly report: (kind: SourceEvent["kind"], message: string, detail?: Record<string, unknown>) => void;
}

/** `run` is one session, as the session loop takes it: connect, log in, emit lines until closed. */
export function createLinkSource(
  spec: LinkSourceSpec,
  run: (signal: AbortSignal, seams: LinkSourceSeams) => Promise<SessionEnd>,
): LogSource {
  const { id, counters, clock } = spec;
  let deliver: (lines: readonly LogLine[]) => void = () => undefined;
  // What every session is given; `loggedIn` is the session loop's, added per session.
  const seams: Omit<LinkSourceSeams, "loggedIn"> = {
    emit: (text) => {
      counters.lines++;
      deliver([{ source: id, text, time: clock.now() }]);
    },
    report: (kind, message, detail) =>
      spec.onEvent?.({ source: id, kind, message, ...(detail === undefined ? {} : { detail }) }),
  };
  const loop = createLinkLoop(
    {
      clock,
      reconnect: spec.reconnect,
      protocol: spec.protocol,
      report: seams.report,
      onRestart: () => counters.errors++,
    },
    (signal, up) => run(signal, { ...seams, loggedIn: up }),
  );

  return {
    id,
    async start(onLines) {
      deliver = onLines;
      loop.start();
    },
    stop: () => loop.stop(),
    stats: () => ({ ...counters }),
    health: () => loop.health(),
  } satisfies LogSource;
}
