/**
 * One SSH connection carrying `channels` SFTP sessions (docs/repository-format.md, "Storage").
 * An operation borrows a session for its whole run (a transfer pipelines its own requests on it),
 * so at most `channels` operations are in flight. The connection is made when first needed and
 * made again, with exponential backoff and jitter, when it drops: an operation cut off by a lost
 * connection (reset, timed out, refused while the server restarts) is run again, whole, up to
 * `maxAttempts` times; what reaches the caller is final and classified (sftp-errors.ts).
 *
 * ssh2 drops a request sent on a channel that has closed without ever calling back, so every
 * request here is tied to its connection: the connection's end fails them all at once.
 */
import type { Client, ConnectConfig, FileEntryWithStats, SFTPWrapper, Stats } from 'ssh2';
import { ssh2 } from './ssh2-module.js';
import { classifiedConnect, classifiedSftp, isTransient, nodeCode } from './sftp-errors.js';
import { hostKeyCheck } from './sftp-host-key.js';
import { StorageError, type StorageEvent } from './storage.js';

export type SftpAuth =
  | { kind: 'password'; password: string }
  | { kind: 'key'; privateKey: string; passphrase?: string } // the key file's text (OpenSSH or PEM)
  | { kind: 'agent'; socket?: string }; // default: process.env.SSH_AUTH_SOCK

export interface SftpPoolOptions {
  host: string;
  port: number;
  username: string;
  auth: SftpAuth;
  hostKey: string | undefined;
  channels: number;
  connectTimeoutMs: number;
  maxAttempts: number;
  /** Told of every retry and of the end of a retried request (the storage's watchers: a job shows what it waits on). */
  onEvent?: (event: StorageEvent) => void;
}

/** What the statvfs@openssh.com extension answers (the fields used here; ssh2 may give a bigint). */
export interface FsInfo {
  f_bavail: number | bigint;
  f_frsize: number | bigint;
}

type Callback<T> = (err: Error | undefined | null, value?: T) => void;

/** A connection lost under a request: transient (isTransient reads its level). */
function connectionLost(why = 'the SSH connection was lost'): Error {
  return Object.assign(new Error(`Not connected: ${why}`), { level: 'client-socket' });
}

/** One SSH connection and its SFTP sessions; dead once the connection ends, never revived. */
class Session {
  readonly idle: Channel[] = [];
  private readonly waiting: { resolve: (c: Channel) => void; reject: (e: Error) => void }[] = [];
  private readonly pending = new Set<(e: Error) => void>();
  dead: Error | null = null;

  constructor(readonly client: Client) {}

  kill(e: Error): void {
    if (this.dead) return;
    this.dead = e;
    for (const fail of [...this.pending]) fail(e);
    this.pending.clear();
    for (const w of this.waiting.splice(0)) w.reject(e);
    this.client.end();
  }

  /** A request on this connection: its answer, or the connection's end, whichever comes first. */
  call<T>(start: (cb: Callback<T>) => void): Promise<T> {
    if (this.dead) return Promise.reject(this.dead);
    return new Promise<T>((resolve, reject) => {
      const fail = (e: Error) => {
        this.pending.delete(fail);
        reject(e);
      };
      this.pending.add(fail);
      try {
        start((err, value) => {
          if (!this.pending.delete(fail)) return;
          if (err) reject(err);
          else resolve(value as T);
        });
      } catch (e) {
        fail(e as Error);
      }
    });
  }

  acquire(): Promise<Channel> {
    if (this.dead) return Promise.reject(this.dead);
    const ch = this.idle.pop();
    if (ch) return Promise.resolve(ch);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  release(ch: Channel): void {
    if (this.dead) return;
    const next = this.waiting.shift();
    if (next) next.resolve(ch);
    else this.idle.push(ch);
  }
}

/** One SFTP session, its requests as promises. */
export class Channel {
  constructor(
    private readonly session: Session,
    private readonly sftp: SFTPWrapper,
  ) {}

  open(path: string, flags: 'r' | 'wx', mode?: number): Promise<Buffer> {
    return this.session.call<Buffer>((cb) => (mode === undefined ? this.sftp.open(path, flags, cb) : this.sftp.open(path, flags, { mode }, cb)));
  }
  close(handle: Buffer): Promise<void> {
    return this.session.call<void>((cb) => this.sftp.close(handle, cb));
  }
  /** Bytes read into `buf` at `off` (0 at the end of the file). */
  read(handle: Buffer, buf: Buffer, off: number, len: number, position: number): Promise<number> {
    return this.session.call<number>((cb) => this.sftp.read(handle, buf, off, len, position, (err, bytesRead) => cb(err, bytesRead)));
  }
  write(handle: Buffer, buf: Buffer, off: number, len: number, position: number): Promise<void> {
    return this.session.call<void>((cb) => this.sftp.write(handle, buf, off, len, position, cb));
  }
  fstat(handle: Buffer): Promise<Stats> {
    return this.session.call<Stats>((cb) => this.sftp.fstat(handle, cb));
  }
  fsync(handle: Buffer): Promise<void> {
    return this.session.call<void>((cb) => this.sftp.ext_openssh_fsync(handle, (err) => cb(err)));
  }
  stat(path: string): Promise<Stats> {
    return this.session.call<Stats>((cb) => this.sftp.stat(path, cb));
  }
  readdir(path: string): Promise<FileEntryWithStats[]> {
    return this.session.call<FileEntryWithStats[]>((cb) => this.sftp.readdir(path, cb));
  }
  mkdir(path: string): Promise<void> {
    return this.session.call<void>((cb) => this.sftp.mkdir(path, { mode: 0o700 }, cb));
  }
  /** Plain SFTP rename: OpenSSH makes it link + unlink, which refuses to replace an existing file. */
  rename(from: string, to: string): Promise<void> {
    return this.session.call<void>((cb) => this.sftp.rename(from, to, cb));
  }
  /** posix-rename@openssh.com: replaces `to` atomically. */
  posixRename(from: string, to: string): Promise<void> {
    return this.session.call<void>((cb) => this.sftp.ext_openssh_rename(from, to, cb));
  }
  unlink(path: string): Promise<void> {
    return this.session.call<void>((cb) => this.sftp.unlink(path, cb));
  }
  statvfs(path: string): Promise<FsInfo> {
    return this.session.call<FsInfo>((cb) => this.sftp.ext_openssh_statvfs(path, (err, info: FsInfo) => cb(err, info)));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Before attempt n+1: 250 ms, 500 ms, 1 s … at most 5 s, each with up to half of it off (jitter). */
function backoff(attempt: number): number {
  const full = Math.min(5000, 250 * 2 ** (attempt - 1));
  return full / 2 + Math.random() * (full / 2);
}

export class SftpPool {
  private session: Session | null = null;
  private connecting: Promise<Session> | null = null;
  private closed = false;

  constructor(private readonly o: SftpPoolOptions) {}

  get where(): string {
    return `${this.o.username}@${this.o.host}:${this.o.port}`;
  }

  get channels(): number {
    return this.o.channels;
  }

  /** `fn` with a session of its own, run again on a fresh connection when the connection failed under it. */
  async run<T>(what: string, fn: (ch: Channel) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      let session: Session | null = null;
      let step = `connect ${this.where}`;
      try {
        session = await this.current();
        step = what;
        const ch = await session.acquire();
        try {
          const out = await fn(ch);
          if (attempt > 1) this.o.onEvent?.({ type: 'retried', ok: true });
          return out;
        } finally {
          session.release(ch);
        }
      } catch (e) {
        const transient = isTransient(e);
        // A request failed because the connection did: the next attempt makes a new one.
        if (transient && session && !session.dead) session.kill(e as Error);
        if (!transient || attempt >= this.o.maxAttempts || this.closed) {
          // An answer (not found, refused) ends the wait for the server as much as a success does.
          if (attempt > 1) this.o.onEvent?.({ type: 'retried', ok: !transient });
          throw this.final(e, step, attempt, transient);
        }
        const cause = nodeCode(e) === 'ETIMEDOUT' ? 'timeout' : 'network';
        this.o.onEvent?.({ type: 'retrying', cause, attempt: attempt + 1, attempts: this.o.maxAttempts });
        await sleep(backoff(attempt));
      }
    }
  }

  /**
   * `fn` for every item, spread over the sessions: each takes a share and runs up to
   * `perChannel` of its items at once (SFTP answers requests on one session in turn). Results in
   * the order of `items`.
   */
  async runEach<I, O>(what: string, items: readonly I[], fn: (ch: Channel, item: I) => Promise<O>, perChannel = 16): Promise<O[]> {
    if (items.length === 0) return [];
    const shares = Math.min(this.o.channels, Math.ceil(items.length / perChannel));
    const out = new Array<O>(items.length);
    await Promise.all(
      Array.from({ length: shares }, (_, s) =>
        this.run(what, async (ch) => {
          const mine: number[] = [];
          for (let i = s; i < items.length; i += shares) mine.push(i);
          let next = 0;
          const lane = async () => {
            while (next < mine.length) {
              const i = mine[next++]!;
              out[i] = await fn(ch, items[i]!);
            }
          };
          await Promise.all(Array.from({ length: Math.min(perChannel, mine.length) }, lane));
        }),
      ),
    );
    return out;
  }

  private final(e: unknown, what: string, attempts: number, transient: boolean): StorageError {
    const err = classifiedSftp(e, what);
    if (!transient || attempts <= 1) return err;
    return new StorageError(err.code, `${err.detail} (after ${attempts} attempts)`, { fingerprint: err.fingerprint });
  }

  private current(): Promise<Session> {
    if (this.closed) return Promise.reject(new StorageError('FAILED', `${this.where}: the storage is closed`));
    if (this.session && !this.session.dead) return Promise.resolve(this.session);
    this.connecting ??= this.connect().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private async connect(): Promise<Session> {
    const client = new (await ssh2()).Client();
    const session = new Session(client);
    const check = hostKeyCheck(this.o.hostKey, this.where);
    try {
      const config = { ...this.connectConfig(), hostVerifier: (key: Buffer) => check.verify(key) };
      await new Promise<void>((resolve, reject) => {
        client.on('ready', () => resolve());
        // A refused host key ends the handshake with ssh2's own error: ours says why.
        client.on('error', (e: Error) => {
          const why = check.refusal() ?? e;
          reject(why);
          session.kill(why);
        });
        client.on('close', () => {
          const why = check.refusal() ?? connectionLost();
          reject(why);
          session.kill(why);
        });
        if (this.o.auth.kind === 'password') {
          const password = this.o.auth.password;
          client.on('keyboard-interactive', (_name, _instructions, _lang, prompts, finish) => finish(prompts.map(() => password)));
        }
        client.connect(config);
        // Requests are small and answered one by one: Nagle's delay would hold each for an ACK.
        client.setNoDelay(true);
      });
      const opened = await Promise.allSettled(Array.from({ length: this.o.channels }, () => session.call<SFTPWrapper>((cb) => client.sftp(cb))));
      for (const r of opened) {
        if (r.status !== 'fulfilled') continue;
        r.value.on('close', () => session.kill(connectionLost('an SFTP session was closed by the server')));
        r.value.on('error', (e: Error) => session.kill(e));
        session.idle.push(new Channel(session, r.value));
      }
      // The server may allow fewer sessions per connection (MaxSessions): work with those it gave.
      if (session.idle.length === 0) {
        const first = opened.find((r) => r.status === 'rejected');
        throw first?.reason ?? connectionLost('no SFTP session');
      }
    } catch (e) {
      session.kill(e as Error);
      throw e instanceof StorageError ? e : isTransient(e) ? e : classifiedConnect(e, `connect ${this.where}`);
    }
    if (this.closed) {
      session.kill(connectionLost('closed'));
      throw new StorageError('FAILED', `${this.where}: the storage is closed`);
    }
    this.session = session;
    return session;
  }

  private connectConfig(): ConnectConfig {
    const base: ConnectConfig = {
      host: this.o.host,
      port: this.o.port,
      username: this.o.username,
      readyTimeout: this.o.connectTimeoutMs,
      keepaliveInterval: 15_000,
      keepaliveCountMax: 3,
    };
    const auth = this.o.auth;
    if (auth.kind === 'password') return { ...base, password: auth.password, tryKeyboard: true };
    if (auth.kind === 'key') return { ...base, privateKey: auth.privateKey, ...(auth.passphrase ? { passphrase: auth.passphrase } : {}) };
    const socket = auth.socket ?? process.env.SSH_AUTH_SOCK;
    if (!socket) throw new StorageError('AUTH_FAILED', `${this.where}: no SSH agent (SSH_AUTH_SOCK is not set)`);
    return { ...base, agent: socket };
  }

  async close(): Promise<void> {
    this.closed = true;
    const s = this.session ?? (await this.connecting?.catch(() => null)) ?? null;
    s?.kill(connectionLost('closed'));
    this.session = null;
  }
}
