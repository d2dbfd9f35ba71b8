/**
 * The WebSocket notification relay (docs/protocol.md §2). It routes opaque bodies between route
 * ids and queues them until they expire; it never sees a key, a request or an answer in the
 * clear. Limits on frame size, rates, send buffers, queued bytes per connection and per address,
 * connections per address, and one memory budget for everything; one timer for keepalive and
 * deadlines (not one per connection, to keep idle connections cheap); /healthz and /metrics on
 * the same port. It serves the web companion only when told to (`companionDir`): the embedded
 * relay, which is the app itself, or a relay its users trust as much (docs/security.md §4a).
 * `startRelay` is also the embedded mode.
 */
import { CLOSE_CODES } from '../src-shared/push/messages.js';
import { createWebServer, listen, type Tls } from '../src-node/web-server.js';
import type { Broker, BrokerEvents } from './broker.js';
import { Budget, ChargeLedger } from './budget.js';
import { COMPANION_PATH } from './companion-host.js';
import { acceptUpgrades, relayHttpHandler } from './http.js';
import { Connections } from './connections.js';
import { DEFAULT_LIMITS, type RelayLimits } from './limits.js';
import { MemoryBroker } from './memory-broker.js';
import { createMetrics } from './metrics.js';
import { RedisBroker } from './redis-broker.js';

export { routeIdOfToken } from './connections.js';

export interface RelayOptions {
  host?: string;
  port?: number;
  tls?: Tls;
  redisUrl?: string;
  limits?: Partial<RelayLimits>;
  /**
   * The built web companion, served at /companion/. Only for a relay its users trust like the
   * computer itself (the embedded relay is the app): whoever serves the page holds its keys.
   */
  companionDir?: string;
  /** Called with one line per notable event; never given a body or a token. */
  log?: (line: string) => void;
}

export interface Relay {
  /** ws:// or wss:// URL endpoints connect to. */
  readonly url: string;
  /** http:// or https:// origin (for /healthz, /metrics, and /companion/ when served). */
  readonly httpOrigin: string;
  /** Where the web companion is served, when it is. */
  readonly companionUrl: string | null;
  readonly port: number;
  connections(): number;
  close(): Promise<void>;
}

export async function startRelay(options: RelayOptions = {}): Promise<Relay> {
  const limits: RelayLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const log = options.log ?? (() => undefined);
  const budget = new Budget(limits);
  const ledger = options.redisUrl ? new ChargeLedger(budget, Date.now()) : null;
  let draining = false;
  let broker: Broker | null = null;

  const metrics = createMetrics({
    connections: () => connections.count(),
    routes: () => connections.routeCount(),
    queuedMessages: () => broker?.queued() ?? 0,
    queuedBytes: () => budget.snapshot().queued,
    sendBufferBytes: () => budget.snapshot().outbound,
    budgetUsedBytes: () => budget.used(),
    budgetBytes: () => limits.memoryBudgetBytes,
    missingSubscriptions: () => broker?.health().missing ?? 0,
  });
  const connections = new Connections(limits, budget, metrics);
  const events: BrokerEvents = {
    deliver: (msg) => connections.deliver(msg),
    removed: (msg) => connections.released(msg),
    recovered: (route) => connections.recovered(route),
  };
  const queueLimits = { queuePerRoute: limits.queuePerRoute, queuePerSender: limits.queuePerSender, maxTtlMs: limits.maxTtlMs };
  broker = options.redisUrl ? await RedisBroker.connect(options.redisUrl, events, queueLimits) : new MemoryBroker(events, queueLimits);
  connections.attach(broker, ledger);

  const server = createWebServer(
    options.tls,
    relayHttpHandler({
      health: () => {
        if (draining) return { ok: false, reason: 'shutting down' };
        const health = broker!.health();
        return health.ok ? { ok: true } : { ok: false, reason: health.reason ?? 'unavailable' };
      },
      metrics: metrics.registry,
      companionDir: options.companionDir,
    }),
  );
  acceptUpgrades(server, {
    maxFrameBytes: limits.maxFrameBytes,
    open: () => !draining,
    accept: (ws, address) => connections.accept(ws, address),
  });

  // One timer for every connection: keepalive pings, hello deadlines, slow consumers, expiries.
  const ticker = setInterval(
    () => {
      const now = Date.now();
      connections.tick(now);
      ledger?.sweep(now);
    },
    Math.min(1_000, limits.helloTimeoutMs, limits.pingIntervalMs / 4),
  );
  ticker.unref();

  const secure = options.tls !== undefined;
  const {
    port,
    urlHost,
    origin: httpOrigin,
  } = await listen(server, options.host ?? '127.0.0.1', options.port ?? 0, secure).catch(async (error: unknown) => {
    clearInterval(ticker);
    await broker!.close();
    throw error;
  });
  log(`relay listening on ${httpOrigin} (redis: ${options.redisUrl ? 'yes' : 'no'}; web companion: ${options.companionDir ? 'served' : 'not served'})`);

  return {
    url: `${secure ? 'wss' : 'ws'}://${urlHost}:${port}/v1`,
    httpOrigin,
    companionUrl: options.companionDir ? `${httpOrigin}${COMPANION_PATH}` : null,
    port,
    connections: () => connections.count(),
    async close() {
      if (draining) return;
      draining = true;
      clearInterval(ticker);
      connections.closeAll(CLOSE_CODES.goingAway, 'relay shutting down');
      // Give the close frames a moment, then cut whatever is left.
      await new Promise((r) => setTimeout(r, 100));
      connections.terminateAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await broker!.close();
      log('relay stopped');
    },
  };
}
