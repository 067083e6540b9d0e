// A notification as an HTTP POST to a webhook: the URL and the token read from their files at each send
// (rotated ones need no reload), redirects not followed (the token goes to the host configured and no
// other), a few tries when the server is busy or away, and an error that says what it answered.

import type { NotifyConfig } from "../config/config.js";
import { checkWebhookUrl } from "../config/normalize.js";
import { isUserError } from "../domain/errors.js";
import { ConfigFileError, readSecretLine } from "../domain/secret-file.js";
import { withRetries } from "./retry.js";

export type WebhookConfig = NonNullable<NotifyConfig["webhook"]>;

export interface WebhookDeps {
  readonly fetch: () => Promise<typeof fetch>;
  /** Waits between tries (tests give a shorter one). */
  readonly sleep?: (ms: number) => Promise<void>;
}

const TIMEOUT_MS = 10_000;
/** Waits before the second and third tries; a server's Retry-After is taken up to the last one. */
const RETRY_WAITS_MS = [1000, 5000];

/**
 * The webhook's URL as configured or as its file holds it, checked as the config's is (a file's that is not
 * fit: a ConfigFileError naming it).
 */
export function webhookUrl(cfg: WebhookConfig): URL {
  if ("inline" in cfg.url) return new URL(cfg.url.inline);
  const { file } = cfg.url;
  try {
    return checkWebhookUrl(readSecretLine(file, "webhook URL file"), { file });
  } catch (e) {
    throw isUserError(e) ? new ConfigFileError(`the webhook URL file ${file}: ${e.message}`) : e;
  }
}

class Answered extends Error {
  constructor(
    message: string,
    readonly again: boolean,
    readonly retryAfterMs: number | null,
  ) {
    super(message);
  }
}

/** Posts `body` (JSON); resolves when the server took it (2xx), else rejects saying why. */
export async function sendWebhook(cfg: WebhookConfig, body: string, deps: WebhookDeps): Promise<void> {
  const url = webhookUrl(cfg);
  const token = cfg.tokenFile === null ? null : readSecretLine(cfg.tokenFile, "webhook token file");
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const f = await deps.fetch();
  const where = `${url.protocol}//${url.host}`;
  const longest = RETRY_WAITS_MS[RETRY_WAITS_MS.length - 1] as number;
  try {
    await withRetries(
      // No answer at all becomes an error saying why (fetch keeps the reason in `cause`).
      () =>
        post(f, url, body, token).catch((e: unknown) => {
          throw e instanceof Answered ? e : new Error(why(e), { cause: e });
        }),
      {
        waitsMs: RETRY_WAITS_MS,
        retryAfter: (e, planned) =>
          e instanceof Answered ? (e.again ? Math.min(e.retryAfterMs ?? planned, longest) : null) : planned,
        sleep,
      },
    );
  } catch (e) {
    throw new Error(`${where}: ${(e as Error).message}`, { cause: e });
  }
}

async function post(f: typeof fetch, url: URL, body: string, token: string | null): Promise<void> {
  const res = await f(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "user-agent": "sipwarden",
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
    },
    body,
    redirect: "manual",
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  const text = (await res.text()).replace(/\s+/g, " ").trim().slice(0, 200);
  if (res.status >= 200 && res.status < 300) return;
  const header = res.headers.get("retry-after");
  const retryAfter = header === null || !/^\d{1,6}$/.test(header.trim()) ? NaN : Number(header);
  throw new Answered(
    `HTTP ${res.status}${text === "" ? "" : `: ${text}`}`,
    res.status >= 500 || res.status === 429,
    Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter * 1000 : null,
  );
}

/** What went wrong, with the reason fetch keeps in `cause` ("fetch failed": ECONNREFUSED, a bad certificate). */
function why(e: unknown): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  const cause = err.cause?.code ?? err.cause?.message;
  return cause === undefined ? err.message : `${err.message} (${cause})`;
}
