// JSON (and text) responses and the one error shape every non-2xx answer of the control API has.

import type { IncomingMessage, ServerResponse } from "node:http";
import type { ApiError, ApiErrorCode } from "./contract.js";

/** A node:http request handler; the API is one of these, so tests can call it without a socket. */
export type ApiHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** pino-compatible subset: constant message, facts in the object. */
export interface ApiLog {
  info(facts: object, msg: string): void;
  warn(facts: object, msg: string): void;
  error(facts: object, msg: string): void;
}

/** A request that fails with a given status and code; thrown inside the app, answered by it. */
export class HttpProblem extends Error {
  readonly status: number;
  readonly code: ApiErrorCode;
  readonly headers: Readonly<Record<string, string>>;
  constructor(status: number, code: ApiErrorCode, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = "HttpProblem";
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  sendText(res, status, "application/json; charset=utf-8", JSON.stringify(body), headers);
}

export function sendText(
  res: ServerResponse,
  status: number,
  contentType: string,
  text: string,
  headers: Readonly<Record<string, string>> = {},
): void {
  res.writeHead(status, {
    "content-type": contentType,
    "content-length": String(Buffer.byteLength(text)),
    // Answers describe live state and may name attackers: never cached, never sniffed as HTML.
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    ...headers,
  });
  res.end(text);
}

export function sendProblem(res: ServerResponse, problem: HttpProblem): void {
  const body: ApiError = { error: { code: problem.code, message: problem.message } };
  sendJson(res, problem.status, body, problem.headers);
}
