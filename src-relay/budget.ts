/**
 * What each connection, each remote address and the whole relay hold in memory
 * (docs/protocol.md §2.3): bytes of queued messages (charged to the connection and address that
 * sent them until they expire or leave the queue), bytes written to a socket and not yet handed
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

interface Charge {
  conn: ConnUsage;
  bytes: number;
  exp: number;
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
  return `${groups.slice(0, 4).map((g) => g.toLowerCase().replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

export class Budget {
  private queued = 0;
  private outbound = 0;
  private connections = 0;
  private readonly addresses = new Map<string, AddressUsage>();
  private readonly charges = new Map<string, Charge>();
  /** Charge keys by the second they expire in, so expiry costs nothing per message per tick. */
  private readonly expiries = new Map<number, string[]>();
  private sweptUpTo: number;

  constructor(
    private readonly limits: Pick<RelayLimits, 'connQueueBytes' | 'addressQueueBytes' | 'addressConnections' | 'memoryBudgetBytes'>,
    now: number,
  ) {
    this.sweptUpTo = Math.floor(now / 1000);
  }

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

  /** The connection is gone; what it queued stays charged to it (and its address) until it expires. */
  close(conn: ConnUsage): void {
    this.connections--;
    conn.address.connections--;
    this.forgetIfIdle(conn.address);
  }

  /** Charge a message of `bytes` to its sender until `exp` (or `release`); a reason when it does not fit. */
  charge(key: string, conn: ConnUsage, bytes: number, exp: number): QueueRefusal | null {
    const previous = this.charges.get(key);
    const credit = previous?.conn === conn ? previous.bytes : 0; // a re-send replaces its earlier copy
    if (conn.queued - credit + bytes > this.limits.connQueueBytes) return 'connection';
    if (conn.address.queued - credit + bytes > this.limits.addressQueueBytes) return 'address';
    if (!this.fits(bytes - credit)) return 'budget';
    if (previous) this.release(key);
    this.charges.set(key, { conn, bytes, exp });
    conn.queued += bytes;
    conn.address.queued += bytes;
    this.queued += bytes;
    const second = Math.ceil(exp / 1000);
    const bucket = this.expiries.get(second);
    if (bucket) bucket.push(key);
    else this.expiries.set(second, [key]);
    return null;
  }

  release(key: string): void {
    const charge = this.charges.get(key);
    if (!charge) return;
    this.charges.delete(key);
    charge.conn.queued -= charge.bytes;
    charge.conn.address.queued -= charge.bytes;
    this.queued -= charge.bytes;
    this.forgetIfIdle(charge.conn.address);
  }

  /** Release every charge whose message has expired by `now`. */
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
