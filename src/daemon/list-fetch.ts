// Downloads of list files (a blocklist's `url`, the country lists' `urls`): fetched into a temporary file,
// checked to be a list of networks, renamed over the old one; anything else keeps the old list.

import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { Config } from "../config/config.js";
import { errorCode } from "../domain/errors.js";
import { parseBlocklist } from "../enforce/blocklist-file.js";

/** One file the daemon keeps fresh from a URL. */
export interface ListDownload {
  readonly url: string;
  readonly file: string;
  readonly refreshMs: number;
  /** The HTTP proxy to fetch through (`http_proxy`), absent for direct. */
  readonly proxy?: string;
}

/** Every download the config asks for: blocklists with a URL, and each allowed country's URLs. */
export function listDownloads(config: Config): ListDownload[] {
  const fw = config.firewall;
  const out: ListDownload[] = fw.blocklists.flatMap((b) =>
    b.url === null ? [] : [{ url: b.url, file: b.file, refreshMs: b.refreshMs }],
  );
  const withProxy = (d: ListDownload): ListDownload =>
    config.httpProxy === null ? d : { ...d, proxy: config.httpProxy };
  const c = fw.countries;
  if (c)
    for (const cc of c.allow)
      c.urls.forEach((url, i) => {
        const file = c.files[i];
        if (file !== undefined)
          out.push({
            url: url.replaceAll("{cc}", cc),
            file: file.replaceAll("{cc}", cc),
            refreshMs: c.refreshMs,
          });
      });
  return out.map(withProxy);
}

/** Node's fetch has no proxy support: through a proxy, undici's own fetch with its ProxyAgent (one per URL). */
const proxyAgents = new Map<string, unknown>();
export async function fetchVia(proxy: string | undefined): Promise<typeof fetch> {
  if (proxy === undefined) return fetch;
  const undici = await import("undici");
  let agent = proxyAgents.get(proxy) as InstanceType<typeof undici.ProxyAgent> | undefined;
  if (agent === undefined) proxyAgents.set(proxy, (agent = new undici.ProxyAgent(proxy)));
  const through = agent;
  return ((url: string, init: RequestInit) =>
    undici.fetch(url, { ...(init as object), dispatcher: through })) as unknown as typeof fetch;
}

/** The largest list accepted (VoIPBL is ~1 MB; the largest country lists a few MB). */
export const MAX_LIST_BYTES = 64 * 1024 * 1024;
const TIMEOUT_MS = 60_000;

export type FetchOutcome =
  | { readonly kind: "replaced"; readonly networks: number }
  | { readonly kind: "unchanged" }
  | { readonly kind: "failed"; readonly why: string };

/** Beside a downloaded file: the server's ETag for it, valid while the file keeps the mtime it was written with. */
function etagFile(file: string): string {
  return `${file}.etag`;
}

/** The ETag to send (If-None-Match), or null when none is known for the file as it is now. */
async function knownEtag(file: string, mtimeMs: number): Promise<string | null> {
  try {
    const v = JSON.parse(await readFile(etagFile(file), "utf8")) as { etag?: unknown; mtimeMs?: unknown };
    return typeof v.etag === "string" && v.mtimeMs === mtimeMs && /^(W\/)?"[^"\r\n]*"$/.test(v.etag)
      ? v.etag
      : null;
  } catch {
    return null;
  }
}

/**
 * Fetches `d.url` into `d.file`. Asks only for something newer than the file (If-Modified-Since, and
 * If-None-Match with the ETag the server gave for it when the file is still the one written then), refuses
 * a body over `MAX_LIST_BYTES`, and keeps the old file unless the new one parses as a list: some networks,
 * and at most one line in ten that is not one (an HTML error page served with status 200 is not a list).
 */
export async function fetchList(
  d: ListDownload,
  options: { timeoutMs?: number; maxBytes?: number } = {},
): Promise<FetchOutcome> {
  const maxBytes = options.maxBytes ?? MAX_LIST_BYTES;
  const headers: Record<string, string> = { "user-agent": "sipwarden" };
  const old = await stat(d.file).catch(() => null);
  if (old) {
    headers["if-modified-since"] = new Date(old.mtimeMs).toUTCString();
    const etag = await knownEtag(d.file, old.mtimeMs);
    if (etag !== null) headers["if-none-match"] = etag;
  }
  let text: string;
  let etag: string | null;
  try {
    const res = await (
      await fetchVia(d.proxy)
    )(d.url, {
      headers,
      redirect: "follow",
      signal: AbortSignal.timeout(options.timeoutMs ?? TIMEOUT_MS),
    });
    if (res.status === 304) return { kind: "unchanged" };
    if (res.status !== 200) {
      await res.body?.cancel();
      return { kind: "failed", why: `HTTP ${res.status}` };
    }
    etag = res.headers.get("etag");
    const body = await readCapped(res, maxBytes);
    if (body === null) return { kind: "failed", why: `larger than ${maxBytes} bytes` };
    text = new TextDecoder().decode(body);
  } catch (e) {
    // fetch wraps the socket's error (ECONNREFUSED, ENOTFOUND…) as the cause of a TypeError.
    const err = e as Error & { cause?: { code?: string; message?: string } };
    return { kind: "failed", why: err.cause?.code ?? err.cause?.message ?? err.name };
  }
  const parsed = parseBlocklist(text, d.url);
  if (parsed.entries.length === 0) return { kind: "failed", why: "no networks in the download" };
  if (parsed.problems.length > 5 && parsed.problems.length * 10 > parsed.entries.length)
    return {
      kind: "failed",
      why: `${parsed.problems.length} of ${parsed.entries.length + parsed.problems.length} lines are not networks`,
    };
  await mkdir(dirname(d.file), { recursive: true });
  const tmp = `${d.file}.sipwarden-download`;
  try {
    await writeFile(tmp, text, { mode: 0o644 });
    await rename(tmp, d.file);
    const written = await stat(d.file);
    if (etag !== null && etag.length <= 256)
      await writeFile(etagFile(d.file), JSON.stringify({ etag, mtimeMs: written.mtimeMs }), { mode: 0o644 });
    else await rm(etagFile(d.file), { force: true });
  } catch (e) {
    await rm(tmp, { force: true });
    return {
      kind: "failed",
      why: `cannot write ${d.file}: ${errorCode(e)}`,
    };
  }
  return { kind: "replaced", networks: parsed.entries.length };
}

async function readCapped(res: Response, maxBytes: number): Promise<Uint8Array | null> {
  const declared = Number(res.headers.get("content-length") ?? "NaN");
  if (declared > maxBytes) {
    await res.body?.cancel();
    return null;
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = res.body?.getReader();
  if (!reader) return new Uint8Array(0);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/** The last downloads of one file: when one last succeeded (epoch ms), and the last one's error. */
export interface DownloadStatus {
  readonly okAt: number | null;
  readonly error: string | null;
}

/** A failed download is tried again this soon (or at its refresh period, if shorter). */
const RETRY_MS = 15 * 60_000;

export interface ListDownloaderDeps {
  readonly now: () => number;
  readonly log: {
    info(facts: object, msg: string): void;
    warn(facts: object, msg: string): void;
  };
  /** Called once after a round of downloads replaced at least one file. */
  readonly replaced: () => Promise<void>;
  readonly fetch?: (d: ListDownload) => Promise<FetchOutcome>;
  /** How often due downloads are looked for; default a minute. */
  readonly checkMs?: number;
}

/**
 * Keeps `downloads` fresh: a file missing or older than its refresh period is fetched at start, then each
 * again when its period has passed since the last try (a failure is retried within 15 minutes). One round
 * at a time, one download after the other.
 */
export function startListDownloader(
  downloads: readonly ListDownload[],
  deps: ListDownloaderDeps,
): { stop(): void; check(): Promise<void>; status(file: string): DownloadStatus | undefined } {
  const fetchOne = deps.fetch ?? ((d: ListDownload) => fetchList(d));
  /** When each file was last tried, or is taken to have been (its mtime at start). */
  const tried = new Map<string, number>();
  const outcomes = new Map<string, DownloadStatus>();
  let stopped = false;
  let round: Promise<void> = Promise.resolve();

  const runRound = async (): Promise<void> => {
    let replaced = false;
    for (const d of downloads) {
      if (stopped) return;
      if (!tried.has(d.file)) {
        const s = await stat(d.file).catch(() => null);
        tried.set(d.file, s === null ? Number.NEGATIVE_INFINITY : s.mtimeMs);
      }
      const now = deps.now();
      if (now - (tried.get(d.file) as number) < d.refreshMs) continue;
      const outcome = await fetchOne(d);
      const before = outcomes.get(d.file);
      outcomes.set(
        d.file,
        outcome.kind === "failed"
          ? { okAt: before?.okAt ?? null, error: outcome.why }
          : { okAt: now, error: null },
      );
      if (outcome.kind === "failed") {
        tried.set(d.file, now - d.refreshMs + Math.min(RETRY_MS, d.refreshMs));
        deps.log.warn(
          { url: d.url, file: d.file, why: outcome.why },
          "list download failed; the old list stays",
        );
        continue;
      }
      tried.set(d.file, now);
      if (outcome.kind === "replaced") {
        replaced = true;
        deps.log.info({ url: d.url, file: d.file, networks: outcome.networks }, "list downloaded");
      }
    }
    if (replaced && !stopped) await deps.replaced();
  };
  const check = (): Promise<void> => {
    round = round.then(runRound).catch((e: unknown) => deps.log.warn({ err: e }, "list downloads failed"));
    return round;
  };
  void check();
  const timer = downloads.length === 0 ? null : setInterval(() => void check(), deps.checkMs ?? 60_000);
  return {
    stop() {
      stopped = true;
      if (timer) clearInterval(timer);
    },
    /** Runs a round now (after the one in progress); resolves when it is done. */
    check,
    status: (file) => outcomes.get(file),
  };
}
