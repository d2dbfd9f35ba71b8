/**
 * Static files and security headers, once for every Node-side server: the console
 * (src-main/console/server.ts), the relay and its companion host (src-relay/), and the Electron
 * shell's app:// protocol handler (src-main/electron/main.ts). Each page's CSP is here beside the
 * others, so a change to one is made next to the rest (docs/security.md).
 */
import { extname, join, normalize, sep } from 'node:path';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.woff2': 'font/woff2',
};

/** The Content-Type of a built file, by its extension; unknown kinds are opaque bytes. */
export function contentType(file: string): string {
  return CONTENT_TYPES[extname(file)] ?? 'application/octet-stream';
}

/**
 * The file a URL path names inside `root`, or null when it would leave it (`..`, an absolute
 * path, a malformed escape). An empty path is the folder's index.html.
 */
export function fileInside(root: string, urlPath: string): string | null {
  let relative: string;
  try {
    relative = normalize(decodeURIComponent(urlPath)).replace(/^([/\\])+/, '');
  } catch {
    return null;
  }
  const base = normalize(root);
  const file = join(base, relative === '' || relative === '.' ? 'index.html' : relative);
  return file.startsWith(base + sep) ? file : null;
}

/** The policy of the desktop app's window (app://). */
export const DESKTOP_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; font-src 'self'; " +
  "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** The policy of the console's pages: the same app as the desktop window, served over loopback HTTP. */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The same policy the web companion carries in its own <meta> (src-companion/web/index.html), plus what only a header can say. */
export const COMPANION_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  // The relay is wherever the pairing link says: any WebSocket endpoint, nothing else.
  'connect-src ws: wss:',
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** What every response of every server carries: no sniffing of types, no referrer sent on. */
export const BASE_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

/** A page that must never be framed, opened beside a foreign window, or embedded by another origin. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/** Anything with setHeader: Node's ServerResponse, or a small adapter around fetch's Headers. */
export interface HeaderTarget {
  setHeader(name: string, value: string): unknown;
}

export function setHeaders(target: HeaderTarget, ...sets: Readonly<Record<string, string>>[]): void {
  for (const set of sets) for (const [name, value] of Object.entries(set)) target.setHeader(name, value);
}
