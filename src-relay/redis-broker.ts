/**
 * The queue shared by several relay instances, in one Redis (docs/protocol.md §2.5): a key per
 * message with a PX expiry, a sorted set per route and per (route, sender) by expiry, and a
 * pub/sub channel per route. Publishing is one Lua script, so the sender-scoped quotas hold
 * across instances. Subscriptions are this module's own bookkeeping rather than the client's: a
 * route held here stays wanted until its last holder leaves, is subscribed again after any
 * outage (and its holders told to fetch what they missed), and a heartbeat through Redis checks
 * that what is subscribed is really delivered.
 */
// Types only: ioredis is loaded when a Redis URL is given, so a relay without one (and the
// app's embedded relay) starts without paying for it.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Broker, BrokerEvents, BrokerHealth, QueueLimits, QueuedMessage } from './broker.js';

const PREFIX = 'twofold:';
const channelOf = (route: string) => `${PREFIX}r:${route}`;
const routeOfChannel = (channel: string) => channel.slice(PREFIX.length + 2);
const msgKey = (to: string, from: string, id: string) => `${PREFIX}m:${to}:${from}:${id}`;
const queueKey = (to: string) => `${PREFIX}q:${to}`;
const senderKey = (to: string, from: string) => `${PREFIX}s:${to}:${from}`;

/** Subscribe again, check the heartbeat, retry what failed: this often. */
const TICK_MS = 1_000;
const HEARTBEAT_EVERY_MS = 2_000;
/** No heartbeat back for this long while Redis answers: the subscriber connection is broken; reconnect it. */
const HEARTBEAT_STALE_MS = 8_000;
/** A subscription not live after this long makes /healthz fail. */
const SUBSCRIBE_GRACE_MS = 2_000;
const SUBSCRIBE_BATCH = 500;

// One sender displaces only its own soonest-expiring message; a full route refuses newcomers.
const PUBLISH_LUA = `
local p, to, from, id, text = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local now, exp = tonumber(ARGV[6]), tonumber(ARGV[7])
local perSender, perRoute, maxTtl = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10])
local q = p .. 'q:' .. to
local s = p .. 's:' .. to .. ':' .. from
redis.call('ZREMRANGEBYSCORE', q, '-inf', now)
redis.call('ZREMRANGEBYSCORE', s, '-inf', now)
local evicted = ''
if not redis.call('ZSCORE', s, id) then
  if redis.call('ZCARD', s) >= perSender then
    evicted = redis.call('ZRANGE', s, 0, 0)[1]
    redis.call('ZREM', s, evicted)
    redis.call('ZREM', q, from .. ' ' .. evicted)
    redis.call('DEL', p .. 'm:' .. to .. ':' .. from .. ':' .. evicted)
  elseif redis.call('ZCARD', q) >= perRoute then
    return {'FULL', ''}
  end
end
redis.call('SET', p .. 'm:' .. to .. ':' .. from .. ':' .. id, text, 'PX', math.max(1, exp - now))
redis.call('ZADD', q, exp, from .. ' ' .. id)
redis.call('ZADD', s, exp, id)
redis.call('PEXPIRE', q, maxTtl)
redis.call('PEXPIRE', s, maxTtl)
redis.call('PUBLISH', p .. 'r:' .. to, text)
return {'OK', evicted}
`;

type ScriptedRedis = Redis & { relayPublish(...args: (string | number)[]): Promise<[string, string]> };

export class RedisBroker implements Broker {
  private readonly pub: ScriptedRedis;
  private readonly sub: Redis;
  /** Routes held here, and since when each has been without a live subscription. */
  private readonly wanted = new Map<string, number | null>();
  private readonly live = new Set<string>();
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Lost or never made: when it becomes live, its holders are told to fetch again. */
  private readonly lost = new Set<string>();
  private readonly heartbeatChannel = `${PREFIX}h:${randomUUID()}`;
  private heartbeatLive = false;
  private lastHeartbeat: number;
  private lastHeartbeatSent = 0;
  private readonly timer: ReturnType<typeof setInterval>;
  private closed = false;

  private constructor(
    RedisClient: typeof Redis,
    url: string,
    private readonly events: BrokerEvents,
    private readonly limits: QueueLimits,
    private readonly now: () => number,
  ) {
    // No offline queue: while Redis is away a send is refused at once (UNAVAILABLE), never parked.
    const options = { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 };
    this.pub = new RedisClient(url, { ...options, enableAutoPipelining: true }) as ScriptedRedis;
    this.pub.defineCommand('relayPublish', { numberOfKeys: 0, lua: PUBLISH_LUA });
    this.sub = new RedisClient(url, { ...options, autoResubscribe: false });
    for (const r of [this.pub, this.sub]) r.on('error', () => undefined); // reported through health()
    this.sub.on('close', () => this.subscriptionsLost());
    this.sub.on('ready', () => void this.resubscribeAll());
    this.sub.on('message', (channel: string, text: string) => this.onMessage(channel, text));
    this.lastHeartbeat = now();
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  static async connect(url: string, events: BrokerEvents, limits: QueueLimits, now: () => number = Date.now): Promise<RedisBroker> {
    const { Redis: RedisClient } = await import('ioredis');
    const broker = new RedisBroker(RedisClient, url, events, limits, now);
    try {
      await Promise.all([broker.pub.connect(), broker.sub.connect()]);
      await broker.resubscribeAll();
    } catch (error) {
      await broker.close();
      throw error;
    }
    return broker;
  }

  async publish(msg: QueuedMessage): Promise<'ok' | 'full'> {
    const [result, evicted] = await this.pub.relayPublish(
      PREFIX,
      msg.to,
      msg.from,
      msg.id,
      JSON.stringify({ id: msg.id, to: msg.to, from: msg.from, body: msg.body, exp: msg.exp }),
      this.now(),
      msg.exp,
      this.limits.queuePerSender,
      this.limits.queuePerRoute,
      this.limits.maxTtlMs,
    );
    if (evicted) this.events.removed({ to: msg.to, from: msg.from, id: evicted });
    return result === 'FULL' ? 'full' : 'ok';
  }

  async fetch(route: string): Promise<QueuedMessage[]> {
    const members = await this.pub.zrangebyscore(queueKey(route), `(${this.now()}`, '+inf');
    if (members.length === 0) return [];
    const ids = members.map((m) => m.split(' ') as [string, string]);
    const texts = await this.pub.mget(ids.map(([from, id]) => msgKey(route, from, id)));
    const now = this.now();
    const out: QueuedMessage[] = [];
    for (const text of texts) {
      if (text === null) continue; // expired between the two reads
      try {
        const m = JSON.parse(text) as QueuedMessage;
        if (m.exp > now) out.push(m);
      } catch {
        // Only relays write here; a damaged entry is skipped.
      }
    }
    return out.sort((a, b) => a.exp - b.exp);
  }

  async remove(route: string, id: string, from?: string): Promise<void> {
    let senders: string[];
    if (from !== undefined) senders = [from];
    else {
      const members = await this.pub.zrange(queueKey(route), '0', '-1');
      senders = members.filter((m) => m.endsWith(` ${id}`)).map((m) => m.slice(0, m.indexOf(' ')));
    }
    for (const sender of senders) {
      await this.pub
        .multi()
        .del(msgKey(route, sender, id))
        .zrem(queueKey(route), `${sender} ${id}`)
        .zrem(senderKey(route, sender), id)
        .exec();
      this.events.removed({ to: route, from: sender, id });
    }
  }

  async subscribe(route: string): Promise<void> {
    if (!this.wanted.has(route)) this.wanted.set(route, this.now());
    if (this.live.has(route)) return;
    try {
      await this.subscribeNow([route]);
    } catch (error) {
      this.lost.add(route); // retried on the next tick; its holders are told when it is back
      throw error;
    }
    if (!this.live.has(route)) throw new Error('The route was not subscribed.');
  }

  unsubscribe(route: string): void {
    this.wanted.delete(route);
    this.lost.delete(route);
    if (this.live.delete(route)) void this.sub.unsubscribe(channelOf(route)).catch(() => undefined);
  }

  health(): BrokerHealth {
    if (this.pub.status !== 'ready' || this.sub.status !== 'ready' || !this.heartbeatLive) {
      return { ok: false, reason: 'redis unavailable', missing: this.wanted.size - this.live.size };
    }
    const now = this.now();
    let stale = 0;
    for (const [route, since] of this.wanted) if (!this.live.has(route) && since !== null && now - since > SUBSCRIBE_GRACE_MS) stale++;
    if (stale > 0) return { ok: false, reason: `redis subscriptions missing: ${stale}`, missing: stale };
    if (now - this.lastHeartbeat > HEARTBEAT_STALE_MS) return { ok: false, reason: 'redis subscriptions not delivering', missing: 0 };
    return { ok: true, reason: null, missing: 0 };
  }

  queued(): number {
    return -1; // not counted per instance: the queue is shared
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.sub.disconnect();
    await this.pub.quit().catch(() => this.pub.disconnect());
  }

  // ------------------------------------------------------------------ subscriptions

  private async subscribeNow(routes: string[]): Promise<void> {
    const waiting = routes.flatMap((r) => this.inFlight.get(r) ?? []);
    const fresh = routes.filter((r) => !this.live.has(r) && !this.inFlight.has(r));
    if (fresh.length > 0) {
      if (this.sub.status !== 'ready') throw new Error('Redis is unavailable.');
      const batch = this.sub.subscribe(...fresh.map(channelOf)).then(
        () => this.confirm(fresh),
        (error: unknown) => {
          for (const r of fresh) this.inFlight.delete(r);
          throw error;
        },
      );
      for (const r of fresh) this.inFlight.set(r, batch);
      waiting.push(batch);
    }
    await Promise.all(waiting);
  }

  private confirm(routes: string[]): void {
    for (const route of routes) {
      this.inFlight.delete(route);
      if (!this.wanted.has(route)) {
        void this.sub.unsubscribe(channelOf(route)).catch(() => undefined); // its last holder left meanwhile
        continue;
      }
      this.live.add(route);
      this.wanted.set(route, null);
      if (this.lost.delete(route)) this.events.recovered(route);
    }
  }

  private subscriptionsLost(): void {
    const now = this.now();
    for (const route of this.live) this.lost.add(route);
    for (const route of this.wanted.keys()) if (this.wanted.get(route) === null) this.wanted.set(route, now);
    this.live.clear();
    this.heartbeatLive = false;
  }

  /** After every (re)connect: the heartbeat channel and every route held here. */
  private async resubscribeAll(): Promise<void> {
    if (this.closed) return;
    try {
      await this.sub.subscribe(this.heartbeatChannel);
      this.heartbeatLive = true;
      this.lastHeartbeat = this.now();
      const routes = [...this.wanted.keys()];
      for (let i = 0; i < routes.length; i += SUBSCRIBE_BATCH) await this.subscribeNow(routes.slice(i, i + SUBSCRIBE_BATCH));
    } catch {
      // The next tick tries again.
    }
  }

  private onMessage(channel: string, text: string): void {
    if (channel === this.heartbeatChannel) {
      this.lastHeartbeat = this.now();
      return;
    }
    if (!this.live.has(routeOfChannel(channel))) return;
    try {
      const msg = JSON.parse(text) as QueuedMessage;
      if (msg.exp > this.now()) this.events.deliver(msg);
    } catch {
      // Only relays publish here; a damaged message is dropped.
    }
  }

  private tick(): void {
    if (this.closed) return;
    const now = this.now();
    if (this.sub.status === 'ready') {
      if (!this.heartbeatLive) void this.resubscribeAll();
      else {
        const missing = [...this.wanted.keys()].filter((r) => !this.live.has(r) && !this.inFlight.has(r));
        if (missing.length > 0) void this.subscribeNow(missing.slice(0, SUBSCRIBE_BATCH)).catch(() => undefined);
      }
    }
    if (this.pub.status === 'ready' && now - this.lastHeartbeatSent >= HEARTBEAT_EVERY_MS) {
      this.lastHeartbeatSent = now;
      void this.pub.publish(this.heartbeatChannel, String(now)).catch(() => undefined);
    }
    // Redis answers, we are subscribed, yet nothing comes back: the subscriber connection is
    // broken without having closed. Reconnect it; everything is subscribed again on 'ready'.
    if (this.heartbeatLive && this.pub.status === 'ready' && this.sub.status === 'ready' && now - this.lastHeartbeat > HEARTBEAT_STALE_MS) {
      this.sub.disconnect(true);
    }
  }
}
