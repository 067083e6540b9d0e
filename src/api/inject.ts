// Calls an ApiHandler with an in-memory request and response, for testing the API without a socket.

import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import type { ApiHandler } from "./http-json.js";

export interface InjectRequest {
  readonly method: string;
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** An object is sent as JSON (with its content type); a string or Buffer as is. */
  readonly body?: unknown;
  /** Send the body without a content-length, as a chunked upload would. */
  readonly chunked?: boolean;
}

export interface InjectResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read the JSON freely
  readonly json: any;
}

export function inject(handler: ApiHandler, request: InjectRequest): Promise<InjectResponse> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(request.headers ?? {})) headers[k.toLowerCase()] = v;
  let payload: Buffer | null = null;
  if (typeof request.body === "string" || Buffer.isBuffer(request.body))
    payload = Buffer.from(request.body as string | Buffer);
  else if (request.body !== undefined) {
    payload = Buffer.from(JSON.stringify(request.body));
    headers["content-type"] ??= "application/json";
  }
  if (payload && !request.chunked) headers["content-length"] ??= String(payload.length);
  // Sent in small chunks so body limits are exercised the way a socket would deliver them.
  const chunks: Buffer[] = [];
  for (let i = 0; payload && i < payload.length; i += 4096) chunks.push(payload.subarray(i, i + 4096));
  const req = Object.assign(Readable.from(chunks), {
    method: request.method,
    url: request.url,
    headers,
    socket: { remoteAddress: "127.0.0.1" },
  });

  return new Promise((resolve, reject) => {
    let status = 0;
    let sent: Record<string, string> = {};
    const res = {
      headersSent: false,
      writeHead(code: number, h: Record<string, string> = {}) {
        status = code;
        sent = Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
        res.headersSent = true;
        return res;
      },
      end(body?: string | Buffer) {
        const text = body === undefined ? "" : body.toString();
        let json: unknown = undefined;
        try {
          json = text === "" ? undefined : JSON.parse(text);
        } catch {
          // Not JSON; `text` has it.
        }
        resolve({ status, headers: sent, text, json });
        return res;
      },
      destroy() {
        reject(new Error("response destroyed"));
      },
    };
    handler(req as unknown as IncomingMessage, res as unknown as ServerResponse);
  });
}
