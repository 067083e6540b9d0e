// Test fixture run in a forked child: records batches into a store until the parent SIGKILLs it mid-batch.

import { createSqliteDecisionStore } from "../decision-store.js";
import type { Decision } from "../../../domain/decision.js";

const [path, sizeText] = process.argv.slice(2);
const size = Number(sizeText);
const store = createSqliteDecisionStore({ path: path as string, retentionMs: 86_400_000 });

function batch(n: number): Decision[] {
  return Array.from({ length: size }, (_, i) => ({
    action: "ban",
    target: `10.${n & 255}.${(i >> 8) & 255}.${i & 255}`,
    origin: "feed:crash-test",
    // The batch number, so the parent can count rows per batch.
    reason: `batch ${n}`,
    scope: { kind: "all" },
    at: 1_700_000_000_000,
    durationMs: 3_600_000,
    expiresAt: 1_700_003_600_000,
    priorBans: 0,
    evidence: [{ time: 1_700_000_000_000, source: "crash", line: "x".repeat(200) }],
  }));
}

// Announce each batch before the synchronous write starts, so the parent can aim its kill inside it.
for (let n = 0; ; n++) {
  const decisions = batch(n);
  await new Promise<void>((done) => process.send?.({ starting: n }, () => done()));
  store.recordDecisions(decisions);
  await new Promise<void>((done) => process.send?.({ done: n }, () => done()));
}
