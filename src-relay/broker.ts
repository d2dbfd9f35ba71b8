/**
 * Where queued messages live and how they reach the instance holding their route. In memory for
 * one instance; in Redis (a key per message with a PX expiry, a set per route, a pub/sub channel
 * per route) when several instances share the load (docs/protocol.md §2.5).
 */
// Types only: ioredis is loaded when a Redis URL is given, so a relay without one (and the
// app's embedded relay) starts without paying for it.
import type { Redis } from 'ioredis';

export interface QueuedMessage {
  id: string;
  to: string;
  from: string;
  body: string;
  /** Relay time at which the message is dropped. */
  exp: number;
}

export interface Broker {
  /** Queue `msg` until it expires and hand it to whoever holds its route, here or elsewhere. */
  publish(msg: QueuedMessage): Promise<void>;
  /** Unexpired queued messages of a route. */
  fetch(route: string): Promise<QueuedMessage[]>;
  remove(route: string, id: string): Promise<void>;
  /** This instance now holds `route`: deliver what is published to it here. */
  subscribe(route: string): void;
  unsubscribe(route: string): void;
  healthy(): boolean;
  queued(): number;
  close(): Promise<void>;
}

export type Deliver = (msg: QueuedMessage) => void;

export class MemoryBroker implements Broker {
  private readonly queues = new Map<string, Map<string, QueuedMessage>>();
  private readonly sweeper: ReturnType<typeof setInterval>;

  constructor(
    private readonly deliver: Deliver,
    private readonly queuePerRoute: number,
    private readonly now: () => number = Date.now,
  ) {
    this.sweeper = setInterval(() => this.sweep(), 5_000);
    this.sweeper.unref();
  }

  async publish(msg: QueuedMessage): Promise<void> {
    let queue = this.queues.get(msg.to);
    if (!queue) this.queues.set(msg.to, (queue = new Map()));
    queue.delete(msg.id); // a re-send replaces the earlier copy and moves to the back
    queue.set(msg.id, msg);
    // Oldest first out when a route's queue is full.
    while (queue.size > this.queuePerRoute) queue.delete(queue.keys().next().value!);
    this.deliver(msg);
  }

  async fetch(route: string): Promise<QueuedMessage[]> {
    const queue = this.queues.get(route);
    if (!queue) return [];
    const now = this.now();
    for (const [id, m] of queue) if (m.exp <= now) queue.delete(id);
    if (queue.size === 0) this.queues.delete(route);
    return [...queue.values()];
  }

  async remove(route: string, id: string): Promise<void> {
    const queue = this.queues.get(route);
    queue?.delete(id);
    if (queue?.size === 0) this.queues.delete(route);
  }

  subscribe(): void {}
  unsubscribe(): void {}
  healthy(): boolean {
    return true;
  }

  queued(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.size;
    return n;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.queues.clear();
  }

  private sweep(): void {
    const now = this.now();
    for (const [route, queue] of this.queues) {
      for (const [id, m] of queue) if (m.exp <= now) queue.delete(id);
      if (queue.size === 0) this.queues.delete(route);
    }
  }
}

const PREFIX = 'twofold:';
const msgKey = (route: string, id: string) => `${PREFIX}m:${route}:${id}`;
const queueKey = (route: string) => `${PREFIX}q:${route}`;
const channel = (route: string) => `${PREFIX}r:${route}`;

export class RedisBroker implements Broker {
  private readonly pub: Redis;
  private readonly sub: Redis;
  private ok = false;

  private constructor(
    RedisClient: typeof Redis,
    url: string,
    private readonly deliver: Deliver,
    private readonly maxTtlMs: number,
    private readonly now: () => number,
  ) {
    // Commands wait for a reconnect rather than failing at once; the relay answers UNAVAILABLE meanwhile.
    const options = { maxRetriesPerRequest: 2, enableAutoPipelining: true, lazyConnect: true };
    this.pub = new RedisClient(url, options);
    this.sub = new RedisClient(url, { ...options, enableAutoPipelining: false });
    for (const r of [this.pub, this.sub]) {
      r.on('ready', () => (this.ok = this.pub.status === 'ready' && this.sub.status === 'ready'));
      r.on('close', () => (this.ok = false));
      r.on('error', () => (this.ok = false)); // reported through healthy() and /healthz
    }
    this.sub.on('message', (_channel: string, text: string) => {
      try {
        const msg = JSON.parse(text) as QueuedMessage;
        if (msg.exp > this.now()) this.deliver(msg);
      } catch {
        // Only relays publish here; a damaged message is dropped.
      }
    });
  }

  static async connect(url: string, deliver: Deliver, maxTtlMs: number, now: () => number = Date.now): Promise<RedisBroker> {
    const { Redis: RedisClient } = await import('ioredis');
    const broker = new RedisBroker(RedisClient, url, deliver, maxTtlMs, now);
    await Promise.all([broker.pub.connect(), broker.sub.connect()]);
    broker.ok = true;
    return broker;
  }

  async publish(msg: QueuedMessage): Promise<void> {
    const ttl = Math.max(1, msg.exp - this.now());
    const text = JSON.stringify(msg);
    await this.pub
      .multi()
      .set(msgKey(msg.to, msg.id), text, 'PX', ttl)
      .sadd(queueKey(msg.to), msg.id)
      .pexpire(queueKey(msg.to), this.maxTtlMs)
      .publish(channel(msg.to), text)
      .exec();
  }

  async fetch(route: string): Promise<QueuedMessage[]> {
    const ids = await this.pub.smembers(queueKey(route));
    if (ids.length === 0) return [];
    const texts = await this.pub.mget(ids.map((id) => msgKey(route, id)));
    const gone = ids.filter((_, i) => texts[i] === null);
    if (gone.length) await this.pub.srem(queueKey(route), ...gone);
    const now = this.now();
    return texts
      .filter((t): t is string => t !== null)
      .map((t) => JSON.parse(t) as QueuedMessage)
      .filter((m) => m.exp > now)
      .sort((a, b) => a.exp - b.exp);
  }

  async remove(route: string, id: string): Promise<void> {
    await this.pub.multi().del(msgKey(route, id)).srem(queueKey(route), id).exec();
  }

  subscribe(route: string): void {
    void this.sub.subscribe(channel(route)).catch(() => undefined);
  }

  unsubscribe(route: string): void {
    void this.sub.unsubscribe(channel(route)).catch(() => undefined);
  }

  healthy(): boolean {
    return this.ok;
  }

  queued(): number {
    return -1; // not counted per instance: the queue is shared
  }

  async close(): Promise<void> {
    this.sub.disconnect();
    await this.pub.quit().catch(() => this.pub.disconnect());
  }
}
