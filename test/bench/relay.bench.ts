/**
 * `npm run bench:relay`: the relay's figures, in one run, written to the "Relay" section of
 * docs/benchmarks.md.
 *   1. Push round trip (desktop seals a request, the companion opens it and auto-approves with
 *      a signed answer, the desktop opens, verifies and judges it) p50/p99, against a bare `ws`
 *      echo round trip, with 1,000 other devices connected.
 *   2. Memory per idle connection with 10,000 connections (the relay process's RSS and heap).
 *   3. Routed messages per second, and per second of relay CPU (one process = one core).
 *   4. The relay's resident memory above idle while 20 clients stop reading (each asking for a
 *      full queue again and again), and the push round trip p99 meanwhile.
 * The relay and the echo server run in child processes; everything is on loopback.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { WebSocket, WebSocketServer } from 'ws';
import { judgeAnswer, newChoices, newNonce, openAnswer, sealRequest } from '../../src-shared/push/approval.js';
import { listen, type PairingRecord } from '../../src-shared/push/companion.js';
import { b64u, randomBytes, randomToken } from '../../src-shared/push/encoding.js';
import { parseBody, type ApprovalRequest } from '../../src-shared/push/messages.js';
import { RelayConnection, type SocketFactory, type SocketLike } from '../../src-shared/push/relay-connection.js';
import { exportPublicKey, importAesKey, importVerifyKey, newSigningKeyPair, routeIdOf } from '../../src-shared/push/suite.js';
import { base32Encode } from '../../src-shared/totp.js';
import { NonReadingClient, rssBytes } from '../helpers/relay-clients.js';

const SELF = fileURLToPath(import.meta.url);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const socket: SocketFactory = (url) => new WebSocket(url) as unknown as SocketLike;

// ---------------------------------------------------------------- child: the bare echo server
if (process.argv[2] === 'echo') {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  wss.on('listening', () => process.send!({ port: (wss.address() as AddressInfo).port }));
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
} else {
  await main();
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function startChild(args: string[], file = SELF): Promise<{ child: ChildProcess; ready: Promise<unknown> }> {
  const child = fork(file, args, { cwd: ROOT, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  return Promise.resolve({ child, ready: new Promise((resolve) => child.once('message', resolve)) });
}

async function startRelay(port: number): Promise<ChildProcess> {
  const high = '100000000';
  // Rates and per-client quotas out of the way (every client here is on one address); the send
  // buffer bound, the queues and the memory budget stay at their defaults.
  const child = fork(
    `${ROOT}src-relay/main.ts`,
    [
      '--port',
      String(port),
      '--rate',
      high,
      '--burst',
      high,
      '--route-rate',
      high,
      '--route-burst',
      high,
      '--address-connections',
      high,
      '--address-queue',
      '1000M',
      '--connection-queue',
      '1000M',
    ],
    { cwd: ROOT, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'pipe', 'inherit', 'ipc'] },
  );
  await new Promise<void>((resolve) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('relay ready')) resolve();
    });
  });
  return child;
}

async function metric(origin: string, name: string): Promise<number> {
  const text = await (await fetch(`${origin}/metrics`)).text();
  const m = text.match(new RegExp(`^${name} ([0-9.e+]+)$`, 'm'));
  if (!m) throw new Error(`no metric ${name}`);
  return Number(m[1]);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function stats(samples: number[]): { p50: number; p99: number; mean: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), mean: samples.reduce((a, b) => a + b, 0) / samples.length };
}

/** Open `n` idle devices that said hello; in batches, so the accept queue is not overrun. */
async function connectIdle(url: string, n: number): Promise<WebSocket[]> {
  const all: WebSocket[] = [];
  const batch = 250;
  for (let i = 0; i < n; i += batch) {
    const some = await Promise.all(
      Array.from(
        { length: Math.min(batch, n - i) },
        () =>
          new Promise<WebSocket>((resolve, reject) => {
            const ws = new WebSocket(url, { perMessageDeflate: false });
            ws.once('open', () => ws.send(JSON.stringify({ t: 'hello', v: 1, token: randomToken(32) })));
            ws.once('message', () => resolve(ws)); // ready
            ws.once('error', reject);
          }),
      ),
    );
    all.push(...some);
  }
  return all;
}

async function echoRoundTrips(port: number, size: number, n: number): Promise<number[]> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false });
  await new Promise((r) => ws.once('open', r));
  const payload = 'x'.repeat(size);
  const samples: number[] = [];
  for (let i = 0; i < n + 100; i++) {
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      ws.once('message', () => resolve());
      ws.send(payload);
    });
    if (i >= 100) samples.push(performance.now() - t0); // the first 100 warm up
  }
  ws.close();
  return samples;
}

async function pushRoundTrips(relayUrl: string, n: number): Promise<{ samples: number[]; requestBytes: number; answerBytes: number }> {
  // A paired device, as pairing leaves it on both sides (pairing itself is not what is measured).
  const reqRaw = randomBytes(32);
  const ansRaw = randomBytes(32);
  const device = await newSigningKeyPair(false);
  const routeToken = randomToken(32);
  const record: PairingRecord = {
    deviceId: randomUUID(),
    name: 'Bench phone',
    account: 'Ada',
    workstation: 'bench',
    app: 'Twofold Backup',
    appVersion: 'bench',
    relay: relayUrl,
    routeToken,
    route: await routeIdOf(routeToken),
    otpSeed: base32Encode(randomBytes(20)),
    pairedAt: Date.now(),
    reqKey: await importAesKey(reqRaw),
    ansKey: await importAesKey(ansRaw),
    device,
  };
  const desktopKeys = {
    req: await importAesKey(reqRaw),
    ans: await importAesKey(ansRaw),
    verify: await importVerifyKey(await exportPublicKey(device.publicKey)),
  };

  // The companion: auto-approves with the number the desktop shows (told out of band, as a user reads it).
  let shownNumber = 0;
  let stopCompanion: () => void = () => undefined;
  const companionReady = new Promise<void>((resolve) => {
    const l = listen([record], {
      socket,
      onState: (_p, s) => s === 'ready' && resolve(),
      onRequest: (incoming) => void incoming.answer('approve', shownNumber),
    });
    stopCompanion = l.stop;
  });

  let onAnswer: (body: string) => void = () => undefined;
  const desktop = new RelayConnection({ url: relayUrl, token: randomToken(32), socket, onMessage: (m) => onAnswer(m.body) });
  await desktop.whenReady();
  await companionReady;

  const samples: number[] = [];
  let requestBytes = 0;
  let answerBytes = 0;
  for (let i = 0; i < n + 50; i++) {
    const t0 = performance.now();
    const { choices, number } = newChoices();
    shownNumber = number;
    const now = Date.now();
    const request: ApprovalRequest = {
      type: 'approval',
      v: 2,
      txId: randomUUID(),
      nonce: newNonce(),
      deviceId: record.deviceId,
      action: 'Unlock',
      account: 'Ada',
      workstation: 'bench',
      app: 'Twofold Backup',
      appVersion: 'bench',
      ip: '127.0.0.1',
      time: now,
      expiresAt: now + 60_000,
      choices,
      replyTo: desktop.route!,
      confirm: null,
    };
    const { body, hash } = await sealRequest(desktopKeys.req, request);
    requestBytes = body.length;
    const verdict = await new Promise<string>((resolve) => {
      onAnswer = (text) => {
        answerBytes = text.length;
        const parsed = parseBody(text);
        if (!parsed) return;
        void openAnswer(desktopKeys.ans, desktopKeys.verify, record.deviceId, parsed).then((opened) => {
          if ('answer' in opened)
            resolve(judgeAnswer({ txId: request.txId, hash, number, time: request.time, expiresAt: request.expiresAt }, opened.answer, Date.now()));
        });
      };
      desktop.send(record.route, body, 60_000);
    });
    if (verdict !== 'approve') throw new Error(`round trip ${i} ended in ${verdict}`);
    if (i >= 50) samples.push(performance.now() - t0);
  }
  desktop.close();
  stopCompanion();
  return { samples, requestBytes, answerBytes };
}

/**
 * Twenty clients stop reading, each with a queue of 16 × 16 KB that it asks for ("pending") ten
 * times a second; meanwhile push round trips as above. The relay's RSS is sampled throughout.
 */
async function underNonReaders(port: number, url: string, relayPid: number): Promise<{ idle: number; peak: number; push: number[] }> {
  const idle = rssBytes(relayPid);
  let peak = idle;
  const clients: NonReadingClient[] = [];
  const senders: WebSocket[] = [];
  const body = 'b'.repeat(16_000);
  for (let i = 0; i < 20; i++) {
    const client = await NonReadingClient.connect(port);
    clients.push(client);
    const [sender] = await connectIdle(url, 1);
    senders.push(sender!);
    const to = await client.route();
    let acked = 0;
    await new Promise<void>((resolve) => {
      sender!.on('message', () => ++acked === 16 && resolve());
      for (let k = 0; k < 16; k++) sender!.send(JSON.stringify({ t: 'send', id: randomToken(16), to, ttlMs: 120_000, body }));
    });
  }
  let running = true;
  const attack = (async () => {
    while (running) {
      for (const c of clients) c.send({ t: 'pending' });
      peak = Math.max(peak, rssBytes(relayPid));
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  await new Promise((r) => setTimeout(r, 2000)); // the buffers fill and the clients are paused
  const push = (await pushRoundTrips(url, 500)).samples;
  peak = Math.max(peak, rssBytes(relayPid));
  running = false;
  await attack;
  for (const c of clients) c.destroy();
  for (const s of senders) s.close();
  return { idle, peak, push };
}

/** Senders blast to receivers with a window of unacknowledged sends; count deliveries for `ms`. */
async function throughput(
  url: string,
  relayOrigin: string,
  pairs: number,
  ms: number,
): Promise<{ perSec: number; perCpuSec: number; cpuShare: number; generatorShare: number }> {
  const body = b64u(randomBytes(600)); // about a sealed request's size
  let delivered = 0;
  const targets: string[] = [];
  const rx: WebSocket[] = [];
  for (let i = 0; i < pairs; i++) {
    const token = randomToken(32);
    const ws = new WebSocket(url, { perMessageDeflate: false });
    await new Promise<void>((resolve) => {
      ws.once('open', () => ws.send(JSON.stringify({ t: 'hello', v: 1, token })));
      ws.once('message', () => resolve());
    });
    ws.on('message', () => delivered++);
    targets.push(await routeIdOf(token));
    rx.push(ws);
  }
  const tx: WebSocket[] = await connectIdle(url, pairs);
  let running = true;
  let seq = 0;
  const window = 200;
  for (const [i, ws] of tx.entries()) {
    let inFlight = 0;
    const pump = () => {
      while (running && inFlight < window) {
        inFlight++;
        // Cheap unique ids, so the generator spends its time sending, not on randomness.
        const id = (seq++).toString(36).padStart(22, 'A');
        ws.send(`{"t":"send","id":"${id}","to":"${targets[i]}","ttlMs":2000,"body":"${body}"}`);
      }
    };
    ws.on('message', (data) => {
      if (String(data).startsWith('{"t":"ack"')) {
        inFlight--;
        pump();
      }
    });
    pump();
  }
  await new Promise((r) => setTimeout(r, 1000)); // warm up
  const d0 = delivered;
  const cpu0 = await metric(relayOrigin, 'process_cpu_seconds_total');
  const own0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const d1 = delivered;
  const cpu1 = await metric(relayOrigin, 'process_cpu_seconds_total');
  const own = process.cpuUsage(own0);
  const seconds = (performance.now() - t0) / 1000;
  running = false;
  for (const ws of [...tx, ...rx]) ws.close();
  const count = d1 - d0;
  return {
    perSec: count / seconds,
    perCpuSec: count / (cpu1 - cpu0),
    cpuShare: (cpu1 - cpu0) / seconds,
    generatorShare: (own.user + own.system) / 1e6 / seconds,
  };
}

async function main(): Promise<void> {
  const out = (s: string) => process.stdout.write(`${s}\n`);
  const loadBefore = loadavg()[0]!;
  const port = await freePort();
  const relay = await startRelay(port);
  const url = `ws://127.0.0.1:${port}/v1`;
  const origin = `http://127.0.0.1:${port}`;
  const { child: echo, ready } = await startChild(['echo']);
  const echoPort = ((await ready) as { port: number }).port;
  try {
    await new Promise((r) => setTimeout(r, 500));
    const rssBase = await metric(origin, 'process_resident_memory_bytes');
    const heapBase = await metric(origin, 'nodejs_heap_size_used_bytes');

    out('connecting 1,000 idle devices…');
    const idle = await connectIdle(url, 1000);
    out('echo round trips…');
    const echoStats = stats(await echoRoundTrips(echoPort, 700, 2000));
    out('push round trips…');
    const push = await pushRoundTrips(url, 1000);
    const pushStats = stats(push.samples);

    out('20 clients that stop reading…');
    const slow = await underNonReaders(port, url, relay.pid!);
    const slowPush = stats(slow.push);
    const slowRss = slow.peak - slow.idle;
    await new Promise((r) => setTimeout(r, 1000));

    out('connecting 9,000 more idle devices…');
    idle.push(...(await connectIdle(url, 9000)));
    await new Promise((r) => setTimeout(r, 2000));
    const conns = await metric(origin, 'relay_connections');
    const rss10k = await metric(origin, 'process_resident_memory_bytes');
    const heap10k = await metric(origin, 'nodejs_heap_size_used_bytes');
    const perConnRss = (rss10k - rssBase) / conns;
    const perConnHeap = (heap10k - heapBase) / conns;
    for (const ws of idle) ws.terminate();
    await new Promise((r) => setTimeout(r, 1000));

    out('routed messages per second…');
    const tp = await throughput(url, origin, 8, 5000);

    const loadAfter = loadavg()[0]!;
    const kib = (b: number) => (b / 1024).toFixed(1);
    const ms = (v: number) => v.toFixed(2);
    const verdict = (ok: boolean) => (ok ? 'met' : '**missed**');
    const rows = [
      `| Push round trip p50 / p99, 1,000 other devices connected | ${ms(pushStats.p50)} ms / ${ms(pushStats.p99)} ms | p99 < 10 ms | ${verdict(pushStats.p99 < 10)} |`,
      `| Bare \`ws\` echo round trip p50 / p99 (700 B) | ${ms(echoStats.p50)} ms / ${ms(echoStats.p99)} ms | baseline | |`,
      `| Relay RSS above idle with 20 clients that stop reading; push round trip p99 meanwhile | ${(slowRss / 1024 / 1024).toFixed(1)} MiB; p99 ${ms(slowPush.p99)} ms (p50 ${ms(slowPush.p50)} ms) | < 64 MiB; p99 < 10 ms | ${verdict(slowRss < 64 * 1024 * 1024 && slowPush.p99 < 10)} |`,
      `| Memory per idle connection, ${conns.toLocaleString('en')} connections (RSS / JS heap) | ${kib(perConnRss)} KiB / ${kib(perConnHeap)} KiB | ≤ 16 KiB | ${verdict(perConnRss <= 16 * 1024)} |`,
      `| Routed messages per second (8 senders → 8 receivers, ~800 B bodies), wall clock | ${Math.round(tp.perSec).toLocaleString('en')} /s (relay at ${(tp.cpuShare * 100).toFixed(0)}% of a core, load generator at ${(tp.generatorShare * 100).toFixed(0)}%) | ≥ 20,000 /s | ${verdict(tp.perSec >= 20_000)} |`,
      `| Routed messages per second of relay CPU (what one core sustains) | ${Math.round(tp.perCpuSec).toLocaleString('en')} /CPU-s | ≥ 20,000 /s | ${verdict(tp.perCpuSec >= 20_000)} |`,
    ];
    const body = `Run: \`npm run bench:relay\` (test/bench/relay.bench.ts), ${new Date().toISOString().slice(0, 10)}, Node ${process.version},
${cpus().length} × ${cpus()[0]?.model.trim() ?? 'CPU'}. The relay runs in its own process (one Node process: one core
for its JavaScript), with its rate limits and per-address quotas raised out of the way (every client here is on one address; send buffers, queues and the memory budget stay at their defaults); the desktop, the companion and the load
generators share the other process. Loopback only. Load average (1 min) ${loadBefore.toFixed(1)} at the start and
${loadAfter.toFixed(1)} at the end: other work shared the two cores, so tails carry noise.

| Measure | Result | Target | |
|---|---|---|---|
${rows.join('\n')}

- **Push round trip**: the desktop seals a request (AES-256-GCM), the relay routes it, the companion opens it
  and answers with an ECDSA P-256 signature sealed again, the relay routes the answer, and the desktop opens,
  verifies and judges it (\`src-shared/push\`, the same functions the app and the companions run; the
  desktop's SQLite and audit writes are not in it). Request ${push.requestBytes} B, answer ${push.answerBytes} B on the wire;
  1,000 round trips after 50 to warm up, one at a time. The difference to the echo baseline is two relay
  hops (each with JSON parsing and zod validation) plus four WebCrypto operations on each side.
- **Clients that stop reading**: twenty connections say hello and never read again; a sender on
  another connection queues 16 messages of 16 KB for each, and each asks for its queue ("pending")
  ten times a second. The relay pauses a connection whose unsent output passes 256 KiB and holds
  its deliveries back (it closes it with 4008 after 10 s), so its memory stays near idle; 500 push
  round trips run meanwhile. "Idle" is the relay's RSS just before, with the 1,000 devices connected.
- **Memory**: the relay process's resident set and V8 heap before any connection and with
  ${conns.toLocaleString('en')} idle connections that said hello (each holds a route), divided by the
  connection count. One process-wide timer serves keepalive and hello deadlines, so an idle connection
  costs its socket, its \`ws\` state and a few numbers.
- **Throughput**: messages delivered to receivers per wall-clock second with at most 200 unacknowledged
  sends per sender; each is validated, queued until it expires, delivered and acknowledged. Per CPU-second
  of the relay process says what one core sustains when the load generator, on the same two cores, is not
  enough to saturate it.`;
    writeSection('relay', 'Relay', body);
    out(rows.join('\n'));
  } finally {
    echo.kill();
    relay.kill('SIGTERM');
  }
  process.exit(0);
}

/** Rewrite only this benchmark's section of docs/benchmarks.md, between its markers. */
function writeSection(id: string, title: string, body: string): void {
  const file = `${ROOT}docs/benchmarks.md`;
  const start = `<!-- bench:${id}:start -->`;
  const end = `<!-- bench:${id}:end -->`;
  const section = `${start}\n## ${title}\n\n${body.trim()}\n${end}`;
  let doc = existsSync(file)
    ? readFileSync(file, 'utf8')
    : "# Benchmarks\n\nEach section is written by its benchmark (`npm run bench:NAME`); the figures are from one run\non this project's machine. Re-run a benchmark to refresh its section.\n";
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  doc = i >= 0 && j > i ? doc.slice(0, i) + section + doc.slice(j + end.length) : `${doc.trimEnd()}\n\n${section}\n`;
  writeFileSync(file, doc);
}
