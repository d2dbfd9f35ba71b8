/**
 * Clients of the relay for the tests, honest and hostile: a raw endpoint that collects frames
 * (optionally from a chosen loopback address, 127.0.0.x, so a test can be many machines), a
 * client that says hello and then never reads again, and readers of the relay's /metrics and of
 * a process's resident memory.
 */
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { WebSocket, type ClientOptions } from 'ws';
import { randomToken } from '../../src-shared/push/encoding.js';
import { routeIdOf } from '../../src-shared/push/suite.js';

export type Frame = Record<string, unknown> & { t: string };

/** A raw endpoint: collects frames and its close code. */
export class Endpoint {
  readonly ws: WebSocket;
  readonly frames: Frame[] = [];
  readonly closed: Promise<number>;
  readonly opened: Promise<void>;
  private waiters: (() => void)[] = [];
  token = randomToken(32);

  constructor(url: string, options?: ClientOptions) {
    this.ws = new WebSocket(url, options);
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    this.ws.on('message', (data) => {
      this.frames.push(JSON.parse(data.toString()) as Frame);
      this.waiters.splice(0).forEach((w) => w());
    });
    this.ws.on('error', () => undefined);
    this.closed = new Promise((resolve) => this.ws.once('close', (code) => resolve(code)));
  }

  static async ready(url: string, options?: ClientOptions & { token?: string }): Promise<Endpoint> {
    const e = new Endpoint(url, options);
    if (options?.token) e.token = options.token;
    await e.opened;
    e.send({ t: 'hello', v: 1, token: e.token });
    await e.next((f) => f.t === 'ready' || f.t === 'error');
    return e;
  }

  send(frame: object | string): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The first frame (seen or to come) that matches. */
  async next(match: (f: Frame) => boolean, timeoutMs = 10_000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no matching frame; got ${JSON.stringify(this.frames).slice(0, 500)}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }

  async route(): Promise<string> {
    return routeIdOf(this.token);
  }

  close(): void {
    this.ws.close();
  }
}

export const msgTo = (to: string, body = 'x', ttlMs = 30_000) => ({ t: 'send', id: randomToken(16), to, ttlMs, body });

/** A masked client-to-server text frame (RFC 6455 §5.2). */
function textFrame(text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const mask = randomBytes(4);
  const n = payload.length;
  const header = n < 126 ? Buffer.from([0x81, 0x80 | n]) : n < 65_536 ? Buffer.from([0x81, 0x80 | 126, n >> 8, n & 255]) : null;
  if (!header) throw new Error('frame too large for this client');
  for (let i = 0; i < n; i++) payload[i]! ^= mask[i % 4]!;
  return Buffer.concat([header, mask, payload]);
}

/**
 * A hostile client that says hello and then stops reading its socket for good, while it keeps
 * sending: what the relay writes to it piles up wherever the relay lets it.
 */
export class NonReadingClient {
  private constructor(
    private readonly socket: Socket,
    readonly token: string,
  ) {}

  static async connect(port: number, localAddress = '127.0.0.1'): Promise<NonReadingClient> {
    const socket = connect({ host: '127.0.0.1', port, localAddress });
    socket.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    const key = randomBytes(16).toString('base64');
    socket.write(
      `GET /v1 HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    const token = randomToken(32);
    let seen = '';
    let helloSent = false;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ready; got ${seen.slice(0, 300)}`)), 10_000);
      const onData = (d: Buffer) => {
        seen += d.toString('latin1');
        if (!helloSent && seen.includes('\r\n\r\n')) {
          if (!seen.startsWith('HTTP/1.1 101')) return reject(new Error(seen.slice(0, 200)));
          helloSent = true;
          socket.write(textFrame(JSON.stringify({ t: 'hello', v: 1, token })));
        }
        if (seen.includes('"t":"ready"')) {
          clearTimeout(timer);
          socket.off('data', onData);
          socket.pause(); // from here on, nothing is read: the kernel buffers fill, then the relay's
          resolve();
        }
      };
      socket.on('data', onData);
    });
    return new NonReadingClient(socket, token);
  }

  route(): Promise<string> {
    return routeIdOf(this.token);
  }

  send(frame: object): void {
    if (!this.socket.destroyed) this.socket.write(textFrame(JSON.stringify(frame)));
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** The value of one Prometheus sample (0 when the relay has not counted it yet). */
export async function metric(origin: string, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${origin}/metrics`)).text();
  const wanted = labels ? `${name}{${labels}}` : name;
  const line = text.split('\n').find((l) => l.startsWith(`${wanted} `));
  return line ? Number(line.slice(wanted.length + 1)) : 0;
}

/** A process's resident set, from /proc (Linux). */
export function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for process ${pid}`);
  return Number(m[1]) * 1024;
}

export const MiB = 1024 * 1024;
