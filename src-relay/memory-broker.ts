/**
 * The queue of one relay instance, in memory: per route, per sender, messages by id. At most
 * `queuePerSender` from one sender (its own soonest-expiring one makes room) and `queuePerRoute`
 * in all (then QUEUE_FULL: nobody's message is dropped for a newcomer). Synchronous, and keyed
 * without building strings, because every routed message passes through here.
 */
import type { Broker, BrokerEvents, BrokerHealth, QueueLimits, QueuedMessage } from './broker.js';

interface RouteQueue {
  /** By sender route, then by message id. */
  senders: Map<string, Map<string, QueuedMessage>>;
  size: number;
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

  publish(msg: QueuedMessage): 'ok' | 'full' {
    let queue = this.queues.get(msg.to);
    if (!queue) this.queues.set(msg.to, (queue = { senders: new Map(), size: 0 }));
    let own = queue.senders.get(msg.from);
    const previous = own?.get(msg.id);
    if (own && previous) {
      this.drop(queue, own, previous); // the sender re-sent its own message: the new copy replaces it
    } else if (own && own.size >= this.limits.queuePerSender) {
      this.drop(queue, own, soonest(own));
    } else if (queue.size >= this.limits.queuePerRoute) {
      this.expire(msg.to, queue);
      if (queue.size >= this.limits.queuePerRoute) return 'full';
    }
    this.queues.set(msg.to, queue); // expiring may have just emptied and forgotten it
    own = queue.senders.get(msg.from);
    if (!own) queue.senders.set(msg.from, (own = new Map()));
    own.set(msg.id, msg);
    queue.size++;
    this.count++;
    this.events.deliver(msg);
    return 'ok';
  }

  async fetch(route: string): Promise<QueuedMessage[]> {
    const queue = this.queues.get(route);
    if (!queue) return [];
    this.expire(route, queue);
    const out: QueuedMessage[] = [];
    for (const own of queue.senders.values()) for (const m of own.values()) out.push(m);
    return out.sort((a, b) => a.exp - b.exp);
  }

  remove(route: string, id: string, from?: string): void {
    const queue = this.queues.get(route);
    if (!queue) return;
    for (const [sender, own] of queue.senders) {
      if (from !== undefined && sender !== from) continue;
      const m = own.get(id);
      if (m) this.drop(queue, own, m);
    }
    if (queue.size === 0) this.queues.delete(route);
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

  private drop(queue: RouteQueue, own: Map<string, QueuedMessage>, m: QueuedMessage): void {
    if (!own.delete(m.id)) return;
    if (own.size === 0) queue.senders.delete(m.from);
    queue.size--;
    this.count--;
    this.events.removed(m);
  }

  private expire(route: string, queue: RouteQueue): void {
    const now = this.now();
    for (const own of queue.senders.values()) for (const m of own.values()) if (m.exp <= now) this.drop(queue, own, m);
    if (queue.size === 0) this.queues.delete(route);
  }

  private sweep(): void {
    for (const [route, queue] of this.queues) this.expire(route, queue);
  }
}

/** A sender's message that expires first: the one it gives up for a newer one. */
function soonest(own: Map<string, QueuedMessage>): QueuedMessage {
  let best: QueuedMessage | null = null;
  for (const m of own.values()) if (best === null || m.exp < best.exp) best = m;
  return best!;
}
