/**
 * One endpoint's connection to the relay (docs/protocol.md §2), shared by the desktop and both
 * companions: it says hello with its route token, reconnects with growing delays after any
 * close, and re-sends its own unexpired messages after each reconnect, so a relay restart in
 * the middle of a request ends in a clean result rather than a hang. It takes a WebSocket
 * factory, so Node passes `ws` and browsers their own WebSocket.
 */
import { randomToken } from './encoding.js';
import { PROTOCOL_VERSION, ServerFrameSchema, type MsgFrame, type RelayErrorCode } from './messages.js';

/** The part of the WebSocket API we use; both `ws` and the browser's WebSocket have it. */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}
export type SocketFactory = (url: string) => SocketLike;

const OPEN = 1;
const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 5_000;

interface Outgoing {
  id: string;
  to: string;
  body: string;
  expiresAt: number;
  settle: (refusal: RelayErrorCode | null) => void;
}

export interface RelayConnectionOptions {
  url: string;
  token: string;
  socket: SocketFactory;
  onMessage: (msg: MsgFrame) => void;
  onError?: (code: RelayErrorCode, id: string | undefined) => void;
  onState?: (state: 'connecting' | 'ready' | 'closed', closeCode?: number) => void;
  now?: () => number;
}

export class RelayConnection {
  private socket: SocketLike | null = null;
  private ready = false;
  private stopped = false;
  private retryMs = FIRST_RETRY_MS;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly outbox = new Map<string, Outgoing>();
  private readyWaiters: (() => void)[] = [];
  private readonly now: () => number;
  /** The route id the relay confirmed; set after the first `ready`. */
  route: string | null = null;

  constructor(private readonly options: RelayConnectionOptions) {
    this.now = options.now ?? Date.now;
    this.connect();
  }

  get isReady(): boolean {
    return this.ready;
  }

  /** Resolves at the next `ready` (at once if ready now). */
  whenReady(): Promise<void> {
    return this.ready ? Promise.resolve() : new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /**
   * Send `body` to route `to`, kept by the relay for `ttlMs`. Also kept here until then and re-sent
   * after every reconnect (receivers deduplicate by content). `acked` resolves with null once the
   * relay queued it, or with the relay's error code if it refused it (then it is not re-sent).
   */
  send(to: string, body: string, ttlMs: number): { id: string; acked: Promise<RelayErrorCode | null> } {
    const id = randomToken(16);
    let settle!: (refusal: RelayErrorCode | null) => void;
    const acked = new Promise<RelayErrorCode | null>((resolve) => (settle = resolve));
    const ttl = Math.max(1, Math.floor(ttlMs));
    this.outbox.set(id, { id, to, body, expiresAt: this.now() + ttl, settle });
    if (this.ready) this.sendFrame({ t: 'send', id, to, ttlMs: ttl, body });
    return { id, acked };
  }

  /** Stop re-sending a message (its answer came, or it no longer matters). */
  forget(id: string): void {
    this.outbox.delete(id);
  }

  /** Tell the relay a message to this route is handled, so it is not delivered again (ids are per sender). */
  done(id: string, from: string): void {
    if (this.ready) this.sendFrame({ t: 'done', id, from });
  }

  /** "Check pending": ask the relay to deliver again everything queued for this route. */
  checkPending(): void {
    if (this.ready) this.sendFrame({ t: 'pending' });
  }

  close(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.ready = false;
    this.socket?.close(1000);
    this.socket = null;
  }

  private connect(): void {
    if (this.stopped) return;
    this.options.onState?.('connecting');
    let socket: SocketLike;
    try {
      socket = this.options.socket(this.options.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onopen = () => this.sendFrame({ t: 'hello', v: PROTOCOL_VERSION, token: this.options.token });
    socket.onmessage = (event) => this.receive(event.data);
    socket.onerror = () => undefined; // a close follows; reconnecting is handled there
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.ready = false;
      this.options.onState?.('closed', event.code);
      this.scheduleReconnect();
    };
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const delay = this.retryMs * (0.75 + Math.random() * 0.5);
    this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  private receive(data: unknown): void {
    if (typeof data !== 'string' && !(data instanceof Uint8Array)) return;
    let frame;
    try {
      const text = typeof data === 'string' ? data : new TextDecoder().decode(data);
      const parsed = ServerFrameSchema.safeParse(JSON.parse(text));
      if (!parsed.success) return;
      frame = parsed.data;
    } catch {
      return;
    }
    switch (frame.t) {
      case 'ready':
        this.ready = true;
        this.route = frame.route;
        this.retryMs = FIRST_RETRY_MS;
        this.resendOutbox();
        this.options.onState?.('ready');
        for (const wake of this.readyWaiters.splice(0)) wake();
        break;
      case 'msg':
        this.options.onMessage(frame);
        break;
      case 'ack':
        this.outbox.get(frame.id)?.settle(null);
        break;
      case 'error': {
        const refused = frame.id === undefined ? undefined : this.outbox.get(frame.id);
        if (refused) {
          this.outbox.delete(refused.id);
          refused.settle(frame.code);
        }
        this.options.onError?.(frame.code, frame.id);
        break;
      }
    }
  }

  private resendOutbox(): void {
    const now = this.now();
    for (const m of this.outbox.values()) {
      if (m.expiresAt <= now) this.outbox.delete(m.id);
      else this.sendFrame({ t: 'send', id: m.id, to: m.to, ttlMs: m.expiresAt - now, body: m.body });
    }
  }

  private sendFrame(frame: object): void {
    const s = this.socket;
    // Relay frames are not signed: plain JSON, no canonical key order to compute on every send.
    if (s && s.readyState === OPEN) s.send(JSON.stringify(frame));
  }
}
