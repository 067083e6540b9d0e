// Live detection: the config's sources → the detection pipeline → a decision callback, until stopped.

import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import type { Config } from "../config/config.js";
import type { Clock } from "../domain/clock.js";
import type { Decision } from "../domain/decision.js";
import { UserError } from "../domain/errors.js";
import { createFilePositionStore } from "../sources/file-position-store.js";
import { createFileTail } from "../sources/file-tail.js";
import { createJournaldSource } from "../sources/journald.js";
import type { LogSource, SourceEvent } from "../sources/log-source.js";
import { composeDetection } from "./compose-detection.js";
import { createDetectionPipeline } from "./detection-pipeline.js";

export interface LiveDetection {
  stop(): Promise<void>;
}

export interface LiveDetectionDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly onDecision: (d: Decision) => void;
}

const EXPIRE_EVERY_MS = 60_000;

export async function startLiveDetection(config: Config, deps: LiveDetectionDeps): Promise<LiveDetection> {
  try {
    await mkdir(config.stateDir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new UserError(
      "SW_CONFIG_INVALID",
      `cannot create the state directory: ${(e as NodeJS.ErrnoException).code ?? e} (run as root or set state_dir)`,
      config.locate(["state_dir"]),
    );
  }
  const stages = await composeDetection(config, { clock: deps.clock });
  const pipeline = createDetectionPipeline({
    jails: stages.jails,
    detector: stages.detector,
    referenceTime: () => deps.clock.now(),
  });
  const onEvent = (e: SourceEvent): void =>
    deps.log.warn({ source: e.source, kind: e.kind, detail: e.detail }, e.message);
  const positions = createFilePositionStore(join(config.stateDir, "positions.json"), {
    log: deps.log,
    onEvent,
  });

  const used = new Set(config.jails.flatMap((j) => j.sources));
  const sources: { name: string; source: LogSource }[] = [];
  for (const name of used) {
    const s = config.sources[name]!;
    if (s.type === "file") {
      for (const path of s.paths)
        sources.push({
          name,
          source: createFileTail(
            { path, maxLineBytes: s.maxLineLength },
            { positions, log: deps.log, onEvent },
          ),
        });
    } else {
      sources.push({
        name,
        source: createJournaldSource({ matches: s.match }, { positions, log: deps.log, onEvent }),
      });
    }
  }
  for (const { name, source } of sources) {
    await source.start((lines) => {
      for (const line of lines) for (const d of pipeline.processLine(name, line)) deps.onDecision(d);
    });
    deps.log.info(
      { source: source.id, jails: config.jails.filter((j) => j.sources.includes(name)).map((j) => j.name) },
      "watching",
    );
  }
  const expiry = setInterval(() => stages.detector.expire(deps.clock.now()), EXPIRE_EVERY_MS);
  const refresh = setInterval(() => {
    stages.allowlist.refresh().catch((e: unknown) => deps.log.warn({ err: e }, "allowlist refresh failed"));
  }, config.allowlistRefreshMs);
  return {
    async stop() {
      clearInterval(expiry);
      clearInterval(refresh);
      await Promise.all(sources.map((s) => s.source.stop()));
      await positions.close();
    },
  };
}
