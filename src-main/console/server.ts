/**
 * The headless console: the same UI and router as the Electron window, served on loopback.
 * Access needs the one-time link printed at start; it becomes an HttpOnly, SameSite=Strict
 * session cookie. Host and Origin are checked on every request (no DNS rebinding, no
 * cross-site use), the API takes JSON only, and every response carries a strict CSP.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import { BASE_HEADERS, CONSOLE_CSP, contentType, fileInside, PAGE_HEADERS, setHeaders } from '../../src-node/web-files.js';
import { listen } from '../../src-node/web-server.js';
import type { Router } from '../api/router.js';

export const SESSION_COOKIE = 'twofold_console';
const MAX_BODY_BYTES = 256 * 1024;

export { CONSOLE_CSP };

export interface ConsoleOptions {
  router: Router;
  /** The built renderer (vite's output folder). */
  rendererDir: string;
  host?: string;
  port?: number;
}

export interface ConsoleServer {
  readonly origin: string;
  /** The one-time link that opens a session; valid once. */
  readonly loginUrl: string;
  /** Make a new one-time link (the old ones stay valid until used). */
  newLoginUrl(): string;
  close(): Promise<void>;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

export async function startConsole(options: ConsoleOptions): Promise<ConsoleServer> {
  const host = options.host ?? '127.0.0.1';
  if (!['127.0.0.1', '::1', 'localhost'].includes(host)) {
    throw new Error('The console listens on loopback only (127.0.0.1, ::1 or localhost).');
  }
  const loginTokens = new Set<string>(); // sha-256 hex of unused one-time tokens
  const sessions = new Set<string>(); // sha-256 hex of session cookies
  let allowedHosts = new Set<string>();
  let origin = '';

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'Internal error.');
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    setSecurityHeaders(res);
    // DNS rebinding: a hostile name that resolves to 127.0.0.1 still sends its own Host header.
    if (!allowedHosts.has(req.headers.host ?? '')) return send(res, 421, 'text/plain; charset=utf-8', 'Unknown host.');
    const requestOrigin = req.headers.origin;
    if (requestOrigin !== undefined && !allowedOrigins().has(requestOrigin)) {
      return send(res, 403, 'text/plain; charset=utf-8', 'Cross-origin requests are refused.');
    }
    const url = new URL(req.url ?? '/', origin);

    if (url.pathname === '/login' && req.method === 'GET') return login(url, res);
    if (!hasSession(req)) {
      if (url.pathname.startsWith('/api/')) return sendJson(res, 401, notAllowed('Open the link printed by the console first.'));
      return send(res, 401, 'text/html; charset=utf-8', NO_SESSION_PAGE);
    }
    if (url.pathname === '/api/call') return apiCall(req, res);
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain; charset=utf-8', 'Method not allowed.');
    return serveStatic(options.rendererDir, url.pathname, res);
  }

  function login(url: URL, res: ServerResponse): void {
    const token = url.searchParams.get('token') ?? '';
    const id = digest(token).toString('hex');
    if (!token || !loginTokens.has(id)) {
      return send(res, 403, 'text/html; charset=utf-8', LINK_USED_PAGE);
    }
    loginTokens.delete(id);
    const session = randomBytes(32).toString('base64url');
    sessions.add(digest(session).toString('hex'));
    res.setHeader('Set-Cookie', `${SESSION_COOKIE}=${session}; HttpOnly; SameSite=Strict; Path=/`);
    res.setHeader('Location', '/');
    send(res, 303, 'text/plain; charset=utf-8', 'Signed in.');
  }

  function hasSession(req: IncomingMessage): boolean {
    const cookie = parseCookies(req.headers.cookie ?? '')[SESSION_COOKIE];
    if (!cookie) return false;
    const id = digest(cookie);
    for (const known of sessions) if (timingSafeEqual(Buffer.from(known, 'hex'), id)) return true;
    return false;
  }

  async function apiCall(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') return sendJson(res, 405, badInput('Use POST.'));
    // JSON only: a cross-site form cannot send it without a preflight that we never answer.
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
      return sendJson(res, 415, badInput('Send the request as application/json.'));
    }
    const body = await readBody(req);
    if (body === null) {
      res.setHeader('Connection', 'close');
      return sendJson(res, 413, badInput('The request is too large.'));
    }
    let request: unknown;
    try {
      request = JSON.parse(body);
    } catch {
      return sendJson(res, 400, badInput('The request is not valid JSON.'));
    }
    const result = await options.router.call(request, {
      face: 'console',
      ip: req.socket.remoteAddress ?? 'unknown',
      workstation: hostname(),
    });
    sendJson(res, 200, result);
  }

  function allowedOrigins(): Set<string> {
    return new Set([...allowedHosts].map((h) => `http://${h}`));
  }

  function newLoginUrl(): string {
    const token = randomBytes(32).toString('base64url');
    loginTokens.add(digest(token).toString('hex'));
    return `${origin}/login?token=${token}`;
  }

  const listening = await listen(server, host, options.port ?? 0, false);
  const { port } = listening;
  allowedHosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
  origin = listening.origin;
  const loginUrl = newLoginUrl();

  return {
    origin,
    loginUrl,
    newLoginUrl,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A file of the built UI; any other path gets the app shell. */
async function serveStatic(rendererDir: string, pathname: string, res: ServerResponse): Promise<void> {
  let file = fileInside(rendererDir, pathname);
  if (file === null) return send(res, 404, 'text/plain; charset=utf-8', 'Not found.');
  const info = await stat(file).catch(() => null);
  // Unknown paths get the app shell, so a reload on any screen works.
  if (!info?.isFile()) file = fileInside(rendererDir, '/index.html')!;
  const content = await readFile(file).catch(() => null);
  if (!content) {
    return send(res, 500, 'text/plain; charset=utf-8', 'The UI is not built. Run `npm run build:renderer` first.');
  }
  res.setHeader('Cache-Control', file.endsWith('index.html') ? 'no-store' : 'public, max-age=31536000, immutable');
  send(res, 200, contentType(file), content);
}

function setSecurityHeaders(res: ServerResponse): void {
  setHeaders(res, { 'Content-Security-Policy': CONSOLE_CSP }, BASE_HEADERS, PAGE_HEADERS);
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.statusCode = status;
  res.setHeader('Content-Type', type);
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  res.setHeader('Cache-Control', 'no-store');
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(value));
}

const notAllowed = (message: string) => ({ ok: false, error: { code: 'NOT_ALLOWED', message } });
const badInput = (message: string) => ({ ok: false, error: { code: 'BAD_INPUT', message } });

function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
      else if (chunks.length) {
        // Stop buffering but let the rest drain, so the 413 reaches the client.
        chunks.length = 0;
        resolve(null);
      }
    });
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseCookies(header: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

const page = (title: string, text: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head>` + `<body><h1>${title}</h1><p>${text}</p></body></html>`;
const NO_SESSION_PAGE = page('Twofold Backup console', 'Open the one-time link that <code>npm run console</code> printed in its terminal.');
const LINK_USED_PAGE = page('This link does not work', 'Console links work once. Restart <code>npm run console</code>, or use the session you already opened.');
