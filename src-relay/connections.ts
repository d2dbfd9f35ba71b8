/**
 * The relay's WebSocket side (docs/protocol.md §2): each connection's frames, its route, and
 * everything written to it. Every write is counted until the OS has taken it: a connection whose
 * unsent output passes its bound stops being read (its own frames wait in the kernel), gets no
 * further deliveries (they stay queued for `pending` or a reconnect), and is closed with 4008 if
 * it stays there. Sends are charged to their connection and address until they leave the queue.
 */
import { createHash } from 'node:crypto';
import type { WebSocket } from 'ws';
import { CLOSE_CODES, ClientFrameSchema, PROTOCOL_VERSION, type RelayErrorCode } from '../src-shared/push/messages.js';
import { messageKey, type Broker, type QueuedMessage } from './broker.js';
import type { Budget, Charge, ChargeLedger, ConnUsage, QueueRefusal } from './budget.js';
import type { RelayLimits } from './limits.js';
import type { RelayMetrics } from './metrics.js';

/** What a queued message holds besides its body (object, ids, expiry), counted against the quotas. */
const MESSAGE_OVERHEAD_BYTES = 256;
/** How long a connection closed for being too slow gets to read its close frame before it is cut. */
const SLOW_TERMINATE_MS = 1_000;

/** A token bucket: `rate` per second up to `burst`. Kept as two numbers per connection. */
export class Bucket {
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
  usage: ConnUsage;
  route: string | null;
  openedAt: number;
  alive: boolean;
  /** Each connection's keepalive falls due on its own, counted from when it opened: pings to thousands of
   *  connections never go out in one burst (which would stall every delivery behind them). */
  nextPingAt: number;
  badFrames: number;
  bucket: Bucket;
  /** Input paused because the send buffer is over its bound; since when. */
  slowSince: number | null;
  /** Queued messages held back for a full buffer: sent once it drains (after `after`, or all). */
  backlog: { after: QueuedMessage | null } | null;
  /** A close was started (its close frame may still be on its way). */
  closing: boolean;
  closed: boolean;
  /** Sizes of writes not yet handed to the OS, oldest first (write callbacks come in order). */
  writes: number[];
  writesHead: number;
  /** One callback for all of this connection's writes, so none is allocated per message. */
  onWritten: () => void;
}

type Socket = { cork(): void; uncork(): void };

export function routeIdOfToken(token: string): string {
  return createHash('sha256').update(Buffer.from(token, 'base64url')).digest().subarray(0, 16).toString('base64url');
}

/** The order a route's queue is delivered in: soonest to expire first, then by sender and id. */
function queueOrder(a: QueuedMessage, b: QueuedMessage): number {
  return a.exp - b.exp || (a.from < b.from ? -1 : a.from > b.from ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Ids and routes are base64url (checked by the schema), so only the body needs JSON escaping. */
function msgFrame(m: QueuedMessage): string {
  return `{"t":"msg","id":"${m.id}","from":"${m.from}","body":${JSON.stringify(m.body)},"exp":${m.exp}}`;
}

const TEXT = { binary: false } as const;

const QUOTA_REFUSALS: Record<QueueRefusal, { code: RelayErrorCode; reason: string; message: string }> = {
  connection: { code: 'OVER_QUOTA', reason: 'OVER_QUOTA_CONNECTION', message: 'This connection has too much queued; wait until it is handled or expires.' },
  address: { code: 'OVER_QUOTA', reason: 'OVER_QUOTA_ADDRESS', message: 'Your address has too much queued; wait until it is handled or expires.' },
  budget: { code: 'RELAY_FULL', reason: 'RELAY_FULL', message: 'The relay is full; try again later.' },
};

export class Connections {
  private readonly conns = new Set<Conn>();
  private readonly routes = new Map<string, Set<Conn>>();
  private readonly routeBuckets = new Map<string, Bucket>();
  private broker: Broker | null = null;
  /** With Redis: charges of messages stored there, by key. */
  private ledger: ChargeLedger | null = null;
  // Writes made while handling one batch of input go out together: a sender pipelining frames
  // makes one ack and one delivery per frame; corking each socket until the I/O phase ends turns
  // those into one writev per socket instead of one per frame.
  private readonly corked = new Set<Socket>();
  private flushScheduled = false;

  constructor(
    private readonly limits: RelayLimits,
    private readonly budget: Budget,
    private readonly metrics: RelayMetrics,
  ) {}

  attach(broker: Broker, ledger: ChargeLedger | null): void {
    this.broker = broker;
    this.ledger = ledger;
  }

  /** A message left the queue: its sender's quota has that much room again. */
  released(msg: Pick<QueuedMessage, 'to' | 'from' | 'id' | 'charge'>): void {
    if (msg.charge) this.budget.release(msg.charge as Charge);
    else this.ledger?.release(messageKey(msg.to, msg.from, msg.id));
  }

  count(): number {
    return this.conns.size;
  }

  routeCount(): number {
    return this.routes.size;
  }

  /** A new WebSocket from `remote`; refused with a close code when its address or the relay is full. */
  accept(ws: WebSocket, remote: string | undefined): void {
    const usage = this.budget.open(remote);
    if (usage === 'address' || usage === 'budget') {
      const code = usage === 'address' ? CLOSE_CODES.addressConnections : CLOSE_CODES.relayFull;
      this.metrics.refused(`close-${code}`);
      ws.on('error', () => undefined);
      ws.close(code, usage === 'address' ? 'too many connections from this address' : 'relay full');
      setTimeout(() => ws.terminate(), SLOW_TERMINATE_MS).unref();
      return;
    }
    const now = Date.now();
    const conn: Conn = {
      ws,
      usage,
      route: null,
      openedAt: now,
      alive: true,
      // The first ping at a random point of the second half of the interval: a crowd that (re)connects at
      // once after a restart is spread out from the start.
      nextPingAt: now + this.limits.pingIntervalMs * (0.5 + Math.random() / 2),
      badFrames: 0,
      bucket: new Bucket(this.limits.connBurst, now),
      slowSince: null,
      backlog: null,
      closing: false,
      closed: false,
      writes: [],
      writesHead: 0,
      onWritten: () => this.flushed(conn),
    };
    this.conns.add(conn);
    ws.on('pong', () => (conn.alive = true));
    ws.on('message', (data, isBinary) => this.onFrame(conn, data as Buffer, isBinary));
    ws.on('close', (code) => this.onClose(conn, code));
    ws.on('error', () => undefined); // ws closes the socket itself (1009 for oversize frames)
  }

  /** A message for a route held here: to each holder whose send buffer has room; the rest find it queued. */
  deliver(msg: QueuedMessage): void {
    const holders = this.routes.get(msg.to);
    if (!holders) return;
    const frame = msgFrame(msg);
    for (const c of holders) if (!this.deliverTo(c, frame)) c.backlog = { after: null }; // all again, once there is room
  }

  /** The route's subscription is back after an outage: its holders get what is queued. */
  recovered(route: string): void {
    for (const c of this.routes.get(route) ?? []) void this.redeliver(c);
  }

  /** Once a second: hello deadlines, keepalive, slow consumers, idle route buckets. */
  tick(now: number): void {
    for (const c of this.conns) {
      if (c.closing) continue;
      if (c.route === null && now - c.openedAt >= this.limits.helloTimeoutMs) {
        this.closeWith(c, CLOSE_CODES.helloTimeout, 'no hello');
        continue;
      }
      if (c.slowSince !== null && now - c.slowSince >= this.limits.slowCloseMs) {
        this.closeWith(c, CLOSE_CODES.slowConsumer, 'not reading');
        setTimeout(() => c.ws.terminate(), SLOW_TERMINATE_MS).unref();
        continue;
      }
      if (now < c.nextPingAt) continue;
      c.nextPingAt = now + this.limits.pingIntervalMs;
      if (!c.alive) {
        this.metrics.refused('ping-timeout');
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      c.ws.ping();
    }
    // Full, idle route buckets carry no information.
    for (const [route, b] of this.routeBuckets) if (now - b.last > 10_000) this.routeBuckets.delete(route);
  }

  closeAll(code: number, reason: string): void {
    for (const c of this.conns) c.ws.close(code, reason);
  }

  terminateAll(): void {
    for (const c of this.conns) c.ws.terminate();
  }

  // ------------------------------------------------------------------ writing

  private write(conn: Conn, data: string): void {
    if (conn.closed) return;
    const socket = (conn.ws as unknown as { _socket?: Socket })._socket;
    if (socket && !this.corked.has(socket)) {
      socket.cork();
      this.corked.add(socket);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(this.flush);
      }
    }
    const buffer = Buffer.from(data); // encoded once: its length is what the socket will hold
    this.budget.wrote(conn.usage, buffer.length);
    conn.writes.push(buffer.length);
    conn.ws.send(buffer, TEXT, conn.onWritten);
    if (conn.slowSince === null && conn.usage.outbound > this.limits.sendBufferBytes) {
      // Stop reading it: whatever it asks for next would only be written into the same full buffer.
      conn.slowSince = Date.now();
      conn.ws.pause();
      this.metrics.refused('send-buffer-full');
    }
  }

  private readonly flush = () => {
    this.flushScheduled = false;
    for (const socket of this.corked) socket.uncork();
    this.corked.clear();
  };

  private flushed(conn: Conn): void {
    if (conn.closed) return; // released all at once when it closed
    const bytes = conn.writes[conn.writesHead++]!;
    if (conn.writesHead > 1024 && conn.writesHead * 2 > conn.writes.length) {
      conn.writes = conn.writes.slice(conn.writesHead);
      conn.writesHead = 0;
    }
    this.budget.flushed(conn.usage, bytes);
    if (conn.usage.outbound > this.limits.sendBufferBytes / 2) return;
    if (conn.slowSince !== null) {
      conn.slowSince = null;
      conn.ws.resume();
    }
    // A reader that keeps up gets what was held back, without having to ask.
    const backlog = conn.backlog;
    if (backlog) {
      conn.backlog = null;
      void this.redeliver(conn, backlog.after);
    }
  }

  /** A `msg` frame, unless the connection's buffer or the relay's budget is full (it stays queued). */
  private deliverTo(conn: Conn, frame: string): boolean {
    if (conn.usage.outbound >= this.limits.sendBufferBytes) {
      this.metrics.refused('delivery-held-send-buffer');
      return false;
    }
    if (!this.budget.fits(frame.length)) {
      this.metrics.refused('delivery-held-budget');
      return false;
    }
    this.write(conn, frame);
    this.metrics.delivered();
    return true;
  }

  private refuse(conn: Conn, code: RelayErrorCode, message: string, id?: string, reason: string = code): void {
    this.metrics.refused(reason);
    this.write(conn, JSON.stringify(id === undefined ? { t: 'error', code, message } : { t: 'error', code, message, id }));
  }

  private closeWith(conn: Conn, code: number, reason: string): void {
    if (conn.closing) return;
    conn.closing = true;
    this.metrics.refused(`close-${code}`);
    conn.ws.close(code, reason);
  }

  private onClose(conn: Conn, code: number): void {
    if (conn.closed) return;
    conn.closed = true;
    this.conns.delete(conn);
    if (code === CLOSE_CODES.tooBig) this.metrics.refused('close-1009');
    this.budget.flushed(conn.usage, conn.usage.outbound);
    this.budget.close(conn.usage);
    if (!conn.route) return;
    const holders = this.routes.get(conn.route);
    holders?.delete(conn);
    if (holders?.size === 0) {
      this.routes.delete(conn.route);
      this.broker?.unsubscribe(conn.route);
    }
  }

  // ------------------------------------------------------------------ reading

  private badFrame(conn: Conn, message: string): void {
    this.refuse(conn, 'BAD_FRAME', message);
    if (++conn.badFrames >= this.limits.maxBadFrames) this.closeWith(conn, CLOSE_CODES.badFrames, 'too many bad frames');
  }

  private onFrame(conn: Conn, data: Buffer, isBinary: boolean): void {
    const now = Date.now();
    this.metrics.bytesIn(data.length);
    const balance = conn.bucket.take(this.limits.connRatePerSec, this.limits.connBurst, now);
    if (balance < 0) {
      if (balance <= -this.limits.connBurst) return this.closeWith(conn, CLOSE_CODES.flooding, 'flooding');
      return this.refuse(conn, 'RATE_LIMITED', 'Too many frames; slow down.');
    }
    if (isBinary) return this.badFrame(conn, 'Frames are JSON text.');
    let json: unknown;
    try {
      json = JSON.parse(data.toString('utf8'));
    } catch {
      return this.badFrame(conn, 'The frame is not JSON.');
    }
    const parsed = ClientFrameSchema.safeParse(json);
    if (!parsed.success) {
      if (conn.route === null && (json as { t?: unknown } | null)?.t === 'hello') return this.closeWith(conn, CLOSE_CODES.badHello, 'bad hello');
      return this.badFrame(conn, 'The frame is not a valid relay frame.');
    }
    const frame = parsed.data;
    this.metrics.frame(frame.t);
    if (frame.t === 'hello') return this.hello(conn, frame.v, frame.token);
    if (conn.route === null) {
      this.refuse(conn, 'NOT_READY', 'Say hello first.');
      if (++conn.badFrames >= this.limits.maxBadFrames) this.closeWith(conn, CLOSE_CODES.badFrames, 'too many bad frames');
      return;
    }
    switch (frame.t) {
      case 'pending':
        return void this.redeliver(conn);
      case 'done':
        // Only the route's holder reaches here for its own route: it may clear its own queue.
        return void this.broker?.remove(conn.route, frame.id, frame.from)?.catch(() => undefined);
      case 'send':
        return this.send(conn, conn.route, frame, now);
    }
  }

  private hello(conn: Conn, v: number, token: string): void {
    if (conn.route !== null) return this.refuse(conn, 'ALREADY_READY', 'This connection already has a route.');
    if (v !== PROTOCOL_VERSION) return this.closeWith(conn, CLOSE_CODES.badHello, 'unsupported version');
    const route = routeIdOfToken(token);
    conn.route = route;
    let holders = this.routes.get(route);
    if (!holders) this.routes.set(route, (holders = new Set()));
    holders.add(conn);
    const { maxBodyChars, maxTtlMs, connRatePerSec } = this.limits;
    this.write(conn, JSON.stringify({ t: 'ready', route, limits: { maxBody: maxBodyChars, maxTtlMs, ratePerSec: connRatePerSec } }));
    // Delivered once the route is live here, so nothing published meanwhile is missed.
    this.broker!.subscribe(route).then(
      () => this.redeliver(conn),
      () => !conn.closed && this.refuse(conn, 'UNAVAILABLE', 'The relay cannot reach its store; queued messages follow when it is back.'),
    );
  }

  private send(conn: Conn, from: string, frame: { id: string; to: string; ttlMs: number; body: string }, now: number): void {
    if (frame.body.length > this.limits.maxBodyChars) return this.refuse(conn, 'BODY_TOO_BIG', 'The body is too large.', frame.id);
    if (frame.ttlMs < 1 || frame.ttlMs > this.limits.maxTtlMs) return this.refuse(conn, 'BAD_TTL', 'The lifetime is out of range.', frame.id);
    let bucket = this.routeBuckets.get(frame.to);
    if (!bucket) this.routeBuckets.set(frame.to, (bucket = new Bucket(this.limits.routeBurst, now)));
    if (bucket.take(this.limits.routeRatePerSec, this.limits.routeBurst, now) < 0) {
      bucket.tokens += 1; // a refused message does not count against the route
      return this.refuse(conn, 'ROUTE_BUSY', 'That route is receiving too much; try later.', frame.id);
    }
    const charge = this.budget.charge(conn.usage, frame.body.length + MESSAGE_OVERHEAD_BYTES);
    if (typeof charge === 'string') {
      const r = QUOTA_REFUSALS[charge];
      return this.refuse(conn, r.code, r.message, frame.id, r.reason);
    }
    const msg: QueuedMessage = { id: frame.id, to: frame.to, from, body: frame.body, exp: now + frame.ttlMs };
    let result: 'ok' | 'full' | Promise<'ok' | 'full'>;
    if (this.ledger) {
      this.ledger.track(messageKey(msg.to, from, msg.id), charge, msg.exp);
      result = this.broker!.publish(msg);
    } else {
      msg.charge = charge;
      result = this.broker!.publish(msg);
    }
    if (typeof result === 'string') return this.published(conn, msg, result);
    result.then(
      (r) => this.published(conn, msg, r),
      () => {
        this.released(msg);
        this.refuse(conn, 'UNAVAILABLE', 'The relay cannot store messages right now.', msg.id);
      },
    );
  }

  private published(conn: Conn, msg: QueuedMessage, result: 'ok' | 'full'): void {
    if (result === 'full') {
      this.released(msg);
      return this.refuse(conn, 'QUEUE_FULL', 'That route has too much queued from others; try later.', msg.id);
    }
    this.metrics.routed();
    this.write(conn, `{"t":"ack","id":"${msg.id}"}`);
  }

  /** The route's queue, in order, after `after` when resuming; what does not fit waits in `backlog`. */
  private async redeliver(conn: Conn, after: QueuedMessage | null = null): Promise<void> {
    if (!conn.route || conn.closed) return;
    let queued: QueuedMessage[];
    try {
      queued = (await this.broker!.fetch(conn.route)).sort(queueOrder);
    } catch {
      return this.refuse(conn, 'UNAVAILABLE', 'The relay cannot read queued messages right now.');
    }
    let last = after;
    for (const m of queued) {
      if (conn.closed) return;
      if (after && queueOrder(m, after) <= 0) continue;
      if (!this.deliverTo(conn, msgFrame(m))) {
        conn.backlog = { after: last };
        return;
      }
      last = m;
    }
  }
}
