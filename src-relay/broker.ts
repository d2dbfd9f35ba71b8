/**
 * Where queued messages live and how they reach the instance holding their route
 * (docs/protocol.md §2.5): in memory for one instance (memory-broker.ts), in Redis when several
 * instances share the load (redis-broker.ts). Both keep a route's queue the same way: a message
 * is known by its sender and its id together, a sender replaces or displaces only its own
 * messages, and a full queue refuses new senders rather than dropping anyone's.
 */

export interface QueuedMessage {
  id: string;
  to: string;
  /** The sender's route id: the relay derived it from the sender's token, so it cannot be claimed. */
  from: string;
  body: string;
  /** Relay time at which the message is dropped. */
  exp: number;
  /** What it holds against its sender's quotas (set by the server; never stored in Redis). */
  charge?: unknown;
}

/** A message's identity: ids are scoped to their sender, so nobody can replace another's message. */
export function messageKey(to: string, from: string, id: string): string {
  return `${to} ${from} ${id}`;
}

export interface BrokerEvents {
  /** A message for a route held here (published here or on another instance). */
  deliver(msg: QueuedMessage): void;
  /**
   * A message left the queue: done, replaced or displaced by its sender, or (in memory) expired.
   * In memory it is the queued object itself, with its charge; from Redis only its identity.
   */
  removed(msg: Pick<QueuedMessage, 'to' | 'from' | 'id' | 'charge'>): void;
  /** A route's subscription came back after an outage: its holders may have missed messages. */
  recovered(route: string): void;
}

export interface BrokerHealth {
  ok: boolean;
  /** Why not, in a few words for /healthz. */
  reason: string | null;
  /** Routes held here whose subscription is not live (always 0 in memory). */
  missing: number;
}

export interface Broker {
  /**
   * Queue `msg` until it expires and hand it to whoever holds its route; 'full' when the route's
   * queue is. In memory this is synchronous (no promise per message on the hot path).
   */
  publish(msg: QueuedMessage): 'ok' | 'full' | Promise<'ok' | 'full'>;
  /** Unexpired queued messages of a route, soonest to expire first. */
  fetch(route: string): Promise<QueuedMessage[]>;
  /** Remove a handled message: `from`'s, or every message with that id when `from` is not given. */
  remove(route: string, id: string, from?: string): void | Promise<void>;
  /** This instance now holds `route`; resolves once what is published to it arrives here. */
  subscribe(route: string): Promise<void>;
  unsubscribe(route: string): void;
  health(): BrokerHealth;
  /** Messages queued in this process (-1 when they live elsewhere). */
  queued(): number;
  close(): Promise<void>;
}

export interface QueueLimits {
  queuePerRoute: number;
  queuePerSender: number;
  maxTtlMs: number;
}
