/**
 * The relay's limits (docs/protocol.md §2.3): sizes, rates, and the memory budgets that keep one
 * client from growing the relay (a full send buffer, a sprayed queue, many connections from one
 * address). Every one is a flag of `npm run relay`; the embedded relay runs with tighter ones,
 * because its memory is the app's.
 */

const KiB = 1024;
const MiB = 1024 * KiB;

export const DEFAULT_LIMITS = {
  maxFrameBytes: 32 * KiB,
  maxBodyChars: 16 * KiB,
  maxTtlMs: 120_000,
  /** Messages queued for one route, from every sender together; beyond: QUEUE_FULL. */
  queuePerRoute: 64,
  /** Messages one sender may have queued for one route; beyond, its own soonest-expiring one goes. */
  queuePerSender: 16,
  connRatePerSec: 20,
  connBurst: 40,
  routeRatePerSec: 20,
  routeBurst: 40,
  helloTimeoutMs: 10_000,
  pingIntervalMs: 25_000,
  maxBadFrames: 5,
  /** A connection's unsent output above this: its input is paused and deliveries wait in the queue. */
  sendBufferBytes: 256 * KiB,
  /** Over the send-buffer bound for this long: closed with 4008. */
  slowCloseMs: 10_000,
  /** Bytes of unexpired messages one connection has queued (its own sends), and one remote address. */
  connQueueBytes: 1 * MiB,
  addressQueueBytes: 4 * MiB,
  /** Open connections from one remote address (an IPv6 address counts by its /64). */
  addressConnections: 64,
  /** Everything queued, every send buffer and a fixed share per connection; beyond: RELAY_FULL, close 4013. */
  memoryBudgetBytes: 256 * MiB,
} as const;

export type RelayLimits = { -readonly [K in keyof typeof DEFAULT_LIMITS]: number };

/** What an open connection counts against the memory budget besides its buffers (socket, ws state, input). */
export const CONNECTION_COST_BYTES = 8 * KiB;

/**
 * The relay inside the desktop app or the console (one machine, a LAN): its memory is the app's,
 * so the budget is small, and a handful of addresses is all it should ever see.
 */
export const EMBEDDED_LIMITS: Partial<RelayLimits> = {
  sendBufferBytes: 128 * KiB,
  connQueueBytes: 512 * KiB,
  addressQueueBytes: 2 * MiB,
  addressConnections: 32,
  memoryBudgetBytes: 24 * MiB,
};
