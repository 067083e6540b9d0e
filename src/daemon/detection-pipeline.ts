// Lines → filters → offenses → detector → decisions: the detection half of the pipeline, with no IO.

import type { Decision } from "../domain/decision.js";
import type { LogLine } from "../domain/log-line.js";
import type { Evidence, Offense } from "../domain/offense.js";
import type { Filter, FilterMatch } from "../filters/filter.js";
import { createEchoPairing, type EchoPairing } from "../detect/echo-pairing.js";

/** What the pipeline needs of the detector (src/detect's Detector satisfies it). */
export interface OffenseSink {
  handle(jail: string, offense: Offense): readonly Decision[];
}

export interface PipelineJail {
  readonly name: string;
  readonly filter: Filter;
  /** Source names this jail reads. */
  readonly sources: readonly string[];
}

export interface PipelineStats {
  lines: number;
  offenses: number;
  successes: number;
  /** Matched lines whose capture was not an IP (never resolved). */
  rejected: number;
  /** Matched lines with no date and no transport time: counted at the last event time seen. */
  undated: number;
  /** Failures a jail saw twice, over a PBX link and in the PBX's log, and counted once (echo-pairing.ts). */
  echoes: number;
}

export interface DetectionPipeline {
  /** Feeds one line read from `sourceName`; returns the decisions it caused (usually none). */
  processLine(sourceName: string, line: LogLine): readonly Decision[];
  /** Called for every offense before it reaches the detector (success lines included). */
  readonly stats: Readonly<PipelineStats>;
}

export interface DetectionPipelineOptions {
  readonly jails: readonly PipelineJail[];
  readonly detector: OffenseSink;
  /** "Now" for year-less dates and undated lines: the wall clock live, the file's mtime in a replay. */
  readonly referenceTime: () => number;
  /** When set, every jail reads every source (replays of arbitrary files). */
  readonly everyJailReadsEverySource?: boolean;
  /** Each offense with the line it came from (the same object for every jail that matched that line). */
  readonly onOffense?: (jail: string, offense: Offense, line: LogLine) => void;
  /** Called for a failure not counted again because it was seen over a link and in a log (`linkSources`). */
  readonly onEcho?: (jail: string) => void;
  /**
   * Sources read over a PBX link (AMI, ESL), whose failures the PBX may also log: a jail reading one of
   * them and another source counts each failure seen both ways once.
   */
  readonly linkSources?: ReadonlySet<string>;
}

export function createDetectionPipeline(options: DetectionPipelineOptions): DetectionPipeline {
  const stats: PipelineStats = { lines: 0, offenses: 0, successes: 0, rejected: 0, undated: 0, echoes: 0 };
  const links = options.linkSources ?? new Set<string>();
  // A pairing per jail that reads a link and something else: each jail counts its own failures.
  const pairings = new Map<string, EchoPairing>();
  for (const jail of options.jails)
    if (jail.sources.some((s) => links.has(s)) && jail.sources.some((s) => !links.has(s)))
      pairings.set(jail.name, createEchoPairing());
  const routes = new Map<string, readonly PipelineJail[]>();
  const jailsFor = (source: string): readonly PipelineJail[] => {
    let list = routes.get(source);
    if (!list) {
      list = options.everyJailReadsEverySource
        ? options.jails
        : options.jails.filter((j) => j.sources.includes(source));
      routes.set(source, list);
    }
    return list;
  };
  let lastEventTime: number | null = null;
  const none: readonly Decision[] = [];

  return {
    stats,
    processLine(sourceName, line) {
      stats.lines++;
      let out: Decision[] | null = null;
      const jails = jailsFor(sourceName);
      if (jails.length === 0) return none;
      // One context per line, as two shapes (with or without a transport time): a filter only reads it.
      const ctx =
        line.time === undefined
          ? { referenceTime: options.referenceTime() }
          : { referenceTime: options.referenceTime(), time: line.time };
      for (const jail of jails) {
        const r = jail.filter.match(line.text, ctx);
        if (r.status === "rejected") stats.rejected++;
        if (r.status !== "matched") continue;
        const m = r.match;
        let time = m.time;
        if (time === null) {
          stats.undated++;
          time = lastEventTime ?? options.referenceTime();
        } else lastEventTime = time;
        // (No lookup at all without links: replays never have one.)
        const pairing = pairings.size > 0 && m.kind === "failure" ? pairings.get(jail.name) : undefined;
        if (
          pairing?.isEcho(m.address.text, m.user, links.has(sourceName), options.referenceTime()) === true
        ) {
          stats.echoes++;
          options.onEcho?.(jail.name);
          continue;
        }
        const offense = toOffense(m, time, jail.filter.name, line);
        if (m.kind === "success") stats.successes++;
        else stats.offenses++;
        options.onOffense?.(jail.name, offense, line);
        const decisions = options.detector.handle(jail.name, offense);
        if (decisions.length > 0) (out ??= []).push(...decisions);
      }
      return out ?? none;
    },
  };
}

/**
 * The offense of a match, its optional fields present only when known. Spelled out rather than spread:
 * replays build one per matching line (a spread copies through a temporary object each time).
 */
function toOffense(m: FilterMatch, time: number, filter: string, line: LogLine): Offense {
  const evidence: Evidence =
    line.lineNo === undefined
      ? { time, source: line.source, line: line.text }
      : { time, source: line.source, lineNo: line.lineNo, line: line.text };
  const { kind, address, user, failId } = m;
  if (failId === undefined)
    return user === undefined
      ? { kind, address, time, filter, evidence }
      : { kind, address, time, filter, user, evidence };
  return user === undefined
    ? { kind, address, time, filter, failId, evidence }
    : { kind, address, time, filter, user, failId, evidence };
}
