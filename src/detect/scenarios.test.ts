// Runs every fixture folder under testdata/: a spec, a list of offenses over event time, the decisions expected.

import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseIp } from "../domain/address.js";
import { createManualClock } from "../domain/clock.js";
import type { Decision } from "../domain/decision.js";
import { formatDuration, parseDuration } from "../domain/duration.js";
import type { Offense } from "../domain/offense.js";
import { createAllowlist } from "./allowlist.js";
import { createDetector } from "./detector.js";
import type { DetectorSpec, JailSpec } from "./jail-spec.js";
import type { RegistrationView } from "./registration-view.js";

/**
 * spec.json: durations as config text ("10m"; null bantime = permanent); escalation and recidive default
 * to disabled; optional allowlist entries, fake DNS answers and registrations (address, user, from, to).
 */
interface ScenarioSpec {
  readonly description: string;
  readonly jails: readonly (Omit<JailSpec, "findtimeMs" | "bantimeMs"> & {
    findtime: string;
    bantime: string | null;
  })[];
  readonly escalation?: { factor: number; maxBantime: string; memory: string };
  readonly recidive?: { maxretry: number; findtime: string; bantime: string | null };
  readonly allowlist?: readonly string[];
  readonly dns?: Readonly<Record<string, readonly string[]>>;
  readonly registrations?: readonly { address: string; user?: string; from: string; to: string }[];
}

/** offenses.json: one step per item; `line` defaults to an Asterisk wrong-password line for the address. */
type Step =
  | { jail: string; address: string; time: string; kind?: "failure" | "success"; line?: string }
  | { expire: string };

/** expected.json: only the keys given are compared; evidence as the offenses' 1-based step numbers. */
interface ExpectedDecision {
  readonly [key: string]: unknown;
}

const root = new URL("./testdata/", import.meta.url);
const ms = (d: string): number => {
  const v = parseDuration(d);
  if (v === null) throw new Error(`bad duration ${d}`);
  return v;
};
const time = (iso: string): number => {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw new Error(`bad time ${iso}`);
  return t;
};
const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());
const read = <T>(scenario: string, file: string): T =>
  JSON.parse(readFileSync(new URL(`${scenario}/${file}`, root), "utf8")) as T;

function toDetectorSpec(s: ScenarioSpec): DetectorSpec {
  return {
    jails: s.jails.map(({ findtime, bantime, ...rest }) => ({
      ...rest,
      findtimeMs: ms(findtime),
      bantimeMs: bantime === null ? null : ms(bantime),
    })),
    escalation: s.escalation
      ? {
          enabled: true,
          factor: s.escalation.factor,
          maxBantimeMs: ms(s.escalation.maxBantime),
          memoryMs: ms(s.escalation.memory),
        }
      : { enabled: false, factor: 1, maxBantimeMs: 0, memoryMs: ms("30d") },
    recidive: s.recidive
      ? {
          enabled: true,
          maxretry: s.recidive.maxretry,
          findtimeMs: ms(s.recidive.findtime),
          bantimeMs: s.recidive.bantime === null ? null : ms(s.recidive.bantime),
        }
      : { enabled: false, maxretry: 1, findtimeMs: 0, bantimeMs: 0 },
  };
}

function project(d: Decision, keys: readonly string[]): Record<string, unknown> {
  const all: Record<string, unknown> = {
    action: d.action,
    target: d.target,
    origin: d.origin,
    reason: d.reason,
    scope: d.scope,
    at: iso(d.at),
    duration: d.expiresAt === null && d.action === "ban" ? "permanent" : formatDuration(d.durationMs),
    expiresAt: iso(d.expiresAt),
    priorBans: d.priorBans,
    evidence: d.evidence.map((e) => e.lineNo),
  };
  return Object.fromEntries(keys.map((k) => [k, all[k]]));
}

async function run(scenario: string): Promise<Decision[]> {
  const spec = read<ScenarioSpec>(scenario, "spec.json");
  const steps = read<Step[]>(scenario, "offenses.json");
  const allowlist = await createAllowlist(spec.allowlist ?? [], {
    resolve: async (name) => {
      const answer = spec.dns?.[name];
      if (!answer) throw new Error("NXDOMAIN");
      return [...answer];
    },
    readFile: async (path) => {
      throw new Error(`no files in scenarios: ${path}`);
    },
    clock: createManualClock(0),
  });
  const registrations: RegistrationView = {
    isRegistered: (address, at) => {
      const r = spec.registrations?.find(
        (x) => parseIp(x.address)?.text === address.text && time(x.from) <= at && at < time(x.to),
      );
      return r ? { user: r.user } : null;
    },
    registeredIn: () => null,
  };
  const detector = createDetector(toDetectorSpec(spec), { allowlist, registrations });
  const decisions: Decision[] = [];
  steps.forEach((step, i) => {
    if ("expire" in step) {
      detector.expire(time(step.expire));
      return;
    }
    const address = parseIp(step.address);
    if (!address) throw new Error(`bad address ${step.address}`);
    const t = time(step.time);
    const line =
      step.line ??
      `${step.time} NOTICE[1234] chan_sip.c: Registration from '"100" <sip:100@pbx>' failed for '${address.text}:5060' - Wrong password`;
    const offense: Offense = {
      kind: step.kind ?? "failure",
      address,
      time: t,
      filter: step.jail,
      evidence: { time: t, source: "fixture.log", lineNo: i + 1, line },
    };
    decisions.push(...detector.handle(step.jail, offense));
  });
  return decisions;
}

const scenarios = readdirSync(root, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

describe("detection scenarios (testdata/*)", () => {
  it("has scenarios", () => {
    expect(scenarios.length).toBeGreaterThan(10);
  });

  for (const scenario of scenarios) {
    it(scenario, async () => {
      const expected = read<ExpectedDecision[]>(scenario, "expected.json");
      const actual = await run(scenario);
      const projected = actual.map((d, i) => project(d, Object.keys(expected[i] ?? expected[0] ?? {})));
      expect(projected).toEqual(expected);
      // Replaying the same offenses gives the same decisions.
      expect(await run(scenario)).toEqual(actual);
    });
  }
});
