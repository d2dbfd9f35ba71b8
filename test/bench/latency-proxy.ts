/**
 * A TCP proxy on loopback that delays each direction by `delayMs`: npm run bench:backup's remote
 * steps with added round-trip latency (2 × delayMs), for every tool alike, since this kernel has
 * no `netem`. Bytes are passed on unchanged and in order; a chunk leaves `delayMs` after it came,
 * and a half-close (end) too. When the far side is slow to take bytes, the near side is paused
 * (backpressure), so the proxy never holds more than what arrived in one delay.
 *
 * The bench runs its tools with spawnSync, which blocks its own event loop: the proxy then runs
 * as a process of its own, `tsx test/bench/latency-proxy.ts <target port> <delay ms>`, which
 * prints `port <n>` once it listens.
 */
import { createConnection, createServer, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';

export interface LatencyProxy {
  readonly port: number;
  close(): Promise<void>;
}

/** Copies `from` to `to`, each chunk (and the end) `delayMs` late. */
function delayLine(from: Socket, to: Socket, delayMs: number): void {
  const queue: { due: number; chunk: Buffer | null }[] = [];
  let timer: NodeJS.Timeout | null = null;
  const pump = (): void => {
    timer = null;
    const now = performance.now();
    while (queue.length > 0 && queue[0]!.due <= now) {
      const { chunk } = queue.shift()!;
      if (chunk === null) {
        to.end();
        return;
      }
      if (!to.write(chunk) && !from.isPaused()) {
        from.pause();
        to.once('drain', () => from.resume());
      }
    }
    if (queue.length > 0) timer = setTimeout(pump, Math.max(0, queue[0]!.due - now));
  };
  const push = (chunk: Buffer | null): void => {
    queue.push({ due: performance.now() + delayMs, chunk });
    timer ??= setTimeout(pump, delayMs);
  };
  from.on('data', (chunk: Buffer) => push(chunk));
  from.on('end', () => push(null));
}

export async function startLatencyProxy(targetPort: number, delayMs: number, targetHost = '127.0.0.1'): Promise<LatencyProxy> {
  const open = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (client) => {
    client.setNoDelay(true);
    const upstream = createConnection({ host: targetHost, port: targetPort, allowHalfOpen: true });
    upstream.setNoDelay(true);
    open.add(client).add(upstream);
    // A reset or failure on either side ends both; a clean close travels as a delayed end instead.
    const fail = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', fail).on('close', () => open.delete(client));
    upstream.on('error', fail).on('close', () => open.delete(upstream));
    delayLine(client, upstream, delayMs);
    delayLine(upstream, client, delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [target, delay] = process.argv.slice(2).map(Number);
  if (!target || delay === undefined || !Number.isFinite(delay)) {
    process.stderr.write('usage: latency-proxy.ts <target port> <delay ms>\n');
    process.exit(2);
  }
  const proxy = await startLatencyProxy(target, delay);
  process.stdout.write(`port ${proxy.port}\n`);
  process.on('SIGTERM', () => void proxy.close().finally(() => process.exit(0)));
}
