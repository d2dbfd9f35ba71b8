/**
 * The WebSocket notification relay (docs/protocol.md §2). It routes opaque bodies between route
 * ids and queues them until they expire; it never sees a key, a request or an answer in the
 * clear. Limits on frame size, per-connection and per-route rates; one timer for keepalive and
 * hello deadlines (not one per connection, to keep idle connections cheap); /healthz, /metrics
 * and the web companion on the same port. `startRelay` is also the embedded mode.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { extname, join, normalize, sep } from 'node:path';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  CLOSE_CODES,
  ClientFrameSchema,
  DEFAULT_LIMITS,
  PROTOCOL_VERSION,
  type RelayErrorCode,
  type RelayLimits,
} from '../src-shared/push/messages.js';
import { MemoryBroker, RedisBroker, type Broker, type QueuedMessage } from './broker.js';

export interface RelayOptions {
  host?: string;
  port?: number;
  tls?: { cert: string | Buffer; key: string | Buffer };
  redisUrl?: string;
  limits?: Partial<RelayLimits>;
  /** The built web companion, served at /companion/; omitted: /companion/ answers 404. */
  companionDir?: string;
  /** Called with one line per notable event; never given a body or a token. */
  log?: (line: string) => void;
}

export interface Relay {
  /** ws:// or wss:// URL endpoints connect to. */
  readonly url: string;
  /** http:// or https:// origin (for /companion/, /healthz, /metrics). */
  readonly httpOrigin: string;
  readonly port: number;
  connections(): number;
  close(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
};

const COMPANION_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** A token bucket: `rate` per second up to `burst`. Kept as two numbers per connection. */
class Bucket {
  tokens: number;
  last: number;
  constructor(burst: number, now: number) {
    this.tokens = burst;
    this.last = now;
  }
  /** Take one token; returns the balance after taking (negative: over the limit). */
  take(rate: number, burst: number, now: number): number {
    this.tokens = Math.min(burst, this.tokens + ((now - this.last) / 1000) * rate);
    this.last = now;
    this.tokens -= 1;
    return this.tokens;
  }
}

interface Conn {
  ws: WebSocket;
  route: string | null;
  openedAt: number;
  alive: boolean;
  badFrames: number;
  bucket: Bucket;
}

export function routeIdOfToken(token: string): string {
  return createHash('sha256').update(Buffer.from(token, 'base64url')).digest().subarray(0, 16).toString('base64url');
}

export async function startRelay(options: RelayOptions = {}): Promise<Relay> {
  const limits: RelayLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const log = options.log ?? (() => undefined);
  const routes = new Map<string, Set<Conn>>();
  const conns = new Set<Conn>();
  const routeBuckets = new Map<string, Bucket>();
  let draining = false;

  // ---- metrics
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const mConnections = new Gauge({ name: 'relay_connections', help: 'Open WebSocket connections.', registers: [registry], collect() { this.set(conns.size); } });
  new Gauge({ name: 'relay_routes', help: 'Routes with a connection here.', registers: [registry], collect() { this.set(routes.size); } });
  new Gauge({ name: 'relay_queued_messages', help: 'Messages queued in memory (-1 with Redis).', registers: [registry], collect() { this.set(broker.queued()); } });
  const mFrames = new Counter({ name: 'relay_frames_total', help: 'Frames received, by type.', labelNames: ['type'], registers: [registry] });
  const mRouted = new Counter({ name: 'relay_messages_routed_total', help: 'Messages accepted for routing.', registers: [registry] });
  const mDelivered = new Counter({ name: 'relay_messages_delivered_total', help: 'Message deliveries to connections.', registers: [registry] });
  const mRefused = new Counter({ name: 'relay_refused_total', help: 'Frames refused or connections closed, by reason.', labelNames: ['reason'], registers: [registry] });
  const mBytes = new Counter({ name: 'relay_bytes_received_total', help: 'Bytes received in frames.', registers: [registry] });
  void mConnections;
  // Bound once: a labelled inc() per frame would hash its labels every time.
  const frameCounters = {
    hello: mFrames.labels('hello'),
    send: mFrames.labels('send'),
    done: mFrames.labels('done'),
    pending: mFrames.labels('pending'),
  };

  // ---- sending: writes made while handling one batch of input go out together
  // A sender pipelining frames makes one ack and one delivery per frame; corking each socket
  // until the I/O phase ends turns those into one writev per socket instead of one per frame.
  const corked = new Set<{ cork(): void; uncork(): void }>();
  let flushScheduled = false;
  const flush = () => {
    flushScheduled = false;
    for (const socket of corked) socket.uncork();
    corked.clear();
  };
  const send = (ws: WebSocket, data: string) => {
    const socket = (ws as unknown as { _socket?: { cork(): void; uncork(): void } })._socket;
    if (socket && !corked.has(socket)) {
      socket.cork();
      corked.add(socket);
      if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(flush);
      }
    }
    ws.send(data);
  };

  // ---- delivery
  const deliver = (msg: QueuedMessage) => {
    const holders = routes.get(msg.to);
    if (!holders) return;
    const frame = msgFrame(msg);
    for (const c of holders) {
      send(c.ws, frame);
      mDelivered.inc();
    }
  };
  const broker: Broker = options.redisUrl
    ? await RedisBroker.connect(options.redisUrl, deliver, limits.maxTtlMs)
    : new MemoryBroker(deliver, limits.queuePerRoute);

  // ---- HTTP
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    void handleHttp(req, res).catch(() => {
      if (!res.headersSent) text(res, 500, 'Internal error.');
      else res.destroy();
    });
  };
  const server: Server = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, handler) : createHttpServer(handler);

  async function handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    const path = new URL(req.url ?? '/', 'http://relay').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(res, 405, 'Method not allowed.');
    if (path === '/healthz') {
      const ok = !draining && broker.healthy();
      return text(res, ok ? 200 : 503, ok ? 'ok' : draining ? 'shutting down' : 'redis unavailable');
    }
    if (path === '/metrics') {
      res.writeHead(200, { 'Content-Type': registry.contentType });
      res.end(await registry.metrics());
      return;
    }
    if (path === '/companion') {
      res.writeHead(301, { Location: '/companion/' });
      res.end();
      return;
    }
    if (path.startsWith('/companion/')) return serveCompanion(path.slice('/companion/'.length), res);
    return text(res, 404, 'Not found.');
  }

  async function serveCompanion(rel: string, res: ServerResponse): Promise<void> {
    const dir = options.companionDir;
    if (!dir) return text(res, 404, 'This relay does not serve the web companion. Build it with npm run build:companion.');
    const file = normalize(join(dir, rel === '' ? 'index.html' : decodeURIComponent(rel)));
    if (!file.startsWith(normalize(dir) + sep)) return text(res, 404, 'Not found.');
    let data: Buffer;
    try {
      data = await readFile(file);
    } catch {
      return text(res, 404, 'Not found.');
    }
    res.writeHead(200, {
      'Content-Type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
      'Content-Security-Policy': COMPANION_CSP,
      'Cache-Control': extname(file) === '.html' ? 'no-store' : 'public, max-age=3600',
      'X-Frame-Options': 'DENY',
    });
    res.end(data);
  }

  // ---- WebSocket
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: limits.maxFrameBytes,
    perMessageDeflate: false,
    clientTracking: false,
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = new URL(req.url ?? '/', 'http://relay').pathname;
    if (draining || path !== '/v1') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => accept(ws));
  });

  function accept(ws: WebSocket): void {
    const now = Date.now();
    const conn: Conn = { ws, route: null, openedAt: now, alive: true, badFrames: 0, bucket: new Bucket(limits.connBurst, now) };
    conns.add(conn);
    ws.on('pong', () => (conn.alive = true));
    ws.on('message', (data, isBinary) => onFrame(conn, data as Buffer, isBinary));
    ws.on('close', (code) => {
      conns.delete(conn);
      if (code === CLOSE_CODES.tooBig) mRefused.inc({ reason: 'too-big' });
      if (conn.route) {
        const holders = routes.get(conn.route);
        holders?.delete(conn);
        if (holders?.size === 0) {
          routes.delete(conn.route);
          broker.unsubscribe(conn.route);
        }
      }
    });
    ws.on('error', () => undefined); // ws closes the socket itself (1009 for oversize frames)
  }

  function refuse(conn: Conn, code: RelayErrorCode, message: string, id?: string): void {
    mRefused.inc({ reason: code });
    conn.ws.send(JSON.stringify(id === undefined ? { t: 'error', code, message } : { t: 'error', code, message, id }));
  }

  function closeWith(conn: Conn, code: number, reason: string): void {
    mRefused.inc({ reason: `close-${code}` });
    conn.ws.close(code, reason);
  }

  function badFrame(conn: Conn, message: string): void {
    refuse(conn, 'BAD_FRAME', message);
    if (++conn.badFrames >= limits.maxBadFrames) closeWith(conn, CLOSE_CODES.badFrames, 'too many bad frames');
  }

  function onFrame(conn: Conn, data: Buffer, isBinary: boolean): void {
    const now = Date.now();
    mBytes.inc(data.length);
    const balance = conn.bucket.take(limits.connRatePerSec, limits.connBurst, now);
    if (balance < 0) {
      if (balance <= -limits.connBurst) return closeWith(conn, CLOSE_CODES.flooding, 'flooding');
      return refuse(conn, 'RATE_LIMITED', 'Too many frames; slow down.');
    }
    if (isBinary) return badFrame(conn, 'Frames are JSON text.');
    let json: unknown;
    try {
      json = JSON.parse(data.toString('utf8'));
    } catch {
      return badFrame(conn, 'The frame is not JSON.');
    }
    const parsed = ClientFrameSchema.safeParse(json);
    if (!parsed.success) {
      if (conn.route === null && (json as { t?: unknown } | null)?.t === 'hello') {
        return closeWith(conn, CLOSE_CODES.badHello, 'bad hello');
      }
      return badFrame(conn, 'The frame is not a valid relay frame.');
    }
    const frame = parsed.data;
    frameCounters[frame.t].inc();

    if (frame.t === 'hello') {
      if (conn.route !== null) return refuse(conn, 'ALREADY_READY', 'This connection already has a route.');
      if (frame.v !== PROTOCOL_VERSION) return closeWith(conn, CLOSE_CODES.badHello, 'unsupported version');
      const route = routeIdOfToken(frame.token);
      conn.route = route;
      let holders = routes.get(route);
      if (!holders) {
        routes.set(route, (holders = new Set()));
        broker.subscribe(route);
      }
      holders.add(conn);
      conn.ws.send(
        JSON.stringify({
          t: 'ready',
          route,
          limits: { maxBody: limits.maxBodyChars, maxTtlMs: limits.maxTtlMs, ratePerSec: limits.connRatePerSec },
        }),
      );
      void redeliver(conn);
      return;
    }
    if (conn.route === null) {
      refuse(conn, 'NOT_READY', 'Say hello first.');
      if (++conn.badFrames >= limits.maxBadFrames) closeWith(conn, CLOSE_CODES.badFrames, 'too many bad frames');
      return;
    }

    switch (frame.t) {
      case 'pending':
        void redeliver(conn);
        return;
      case 'done':
        void broker.remove(conn.route, frame.id).catch(() => undefined);
        return;
      case 'send': {
        if (frame.body.length > limits.maxBodyChars) return refuse(conn, 'BODY_TOO_BIG', 'The body is too large.', frame.id);
        if (frame.ttlMs < 1 || frame.ttlMs > limits.maxTtlMs) return refuse(conn, 'BAD_TTL', 'The lifetime is out of range.', frame.id);
        let bucket = routeBuckets.get(frame.to);
        if (!bucket) routeBuckets.set(frame.to, (bucket = new Bucket(limits.routeBurst, now)));
        if (bucket.take(limits.routeRatePerSec, limits.routeBurst, now) < 0) {
          bucket.tokens += 1; // a refused message does not count against the route
          return refuse(conn, 'ROUTE_BUSY', 'That route is receiving too much; try later.', frame.id);
        }
        const msg: QueuedMessage = { id: frame.id, to: frame.to, from: conn.route, body: frame.body, exp: now + frame.ttlMs };
        broker.publish(msg).then(
          () => {
            mRouted.inc();
            if (conn.ws.readyState === conn.ws.OPEN) send(conn.ws, `{"t":"ack","id":"${frame.id}"}`);
          },
          () => refuse(conn, 'UNAVAILABLE', 'The relay cannot store messages right now.', frame.id),
        );
        return;
      }
    }
  }

  async function redeliver(conn: Conn): Promise<void> {
    if (!conn.route) return;
    let queued: QueuedMessage[];
    try {
      queued = await broker.fetch(conn.route);
    } catch {
      return refuse(conn, 'UNAVAILABLE', 'The relay cannot read queued messages right now.');
    }
    for (const m of queued) {
      if (conn.ws.readyState !== conn.ws.OPEN) return;
      conn.ws.send(msgFrame(m));
      mDelivered.inc();
    }
  }

  // One timer for every connection: keepalive pings and hello deadlines.
  let lastPing = Date.now();
  const ticker = setInterval(() => {
    const now = Date.now();
    const ping = now - lastPing >= limits.pingIntervalMs;
    if (ping) lastPing = now;
    for (const c of conns) {
      if (c.route === null && now - c.openedAt >= limits.helloTimeoutMs) {
        closeWith(c, CLOSE_CODES.helloTimeout, 'no hello');
        continue;
      }
      if (!ping) continue;
      if (!c.alive) {
        mRefused.inc({ reason: 'ping-timeout' });
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      c.ws.ping();
    }
    // Full, idle route buckets carry no information.
    for (const [route, b] of routeBuckets) if (now - b.last > 10_000) routeBuckets.delete(route);
  }, Math.min(1_000, limits.helloTimeoutMs, limits.pingIntervalMs));
  ticker.unref();

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  const secure = options.tls !== undefined;
  const httpOrigin = `${secure ? 'https' : 'http'}://${urlHost}:${port}`;
  log(`relay listening on ${httpOrigin} (redis: ${options.redisUrl ? 'yes' : 'no'})`);

  return {
    url: `${secure ? 'wss' : 'ws'}://${urlHost}:${port}/v1`,
    httpOrigin,
    port,
    connections: () => conns.size,
    async close() {
      if (draining) return;
      draining = true;
      clearInterval(ticker);
      for (const c of conns) c.ws.close(CLOSE_CODES.goingAway, 'relay shutting down');
      // Give the close frames a moment, then cut whatever is left.
      await new Promise((r) => setTimeout(r, 100));
      for (const c of conns) c.ws.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await broker.close();
      log('relay stopped');
    },
  };
}

/** Ids and routes are base64url (checked by the schema), so only the body needs JSON escaping. */
function msgFrame(m: QueuedMessage): string {
  return `{"t":"msg","id":"${m.id}","from":"${m.from}","body":${JSON.stringify(m.body)},"exp":${m.exp}}`;
}

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(body);
}
