/**
 * The queue of one relay instance, in memory: per route, messages by (sender, id) in arrival
 * order, at most `queuePerSender` from one sender (its own soonest-expiring one makes room) and
 * `queuePerRoute` in all (then QUEUE_FULL: nobody's message is dropped for a newcomer).
 */
import { messageKey, type Broker, type BrokerEvents, type BrokerHealth, type QueueLimits, type QueuedMessage } from './broker.js';

interface RouteQueue {
  /** By messageKey, in arrival order. */
  messages: Map<string, QueuedMessage>;
  perSender: Map<string, number>;
}

export class MemoryBroker implements Broker {
  private readonly queues = new Map<string, RouteQueue>();
  private count = 0;
  private readonly sweeper: ReturnType<typeof setInterval>;

  constructor(
    private readonly events: BrokerEvents,
    private readonly limits: QueueLimits,
    private readonly now: () => number = Date.now,
  ) {
    this.sweeper = setInterval(() => this.sweep(), 1_000);
    this.sweeper.unref();
  }

  async publish(msg: QueuedMessage): Promise<'ok' | 'full'> {
    let queue = this.queues.get(msg.to);
    if (!queue) this.queues.set(msg.to, (queue = { messages: new Map(), perSender: new Map() }));
    const key = messageKey(msg.to, msg.from, msg.id);
    if (queue.messages.has(key)) {
      this.drop(queue, key, false); // the sender re-sent its own message: the new copy replaces it
    } else if ((queue.perSender.get(msg.from) ?? 0) >= this.limits.queuePerSender) {
      this.drop(queue, this.soonestOf(queue, msg.from), true);
    } else if (queue.messages.size >= this.limits.queuePerRoute) {
      this.expire(msg.to, queue);
      if (queue.messages.size >= this.limits.queuePerRoute) return 'full';
    }
    this.queues.set(msg.to, queue); // expiring may have just emptied and forgotten it
    queue.messages.set(key, msg);
    queue.perSender.set(msg.from, (queue.perSender.get(msg.from) ?? 0) + 1);
    this.count++;
    this.events.deliver(msg);
    return 'ok';
  }

  async fetch(route: string): Promise<QueuedMessage[]> {
    const queue = this.queues.get(route);
    if (!queue) return [];
    this.expire(route, queue);
    return [...queue.messages.values()].sort((a, b) => a.exp - b.exp);
  }

  async remove(route: string, id: string, from?: string): Promise<void> {
    const queue = this.queues.get(route);
    if (!queue) return;
    if (from !== undefined) {
      const key = messageKey(route, from, id);
      if (queue.messages.has(key)) this.drop(queue, key, true);
    } else {
      for (const [key, m] of queue.messages) if (m.id === id) this.drop(queue, key, true);
    }
    if (queue.messages.size === 0) this.queues.delete(route);
  }

  async subscribe(): Promise<void> {}
  unsubscribe(): void {}

  health(): BrokerHealth {
    return { ok: true, reason: null, missing: 0 };
  }

  queued(): number {
    return this.count;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.queues.clear();
    this.count = 0;
  }

  private soonestOf(queue: RouteQueue, from: string): string {
    let best: QueuedMessage | null = null;
    let bestKey = '';
    for (const [key, m] of queue.messages) {
      if (m.from === from && (best === null || m.exp < best.exp)) {
        best = m;
        bestKey = key;
      }
    }
    return bestKey;
  }

  private drop(queue: RouteQueue, key: string, notify: boolean): void {
    const m = queue.messages.get(key);
    if (!m) return;
    queue.messages.delete(key);
    const left = (queue.perSender.get(m.from) ?? 1) - 1;
    if (left > 0) queue.perSender.set(m.from, left);
    else queue.perSender.delete(m.from);
    this.count--;
    if (notify) this.events.removed(key);
  }

  private expire(route: string, queue: RouteQueue): void {
    const now = this.now();
    for (const [key, m] of queue.messages) if (m.exp <= now) this.drop(queue, key, true);
    if (queue.messages.size === 0) this.queues.delete(route);
  }

  private sweep(): void {
    for (const [route, queue] of this.queues) this.expire(route, queue);
  }
}
