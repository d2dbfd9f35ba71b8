/**
 * The relay's HTTP side (docs/protocol.md §2): /healthz, /metrics, the web companion when it is
 * served, and the upgrade of /v1 to a WebSocket.
 */
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { BASE_HEADERS, setHeaders } from '../src-node/web-files.js';
import { serveCompanion, textResponse } from './companion-host.js';
import type { Registry } from 'prom-client';

export interface RelayHttpOptions {
  /** What /healthz says: 200 with "ok", or 503 with the reason. */
  health: () => { ok: true } | { ok: false; reason: string };
  metrics: Registry;
  companionDir?: string;
}

/** The request handler for every plain HTTP request to the relay. */
export function relayHttpHandler(options: RelayHttpOptions): RequestListener {
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    setHeaders(res, BASE_HEADERS);
    const path = new URL(req.url ?? '/', 'http://relay').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') return textResponse(res, 405, 'Method not allowed.');
    if (path === '/healthz') {
      const health = options.health();
      return textResponse(res, health.ok ? 200 : 503, health.ok ? 'ok' : health.reason);
    }
    if (path === '/metrics') {
      res.writeHead(200, { 'Content-Type': options.metrics.contentType });
      res.end(await options.metrics.metrics());
      return;
    }
    if (options.companionDir && (await serveCompanion(options.companionDir, path, res))) return;
    return textResponse(res, 404, 'Not found.');
  }
  return (req, res) => {
    void handle(req, res).catch(() => {
      if (!res.headersSent) textResponse(res, 500, 'Internal error.');
      else res.destroy();
    });
  };
}

export interface UpgradeOptions {
  maxFrameBytes: number;
  /** False while the relay shuts down: no new connection is taken. */
  open: () => boolean;
  accept: (ws: WebSocket, address: string | undefined) => void;
}

/** Upgrade requests for /v1 to WebSocket connections; any other path, or a relay shutting down, gets 404. */
export function acceptUpgrades(server: Server, options: UpgradeOptions): void {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxFrameBytes,
    perMessageDeflate: false,
    clientTracking: false,
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = new URL(req.url ?? '/', 'http://relay').pathname;
    if (!options.open() || path !== '/v1') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => options.accept(ws, req.socket.remoteAddress));
  });
}
