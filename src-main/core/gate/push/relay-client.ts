/**
 * The desktop's connections to the relay: one reply route per run (answers to pushes arrive
 * there) and one mailbox per pairing. The relay URL is the user's setting, or the embedded
 * relay the shell started; without either, push is unavailable and says so. Also where the web
 * companion comes from, which is a separate question (docs/security.md §4a): the app's own copy,
 * a web server the user trusts, or the relay only when the user says it is trusted.
 */
import { WebSocket } from 'ws';
import type { WebCompanionChoice } from '../../../../src-shared/contract-push.js';
import { relayCompanionUrl } from '../../../../src-shared/push/companion-origin.js';
import { randomToken } from '../../../../src-shared/push/encoding.js';
import type { MsgFrame } from '../../../../src-shared/push/messages.js';
import { RelayConnection, type SocketFactory, type SocketLike } from '../../../../src-shared/push/relay-connection.js';
import type { Clock } from '../../platform/clock.js';
import { CoreError } from '../../platform/errors.js';
import type { Logger } from '../../platform/logger.js';

/** How long a push or a pairing waits for the relay before telling the user it is unreachable. */
export const RELAY_CONNECT_TIMEOUT_MS = 5_000;

export const nodeSocket: SocketFactory = (url) => new WebSocket(url, { maxPayload: 64 * 1024 }) as unknown as SocketLike;

export class DesktopRelay {
  private embeddedUrl: string | null = null;
  private appCompanion: string | null = null;
  private replyConn: RelayConnection | null = null;
  private replyUrl: string | null = null;
  private readonly listeners = new Set<(msg: MsgFrame) => void>();

  constructor(private readonly deps: { configuredUrl: () => string | null | undefined; clock: Clock; logger: Logger; socket?: SocketFactory }) {}

  /** The shell started an in-process relay (console, one machine or a LAN). */
  setEmbedded(url: string | null): void {
    this.embeddedUrl = url;
  }

  /** The shell serves the web companion itself (its embedded relay or a companion host) at this address. */
  setAppCompanion(url: string | null): void {
    this.appCompanion = url;
  }

  appCompanionUrl(): string | null {
    return this.appCompanion;
  }

  /** The page a pairing link opens under `choice`; null when there is none (the CLI companion still pairs). */
  webCompanionUrl(choice: WebCompanionChoice): string | null {
    if (choice.source === 'app') return this.appCompanion;
    if (choice.source === 'url') return choice.url;
    const relay = this.url();
    return relay ? relayCompanionUrl(relay) : null;
  }

  url(): string | null {
    return this.deps.configuredUrl() ?? this.embeddedUrl;
  }

  requireUrl(): string {
    const url = this.url();
    if (!url) throw new CoreError('RELAY_UNAVAILABLE', 'No relay is set up: set a relay address in the settings.');
    return url;
  }

  /** Answers to pushes reach every listener. */
  onReply(listener: (msg: MsgFrame) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The reply connection, ready; (re)made when the relay setting changed. */
  async reply(): Promise<RelayConnection> {
    const url = this.requireUrl();
    if (!this.replyConn || this.replyUrl !== url) {
      this.replyConn?.close();
      this.replyUrl = url;
      const conn: RelayConnection = new RelayConnection({
        url,
        token: randomToken(32),
        socket: this.deps.socket ?? nodeSocket,
        now: () => Date.now(),
        onMessage: (msg) => {
          for (const l of this.listeners) l(msg);
          conn.done(msg.id, msg.from);
        },
        onState: (state, code) => {
          if (state === 'closed') this.deps.logger.warn('relay connection closed', { code: code ?? null });
        },
        onError: (code) => this.deps.logger.warn('relay refused a frame', { code }),
      });
      this.replyConn = conn;
    }
    await ready(this.replyConn);
    return this.replyConn;
  }

  /** A mailbox for one pairing, on its own route token. */
  async mailbox(token: string, onMessage: (msg: MsgFrame, conn: RelayConnection) => void): Promise<RelayConnection> {
    const conn: RelayConnection = new RelayConnection({
      url: this.requireUrl(),
      token,
      socket: this.deps.socket ?? nodeSocket,
      onMessage: (msg) => onMessage(msg, conn),
    });
    try {
      await ready(conn);
    } catch (error) {
      conn.close();
      throw error;
    }
    return conn;
  }

  close(): void {
    this.replyConn?.close();
    this.replyConn = null;
  }
}

async function ready(conn: RelayConnection): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new CoreError('RELAY_UNAVAILABLE', 'Push is unavailable: the relay cannot be reached. Use a code from a device instead.')),
      RELAY_CONNECT_TIMEOUT_MS,
    );
  });
  try {
    await Promise.race([conn.whenReady(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
