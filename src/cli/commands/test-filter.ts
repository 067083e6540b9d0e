// `sipwarden test-filter <log> <filter>`: fail2ban-regex's job, faster, with a --json report for tools.

import { statSync } from "node:fs";
import { UserError } from "../../domain/errors.js";
import type { Filter } from "../../filters/filter.js";
import { resolveFilter } from "../../filters/resolve.js";
import { readLines } from "../../sources/read-lines.js";
import { parseCommandArgs } from "../args.js";
import type { CliIo } from "../io.js";
import { createBufferedWriter } from "../buffered-writer.js";
import { createProgressBar } from "../progress-bar.js";

const USAGE =
  "sipwarden test-filter <log> <filter|file|name[mode=...]> [--json] [--print-matched] [--print-missed] [--max-line-length N] [--progress]";

export async function testFilterCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    "test-filter",
    args,
    {
      json: { type: "boolean" },
      "print-matched": { type: "boolean" },
      "print-missed": { type: "boolean" },
      "max-line-length": { type: "string" },
      progress: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    { min: 0, max: 2, usage: USAGE },
  );
  if (values.help) {
    io.stdout(`usage: ${USAGE}\n`);
    return 0;
  }
  if (positionals.length !== 2)
    throw new UserError("SW_USAGE", `test-filter: expected <log> <filter> (usage: ${USAGE})`);
  const [logPath, spec] = positionals as [string, string];
  const maxLineLength = values["max-line-length"] ? Number(values["max-line-length"]) : 16_384;
  if (!Number.isInteger(maxLineLength) || maxLineLength < 64)
    throw new UserError("SW_USAGE", "test-filter: --max-line-length takes a whole number ≥ 64");
  let size: number;
  let mtime: number;
  try {
    const st = statSync(logPath);
    size = st.size;
    mtime = st.mtimeMs;
  } catch (e) {
    throw new UserError("SW_SOURCE", `cannot read log: ${(e as NodeJS.ErrnoException).code ?? e}`, {
      file: logPath,
    });
  }
  const filter = resolveFilter(spec);
  return runTestFilter(filter, logPath, size, mtime, maxLineLength, values, io);
}

interface Flags {
  json?: boolean;
  "print-matched"?: boolean;
  "print-missed"?: boolean;
  progress?: boolean;
}

function runTestFilter(
  filter: Filter,
  logPath: string,
  size: number,
  referenceTime: number,
  maxLineLength: number,
  flags: Flags,
  io: CliIo,
): number {
  const out = createBufferedWriter(io.stdout);
  const failHits = new Array<number>(filter.failregex.length).fill(0);
  const successHits = new Array<number>(filter.successregex.length).fill(0);
  const addresses = new Map<string, number>();
  let matched = 0;
  let ignored = 0;
  let rejected = 0;
  let missed = 0;
  let firstMatch = true;
  const json = Boolean(flags.json);
  const progress =
    flags.progress || (io.stderrIsTTY && size > 20 * 1024 * 1024) ? createProgressBar(io.stderr, size) : null;

  if (json)
    out.write(`{"filter":${JSON.stringify(filter.name)},"file":${JSON.stringify(logPath)},"matches":[`);
  const ctx = { referenceTime };
  const { lines, truncated } = readLines(
    logPath,
    { maxLineLength, onProgress: progress ? (done) => progress.update(done) : undefined },
    (text, lineNo) => {
      const r = filter.match(text, ctx);
      switch (r.status) {
        case "matched": {
          const m = r.match;
          matched++;
          (m.kind === "failure" ? failHits : successHits)[m.regexIndex]! += 1;
          addresses.set(m.address.text, (addresses.get(m.address.text) ?? 0) + 1);
          if (json) {
            const time = m.time === null ? "null" : `"${new Date(m.time).toISOString()}"`;
            const user = m.user === undefined ? "" : `,"user":${JSON.stringify(m.user)}`;
            out.write(
              `${firstMatch ? "" : ","}{"line":${lineNo},"address":"${m.address.text}","time":${time}${user},"kind":"${m.kind}"}`,
            );
            firstMatch = false;
          } else if (flags["print-matched"]) out.write(`${lineNo}: ${text}\n`);
          break;
        }
        case "ignored":
          ignored++;
          break;
        case "rejected":
          rejected++;
          if (!json && flags["print-missed"]) out.write(`${lineNo} (not an IP: ${r.why}): ${text}\n`);
          break;
        case "missed":
          missed++;
          if (!json && flags["print-missed"]) out.write(`${lineNo}: ${text}\n`);
          break;
      }
    },
  );
  progress?.done();
  if (json) {
    out.write(
      `],"lines":${lines},"matched":${matched},"ignored":${ignored},"missed":${missed + rejected},"rejected":${rejected},"truncated":${truncated},` +
        `"addresses":${addresses.size},"failregex":${JSON.stringify(filter.failregex.map((regex, i) => ({ regex, hits: failHits[i] })))},` +
        `"successregex":${JSON.stringify(filter.successregex.map((regex, i) => ({ regex, hits: successHits[i] })))}}\n`,
    );
    out.flush();
    return 0;
  }
  const section = (title: string, list: readonly string[], hits: readonly number[]): void => {
    const total = hits.reduce((a, b) => a + b, 0);
    out.write(`\n${title}: ${total} total\n`);
    list.forEach((re, i) => out.write(`|  ${String(i + 1).padStart(2)}) [${hits[i]}] ${re}\n`));
  };
  out.write(`\nRunning tests\n=============\n\nUse   filter : ${filter.name}\nUse log file : ${logPath}\n`);
  out.write(`\nResults\n=======\n`);
  section("Failregex", filter.failregex, failHits);
  if (filter.successregex.length > 0) section("Successregex", filter.successregex, successHits);
  out.write(`\nIgnoreregex: ${ignored} total\n`);
  filter.ignoreregex.forEach((re, i) => out.write(`|  ${String(i + 1).padStart(2)}) ${re}\n`));
  const top = [...addresses.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10);
  out.write(`\nAddresses: ${addresses.size} distinct\n`);
  for (const [addr, n] of top) out.write(`|  ${addr} ${n}\n`);
  if (rejected > 0)
    out.write(`\nRejected: ${rejected} lines matched but captured no IP address (never resolved)\n`);
  if (truncated > 0) out.write(`Truncated: ${truncated} lines longer than ${maxLineLength} bytes were cut\n`);
  out.write(`\nLines: ${lines} lines, ${ignored} ignored, ${matched} matched, ${missed + rejected} missed\n`);
  out.flush();
  return 0;
}
