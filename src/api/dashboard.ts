// The dashboard's three static files, served on the TCP listener without a token: they hold no data (the
// page asks the API for it, with the token the admin types in). Read once; strict headers, so that what
// the daemon reports (attackers' text among it) can never run as script in the admin's browser.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../daemon/package-root.js";
import type { ApiHandler } from "./http-json.js";

const FILES: Readonly<Record<string, readonly [file: string, type: string]>> = {
  "/": ["index.html", "text/html; charset=utf-8"],
  "/dashboard.js": ["dashboard.js", "text/javascript; charset=utf-8"],
  "/dashboard.css": ["dashboard.css", "text/css; charset=utf-8"],
};

const HEADERS = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

/** Serves GET/HEAD of the dashboard's files from `dir` (default: the package's web/), else hands on. */
export function withDashboard(handler: ApiHandler, dir = join(packageRoot(), "web")): ApiHandler {
  const files = new Map(
    Object.entries(FILES).map(([path, [file, type]]) => [
      path,
      { body: readFileSync(join(dir, file)), type },
    ]),
  );
  return (req, res) => {
    const path = (req.url ?? "/").split("?")[0] as string;
    const f = files.get(path);
    if (f === undefined || (req.method !== "GET" && req.method !== "HEAD")) return handler(req, res);
    res.writeHead(200, { ...HEADERS, "content-type": f.type, "content-length": f.body.length });
    res.end(req.method === "HEAD" ? undefined : f.body);
  };
}
