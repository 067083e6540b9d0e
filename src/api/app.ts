// The control API as a node:http handler built from the daemon's services: routes, validation, errors.

import type { IncomingMessage } from "node:http";
import { z } from "zod";
import { parseIp } from "../domain/address.js";
import { isUserError } from "../domain/errors.js";
import { withBearerToken } from "./bearer-auth.js";
import {
  MAX_IMPORT_BANS,
  MAX_IMPORT_EVIDENCE,
  type AllowCreated,
  type AllowList,
  type AllowRemoved,
  type BanCreated,
  type BanList,
  type BanRemoved,
  type DecisionList,
  type ExplainResult,
  type ImportBansResult,
  type RegistrationList,
  type Status,
  type SuspectCleared,
  type SuspectList,
} from "./contract.js";
import { HttpProblem, sendJson, sendProblem, sendText, type ApiHandler, type ApiLog } from "./http-json.js";
import { METRICS_CONTENT_TYPE, renderMetrics } from "./metrics.js";
import { decisionQuery, registrationQuery, suspectQuery } from "./query-params.js";
import { bannableTarget, invalidTarget, noControlChars, parseTarget } from "./request-checks.js";
import { isControlRefusal, type ControlServices } from "./services.js";

export interface ApiAppOptions {
  /** When set, every request needs `Authorization: Bearer <token>`. */
  readonly token?: string;
  readonly log: ApiLog;
  /** Largest request body accepted; 64 KiB. */
  readonly maxBodyBytes?: number;
}

const MAX_BODY_BYTES = 64 * 1024;
/** An import request: up to MAX_IMPORT_BANS bans with their evidence lines. */
const MAX_IMPORT_BODY_BYTES = 8 * 1024 * 1024;

/** Ten years: longer is "permanent" (null), and keeps expiry arithmetic far from overflow. */
const MAX_FOR_MS = 10 * 365 * 86_400_000;
/** Wider networks than these would cut off a large part of the internet, the admin included. */

const target = z.string().min(1).max(100);
const forMs = z.number().int().min(1000).max(MAX_FOR_MS).nullable().optional();
const BanBody = z.strictObject({
  target,
  forMs,
  reason: z.string().min(1).max(200).regex(noControlChars, "must not contain control characters").optional(),
});
const AllowBody = z.strictObject({ target, forMs });
const oneLine = z.string().min(1).max(200).regex(noControlChars, "must not contain control characters");
const isoTime = z.iso.datetime({ offset: true });
const ImportBody = z.strictObject({
  bans: z
    .array(
      z.strictObject({
        target,
        at: isoTime,
        expiresAt: isoTime.nullable(),
        reason: oneLine,
        priorBans: z.number().int().min(0).max(1_000_000),
        // Log lines: attacker text, kept as evidence is (escaped wherever it is shown).
        evidence: z
          .array(z.strictObject({ source: oneLine, line: z.string().max(16_384) }))
          .max(MAX_IMPORT_EVIDENCE),
      }),
    )
    .min(1)
    .max(MAX_IMPORT_BANS),
});

/** A JSON answer, or a text one (the Prometheus metrics). */
type Reply =
  | { readonly status: number; readonly body: unknown }
  | { readonly status: number; readonly text: string; readonly contentType: string };

interface RouteContext {
  readonly req: IncomingMessage;
  /** The path parameter, URL-decoded; "" when the route has none. */
  readonly param: string;
  readonly query: URLSearchParams;
}

interface Route {
  readonly method: "GET" | "POST" | "DELETE";
  readonly path: RegExp;
  readonly name: string;
  readonly run: (ctx: RouteContext) => Promise<Reply>;
}

export function createApiApp(services: ControlServices, options: ApiAppOptions): ApiHandler {
  const { log } = options;
  const maxBody = options.maxBodyBytes ?? MAX_BODY_BYTES;

  // A table rather than a switch: adding a route is adding a row.
  const routes: readonly Route[] = [
    {
      method: "GET",
      path: /^\/v1\/status$/,
      name: "status",
      run: async () => ok<Status>(await services.status()),
    },
    {
      method: "GET",
      path: /^\/v1\/bans$/,
      name: "list-bans",
      run: async () => ok<BanList>({ bans: await services.listBans() }),
    },
    {
      method: "POST",
      path: /^\/v1\/bans$/,
      name: "ban",
      run: async ({ req }) => {
        const body = validate(BanBody, await readJsonBody(req, maxBody));
        const cidr = bannableTarget(body.target, "ban");
        const ban = await services.ban({ target: cidr, forMs: body.forMs, reason: body.reason });
        log.info(
          { target: cidr.text, forMs: body.forMs === undefined ? "default" : body.forMs },
          "manual ban",
        );
        return { status: 201, body: { ban } satisfies BanCreated };
      },
    },
    {
      method: "POST",
      path: /^\/v1\/bans\/import$/,
      name: "import-bans",
      run: async ({ req }) => {
        const body = validate(ImportBody, await readJsonBody(req, Math.max(maxBody, MAX_IMPORT_BODY_BYTES)));
        const bans = body.bans.map((b, i) => {
          const at = Date.parse(b.at);
          const expiresAt = b.expiresAt === null ? null : Date.parse(b.expiresAt);
          if (expiresAt !== null && expiresAt < at)
            throw new HttpProblem(400, "bad-request", `bans.${i}.expiresAt: before its at`);
          return {
            target: bannableTarget(b.target, "ban"),
            at,
            expiresAt,
            reason: b.reason,
            priorBans: b.priorBans,
            evidence: b.evidence.map((e) => ({ time: at, source: e.source, line: e.line })),
          };
        });
        const result = await services.importBans(bans);
        log.info(
          { asked: bans.length, imported: result.imported, skipped: result.skipped.length },
          "bans imported",
        );
        return ok<ImportBansResult>(result);
      },
    },
    {
      // `(.+)`: a CIDR's slash may come encoded (%2F) or not.
      method: "DELETE",
      path: /^\/v1\/bans\/(.+)$/,
      name: "unban",
      run: async ({ param }) => {
        const cidr = parseTarget(param);
        const removed = await services.unban(cidr);
        if (removed.length === 0) throw new HttpProblem(404, "not-found", `no ban in force on ${cidr.text}`);
        log.info({ target: cidr.text, removed: removed.length }, "manual unban");
        return ok<BanRemoved>({ removed });
      },
    },
    {
      method: "POST",
      path: /^\/v1\/allow$/,
      name: "allow",
      run: async ({ req }) => {
        const body = validate(AllowBody, await readJsonBody(req, maxBody));
        const cidr = bannableTarget(body.target, "allow");
        const created = await services.allow({ target: cidr, forMs: body.forMs });
        log.info(
          { target: cidr.text, forMs: body.forMs ?? null, unbanned: created.unbanned.length },
          "manual allow",
        );
        return { status: 201, body: created satisfies AllowCreated };
      },
    },
    {
      method: "GET",
      path: /^\/v1\/allow$/,
      name: "list-allows",
      run: async () => ok<AllowList>(await services.listAllows()),
    },
    {
      method: "GET",
      path: /^\/v1\/decisions$/,
      name: "list-decisions",
      run: async ({ query }) => ok<DecisionList>(await services.recentDecisions(decisionQuery(query))),
    },
    {
      method: "GET",
      path: /^\/v1\/registrations$/,
      name: "list-registrations",
      run: async ({ query }) =>
        ok<RegistrationList>(await services.listRegistrations(registrationQuery(query))),
    },
    {
      method: "GET",
      path: /^\/v1\/registrations\/suspects$/,
      name: "list-suspects",
      run: async ({ query }) => ok<SuspectList>(await services.listSuspects(suspectQuery(query))),
    },
    {
      method: "DELETE",
      path: /^\/v1\/registrations\/suspects\/(.+)$/,
      name: "clear-suspect",
      run: async ({ param }) => {
        const ip = parseIp(param);
        if (!ip) throw invalidTarget(`not an IP address: ${JSON.stringify(param)}`);
        const result = await services.clearSuspect(ip);
        log.info({ target: ip.text, user: result.cleared.user }, "suspect registration cleared by hand");
        return ok<SuspectCleared>(result);
      },
    },
    {
      method: "DELETE",
      path: /^\/v1\/allow\/(.+)$/,
      name: "unallow",
      run: async ({ param }) => {
        const cidr = parseTarget(param);
        const result = await services.unallow(cidr);
        log.info({ target: cidr.text, removed: result.removed.length }, "manual allow removed");
        return ok<AllowRemoved>(result);
      },
    },
    {
      // Where Prometheus looks by default; through the TCP listener it needs the API token too.
      method: "GET",
      path: /^\/metrics$/,
      name: "metrics",
      run: async () => ({
        status: 200,
        text: renderMetrics(await services.status()),
        contentType: METRICS_CONTENT_TYPE,
      }),
    },
    {
      method: "GET",
      path: /^\/v1\/explain\/(.+)$/,
      name: "explain",
      run: async ({ param }) => {
        const ip = parseIp(param);
        if (!ip) throw invalidTarget(`not an IP address: ${JSON.stringify(param)}`);
        return ok<ExplainResult>(await services.explain(ip));
      },
    },
  ];

  async function handle(req: IncomingMessage): Promise<Reply> {
    const method = req.method ?? "GET";
    const url = new URL(req.url ?? "/", "http://sipwarden");
    const { pathname } = url;
    const matching = routes.flatMap((r) => {
      const m = r.path.exec(pathname);
      return m ? [{ route: r, raw: m[1] ?? "" }] : [];
    });
    if (matching.length === 0) throw new HttpProblem(404, "not-found", "no such endpoint");
    const hit = matching.find((x) => x.route.method === method);
    if (!hit) {
      const allow = matching.map((x) => x.route.method).join(", ");
      throw new HttpProblem(405, "method-not-allowed", `use ${allow}`, { allow });
    }
    let param: string;
    try {
      param = decodeURIComponent(hit.raw);
    } catch {
      throw new HttpProblem(400, "bad-request", "malformed percent-encoding in the path");
    }
    try {
      return await hit.route.run({ req, param, query: url.searchParams });
    } catch (e) {
      if (e instanceof HttpProblem) throw e;
      if (isControlRefusal(e)) throw new HttpProblem(e.kind === "conflict" ? 409 : 404, e.kind, e.message);
      // A UserError from below (a target the backend cannot handle, ...) is the caller's to fix.
      if (isUserError(e)) throw new HttpProblem(400, "bad-request", e.message);
      log.error({ err: e, route: hit.route.name }, "control request failed");
      throw new HttpProblem(500, "internal", "internal error; see the daemon's log");
    }
  }

  const app: ApiHandler = (req, res) => {
    handle(req).then(
      (reply) =>
        "text" in reply
          ? sendText(res, reply.status, reply.contentType, reply.text)
          : sendJson(res, reply.status, reply.body),
      (e: unknown) => {
        if (res.headersSent) {
          res.destroy();
          return;
        }
        if (e instanceof HttpProblem) {
          sendProblem(res, e);
          return;
        }
        log.error({ err: e, method: req.method }, "control request failed");
        sendProblem(res, new HttpProblem(500, "internal", "internal error; see the daemon's log"));
      },
    );
  };
  return options.token === undefined ? app : withBearerToken(app, options.token, log);
}

function ok<T>(body: T): Reply {
  return { status: 200, body };
}

function validate<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const where = issue && issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
  throw new HttpProblem(400, "bad-request", `${where}${issue?.message ?? "invalid body"}`);
}

async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const type = req.headers["content-type"];
  if (type !== undefined && !/^application\/json\s*(;|$)/i.test(type))
    throw new HttpProblem(415, "unsupported-media-type", "send the body as application/json");
  const tooLarge = new HttpProblem(413, "payload-too-large", `the body must be at most ${limit} bytes`, {
    connection: "close",
  });
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > limit) throw tooLarge;
  const body = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    // Events, not `for await`: leaving an async iterator early destroys the socket before the 413 is sent.
    const onData = (chunk: Buffer | string): void => {
      const buf = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      size += buf.length;
      if (size > limit) {
        // Stop buffering; the rest drains unread and the connection closes after the 413.
        req.off("data", onData);
        req.resume();
        reject(tooLarge);
        return;
      }
      chunks.push(buf);
    };
    req.on("data", onData);
    req.once("end", () => resolve(Buffer.concat(chunks)));
    req.once("error", reject);
  });
  const text = body.toString("utf8");
  if (text.trim() === "") throw new HttpProblem(400, "bad-request", "expected a JSON body");
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpProblem(400, "bad-request", "the body is not valid JSON");
  }
}
