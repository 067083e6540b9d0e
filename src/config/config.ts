// The normalized, frozen configuration every stage receives a slice of.

import type { BanScope, PortRange, Protocol } from "../domain/decision.js";
import type { ErrorLocation } from "../domain/errors.js";
import type { PresetName } from "./schema.js";

export interface ServiceConfig {
  readonly name: string;
  readonly protocols: readonly Protocol[];
  readonly ports: readonly PortRange[];
}

export type SourceConfig =
  | {
      readonly name: string;
      readonly type: "file";
      readonly paths: readonly string[];
      readonly maxLineLength: number;
    }
  | { readonly name: string; readonly type: "journald"; readonly match: readonly string[] };

export interface JailConfig {
  readonly name: string;
  readonly filter: string;
  readonly sources: readonly string[];
  readonly maxretry: number;
  readonly findtimeMs: number;
  /** null = permanent. */
  readonly bantimeMs: number | null;
  readonly scope: BanScope;
}

export interface Config {
  /** The file it came from, or null for embedded defaults. */
  readonly file: string | null;
  readonly preset: PresetName | null;
  readonly stateDir: string;
  readonly logLevel: string;
  readonly allowlist: readonly string[];
  readonly allowlistRefreshMs: number;
  readonly services: Readonly<Record<string, ServiceConfig>>;
  readonly sources: Readonly<Record<string, SourceConfig>>;
  /** Enabled jails only, in config order. */
  readonly jails: readonly JailConfig[];
  readonly escalation: {
    readonly enabled: boolean;
    readonly factor: number;
    readonly maxBantimeMs: number;
    readonly memoryMs: number;
  };
  readonly recidive: {
    readonly enabled: boolean;
    readonly maxretry: number;
    readonly findtimeMs: number;
    readonly bantimeMs: number | null;
  };
  /** Where a config key was written, for errors raised later (e.g. a filter that fails to load). */
  locate(path: readonly (string | number)[]): ErrorLocation;
}
