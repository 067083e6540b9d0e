// The memory backend passes the shared contract and expires bans on the injected clock.
import { expect, it } from "vitest";
import { describeBackendContract } from "../../../test/enforce/backend-contract.js";
import { labPolicy } from "../../../test/enforce/policy-fixtures.js";
import { createManualClock } from "../../domain/clock.js";
import { createMemoryBackend } from "./backend.js";

describeBackendContract("memory", async () => {
  const clock = createManualClock(1_700_000_000_000);
  return { backend: createMemoryBackend({}, { clock }), now: clock.now };
});

it("expires bans when the clock passes their timeout", async () => {
  const clock = createManualClock(0);
  const backend = createMemoryBackend({}, { clock });
  await backend.apply(labPolicy());
  await backend.ban([{ target: "192.0.2.1", timeoutMs: 1000, scope: { kind: "all" } }]);
  clock.advance(999);
  expect(await backend.listBans()).toHaveLength(1);
  clock.advance(1);
  expect(await backend.listBans()).toHaveLength(0);
  expect(backend.appliedPolicy()).toEqual(labPolicy());
});
