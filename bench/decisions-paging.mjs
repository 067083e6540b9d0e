// @ts-check
/* global console, performance, URL */
/**
 * Decision export: reading every decision the SQLite store keeps, page by page, as `GET /v1/decisions` does
 * for an export (`after=<id>`, in the order recorded) and for paging back (`before=<cursor>`, newest first).
 * No peer: fail2ban keeps its bans in SQLite too but offers no paged listing of them (`fail2ban-client
 * banned` prints the bans in force, all at once).
 *
 * Usage (after `npm run build`): node bench/decisions-paging.mjs [--decisions 100000] [--page 500]
 * The store is made in a temporary directory (three decisions a time, as a burst of bans has) and removed.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

const ROOT = new URL("..", import.meta.url).pathname;
const { values } = parseArgs({
  options: { decisions: { type: "string", default: "100000" }, page: { type: "string", default: "500" } },
});
const N = Number(values.decisions);
const PAGE = Number(values.page);
const { createSqliteDecisionStore } = await import(join(ROOT, "dist/store/sqlite/decision-store.js"));
const dir = mkdtempSync(join(tmpdir(), "sw-pages-"));
try {
  const store = createSqliteDecisionStore({ path: join(dir, "state.db"), retentionMs: 90 * 86_400_000 });
  const T0 = Date.now() - 3_600_000;
  const batch = [];
  for (let i = 0; i < N; i++) {
    const at = T0 + Math.floor(i / 3) * 10;
    batch.push({
      action: "ban",
      target: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      origin: "jail:asterisk",
      reason: "5 failures within 10m (asterisk)",
      scope: { kind: "all" },
      at,
      durationMs: 3_600_000,
      expiresAt: at + 3_600_000,
      priorBans: 0,
      evidence: [
        {
          time: at,
          source: "/var/log/asterisk/full",
          lineNo: i + 1,
          line: `NOTICE[1] chan_sip.c: Registration from '<sip:100@pbx>' failed for '10.0.0.1:5060' - Wrong password`,
        },
      ],
    });
    if (batch.length === 5000 || i === N - 1) store.recordDecisions(batch.splice(0));
  }
  for (const mode of ["after", "before"]) {
    const t = performance.now();
    let seen = 0;
    let pages = 0;
    let before;
    let afterId = 0;
    for (let guard = 0; guard <= N / PAGE + 1; guard++) {
      const q = { since: 0, limit: PAGE, ...(mode === "before" ? (before ? { before } : {}) : { afterId }) };
      const got = store.recentDecisions(q);
      pages++;
      seen += got.length;
      if (got.length < PAGE) break;
      const last = got.at(-1);
      before = { at: last.at, id: last.id };
      afterId = last.id;
    }
    const ms = performance.now() - t;
    const how = mode === "after" ? "after=<id> (recorded order)" : "before=<cursor> (newest first)";
    console.log(`${how}: ${seen} of ${N} decisions in ${pages} pages of ${PAGE}: ${ms.toFixed(0)} ms`);
  }
  store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
