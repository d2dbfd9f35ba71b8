/**
 * Serving the built web companion (dist/companion) under /companion/, with its CSP. Whoever
 * serves these files controls the companion, keys and all (docs/security.md §4a), so only a
 * party the user trusts serves them: the app itself (`startCompanionHost`, or its embedded
 * relay, which is the app too), or a standalone relay started with --serve-companion, which the
 * user must then trust as much as the computer. A relay does not serve them by default.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname } from 'node:path';
import { BASE_HEADERS, COMPANION_CSP, contentType, fileInside, setHeaders } from '../src-node/web-files.js';
import { createWebServer, listen, type Tls } from '../src-node/web-server.js';

export const COMPANION_PATH = '/companion/';

export { COMPANION_CSP };

export function textResponse(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(body);
}

/** Answer GET /companion and /companion/… from `dir`; false when the path is not the companion's. */
export async function serveCompanion(dir: string, path: string, res: ServerResponse): Promise<boolean> {
  if (path === '/companion') {
    res.writeHead(301, { Location: COMPANION_PATH });
    res.end();
    return true;
  }
  if (!path.startsWith(COMPANION_PATH)) return false;
  const rel = path.slice(COMPANION_PATH.length);
  const file = fileInside(dir, rel);
  if (file === null) {
    textResponse(res, 404, 'Not found.');
    return true;
  }
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch {
    textResponse(res, 404, 'Not found.');
    return true;
  }
  res.writeHead(200, {
    'Content-Type': contentType(file),
    'Content-Security-Policy': COMPANION_CSP,
    'Cache-Control': extname(file) === '.html' ? 'no-store' : 'public, max-age=3600',
    'X-Frame-Options': 'DENY',
    'Cross-Origin-Resource-Policy': 'same-origin',
  });
  res.end(data);
  return true;
}

export interface CompanionHostOptions {
  companionDir: string;
  host?: string;
  port?: number;
  tls?: Tls;
}

export interface CompanionHost {
  /** The companion's address: <origin>/companion/. */
  readonly url: string;
  readonly origin: string;
  close(): Promise<void>;
}

/** The app's own static server for the web companion, when the relay it uses is not its own. */
export async function startCompanionHost(options: CompanionHostOptions): Promise<CompanionHost> {
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    setHeaders(res, BASE_HEADERS);
    if (req.method !== 'GET' && req.method !== 'HEAD') return textResponse(res, 405, 'Method not allowed.');
    const path = new URL(req.url ?? '/', 'http://companion').pathname;
    void serveCompanion(options.companionDir, path, res)
      .then((served) => served || textResponse(res, 404, 'Not found.'))
      .catch(() => (res.headersSent ? res.destroy() : textResponse(res, 500, 'Internal error.')));
  };
  const server = createWebServer(options.tls, handler);
  const { origin } = await listen(server, options.host ?? '127.0.0.1', options.port ?? 0, options.tls !== undefined);
  return {
    url: `${origin}${COMPANION_PATH}`,
    origin,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
