/**
 * The relay's Prometheus metrics (/metrics): connections, routes, frames, messages routed and
 * delivered, memory held (queued, send buffers, the budget), Redis subscriptions missing, and a
 * counter of every refusal by its reason (docs/protocol.md §2.4 lists the reasons).
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { CLOSE_CODES, RELAY_ERROR_CODES } from '../src-shared/push/messages.js';

/**
 * Every reason the relay refuses something, listed at 0 from the start so each has a series:
 * the error codes of refused frames (OVER_QUOTA split by whose quota), deliveries held back, the
 * send buffer filling, and each close code.
 */
export const REFUSAL_REASONS = [
  ...RELAY_ERROR_CODES.filter((c) => c !== 'OVER_QUOTA'),
  'OVER_QUOTA_CONNECTION',
  'OVER_QUOTA_ADDRESS',
  'send-buffer-full',
  'delivery-held-send-buffer',
  'delivery-held-budget',
  'ping-timeout',
  ...Object.values(CLOSE_CODES)
    .filter((c) => c >= 1009)
    .map((c) => `close-${c}`),
];

export interface RelayGauges {
  connections(): number;
  routes(): number;
  queuedMessages(): number;
  queuedBytes(): number;
  sendBufferBytes(): number;
  budgetUsedBytes(): number;
  budgetBytes(): number;
  missingSubscriptions(): number;
}

export type FrameType = 'hello' | 'send' | 'done' | 'pending';

export interface RelayMetrics {
  registry: Registry;
  frame(type: FrameType): void;
  routed(): void;
  delivered(): void;
  refused(reason: string): void;
  bytesIn(n: number): void;
}

export function createMetrics(gauges: RelayGauges): RelayMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  gauge('relay_connections', 'Open WebSocket connections.', gauges.connections);
  gauge('relay_routes', 'Routes with a connection here.', gauges.routes);
  gauge('relay_queued_messages', 'Messages queued in memory (-1 with Redis).', gauges.queuedMessages);
  gauge('relay_queued_bytes', 'Bytes of unexpired messages sent through this instance.', gauges.queuedBytes);
  gauge('relay_send_buffer_bytes', 'Bytes written to sockets and not yet taken by the OS.', gauges.sendBufferBytes);
  gauge('relay_memory_budget_used_bytes', 'What counts against the memory budget: queued, send buffers, a share per connection.', gauges.budgetUsedBytes);
  gauge('relay_memory_budget_bytes', 'The memory budget.', gauges.budgetBytes);
  gauge('relay_redis_missing_subscriptions', 'Routes held here whose Redis subscription is not live.', gauges.missingSubscriptions);
  const frames = new Counter({ name: 'relay_frames_total', help: 'Frames received, by type.', labelNames: ['type'], registers: [registry] });
  const routed = new Counter({ name: 'relay_messages_routed_total', help: 'Messages accepted for routing.', registers: [registry] });
  const delivered = new Counter({ name: 'relay_messages_delivered_total', help: 'Message deliveries to connections.', registers: [registry] });
  const refused = new Counter({
    name: 'relay_refused_total',
    help: 'Frames refused, deliveries held back and connections closed, by reason.',
    labelNames: ['reason'],
    registers: [registry],
  });
  const bytes = new Counter({ name: 'relay_bytes_received_total', help: 'Bytes received in frames.', registers: [registry] });
  // Bound once: a labelled inc() per frame would hash its labels every time.
  const byType = { hello: frames.labels('hello'), send: frames.labels('send'), done: frames.labels('done'), pending: frames.labels('pending') };
  for (const reason of REFUSAL_REASONS) refused.inc({ reason }, 0);
  const byReason = new Map<string, Counter.Internal>(REFUSAL_REASONS.map((r) => [r, refused.labels(r)]));
  return {
    registry,
    frame: (type) => byType[type].inc(),
    routed: () => routed.inc(),
    delivered: () => delivered.inc(),
    refused: (reason) => {
      let c = byReason.get(reason);
      if (!c) byReason.set(reason, (c = refused.labels(reason)));
      c.inc();
    },
    bytesIn: (n) => bytes.inc(n),
  };
}
