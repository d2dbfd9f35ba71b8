/**
 * What each connection, each remote address and the whole relay hold in memory
 * (docs/protocol.md §2.3): bytes of queued messages (charged to the connection and address that
 * sent them until they leave the queue or expire), bytes written to a socket and not yet handed
 * to the OS, and a fixed share per open connection. Pure bookkeeping; the server decides what to
 * refuse with it.
 */
import { isIPv6 } from 'node:net';
import { CONNECTION_COST_BYTES, type RelayLimits } from './limits.js';

export interface AddressUsage {
  readonly key: string;
  connections: number;
  queued: number;
}

export interface ConnUsage {
  readonly address: AddressUsage;
  queued: number;
  /** Written to the socket, not yet flushed. */
  outbound: number;
}

/** What one queued message holds against its sender's quotas until it is released. */
export interface Charge {
  readonly conn: ConnUsage;
  readonly bytes: number;
  released: boolean;
}

export type OpenRefusal = 'address' | 'budget';
export type QueueRefusal = 'connection' | 'address' | 'budget';

/** One key per client machine: IPv4 as is (mapped addresses unwrapped), IPv6 by its /64. */
export function addressKey(remote: string | undefined): string {
  if (!remote) return 'unknown';
  if (remote.startsWith('::ffff:') && remote.includes('.')) return remote.slice(7);
  if (!isIPv6(remote)) return remote;
  const [head, tail = ''] = remote.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = remote.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

export class Budget {
  private queued = 0;
  private outbound = 0;
  private connections = 0;
  private readonly addresses = new Map<string, AddressUsage>();

  constructor(private readonly limits: Pick<RelayLimits, 'connQueueBytes' | 'addressQueueBytes' | 'addressConnections' | 'memoryBudgetBytes'>) {}

  used(): number {
    return this.queued + this.outbound + this.connections * CONNECTION_COST_BYTES;
  }

  snapshot(): { queued: number; outbound: number; connections: number; used: number; addresses: number } {
    return { queued: this.queued, outbound: this.outbound, connections: this.connections, used: this.used(), addresses: this.addresses.size };
  }

  /** Whether `bytes` more still fit in the memory budget. */
  fits(bytes: number): boolean {
    return this.used() + bytes <= this.limits.memoryBudgetBytes;
  }

  open(remote: string | undefined): ConnUsage | OpenRefusal {
    const key = addressKey(remote);
    const address = this.addresses.get(key) ?? { key, connections: 0, queued: 0 };
    if (address.connections >= this.limits.addressConnections) return 'address';
    if (!this.fits(CONNECTION_COST_BYTES)) return 'budget';
    this.addresses.set(key, address);
    address.connections++;
    this.connections++;
    return { address, queued: 0, outbound: 0 };
  }

  /** The connection is gone; what it queued stays charged to it (and its address) until released. */
  close(conn: ConnUsage): void {
    this.connections--;
    conn.address.connections--;
    this.forgetIfIdle(conn.address);
  }

  /** Charge a message of `bytes` to its sender; the reason when it does not fit. */
  charge(conn: ConnUsage, bytes: number): Charge | QueueRefusal {
    if (conn.queued + bytes > this.limits.connQueueBytes) return 'connection';
    if (conn.address.queued + bytes > this.limits.addressQueueBytes) return 'address';
    if (!this.fits(bytes)) return 'budget';
    conn.queued += bytes;
    conn.address.queued += bytes;
    this.queued += bytes;
    return { conn, bytes, released: false };
  }

  /** The message left the queue (handled, displaced by its sender, or expired). Once per charge. */
  release(charge: Charge): void {
    if (charge.released) return;
    charge.released = true;
    charge.conn.queued -= charge.bytes;
    charge.conn.address.queued -= charge.bytes;
    this.queued -= charge.bytes;
    this.forgetIfIdle(charge.conn.address);
  }

  wrote(conn: ConnUsage, bytes: number): void {
    conn.outbound += bytes;
    this.outbound += bytes;
  }

  flushed(conn: ConnUsage, bytes: number): void {
    conn.outbound -= bytes;
    this.outbound -= bytes;
  }

  private forgetIfIdle(address: AddressUsage): void {
    if (address.connections === 0 && address.queued <= 0) this.addresses.delete(address.key);
  }
}

/**
 * Charges of messages that live elsewhere (in Redis), by message key: released when this
 * instance learns they left the queue, or at their expiry at the latest. Keys are grouped by the
 * second they expire in, so expiry costs nothing per message per tick.
 */
export class ChargeLedger {
  private readonly charges = new Map<string, { charge: Charge; exp: number }>();
  private readonly expiries = new Map<number, string[]>();
  private sweptUpTo: number;

  constructor(
    private readonly budget: Budget,
    now: number,
  ) {
    this.sweptUpTo = Math.floor(now / 1000);
  }

  track(key: string, charge: Charge, exp: number): void {
    this.release(key); // a re-send replaces its earlier copy
    this.charges.set(key, { charge, exp });
    const second = Math.ceil(exp / 1000);
    const bucket = this.expiries.get(second);
    if (bucket) bucket.push(key);
    else this.expiries.set(second, [key]);
  }

  release(key: string): void {
    const entry = this.charges.get(key);
    if (!entry) return;
    this.charges.delete(key);
    this.budget.release(entry.charge);
  }

  sweep(now: number): void {
    const upTo = Math.floor(now / 1000);
    for (let s = this.sweptUpTo + 1; s <= upTo; s++) {
      const keys = this.expiries.get(s);
      if (!keys) continue;
      this.expiries.delete(s);
      // A key re-charged since (a re-send) carries its new expiry and waits for it.
      for (const key of keys) if ((this.charges.get(key)?.exp ?? 0) <= now) this.release(key);
    }
    this.sweptUpTo = Math.max(this.sweptUpTo, upTo);
  }
}
