import { randomBytes } from 'node:crypto';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLatencyProxy, type LatencyProxy } from '../bench/latency-proxy.js';

/** A server that sends back what it gets, and ends when its client ended. */
let echo: Server;
let proxy: LatencyProxy;
const received: Buffer[] = [];

beforeAll(async () => {
  echo = createServer({ allowHalfOpen: true }, (socket) => {
    const got: Buffer[] = [];
    socket.on('data', (b: Buffer) => (got.push(b), socket.write(b)));
    socket.on('end', () => {
      received.push(Buffer.concat(got));
      socket.end();
    });
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  proxy = await startLatencyProxy((echo.address() as { port: number }).port, 10);
});
afterAll(async () => {
  await proxy.close();
  await new Promise((resolve) => echo.close(resolve));
});

/** Sends `parts` through the proxy, ends, and gives what came back and how long the first byte took to return. */
async function roundTrip(parts: Buffer[]): Promise<{ back: Buffer; firstMs: number }> {
  const socket: Socket = createConnection({ host: '127.0.0.1', port: proxy.port });
  await new Promise((resolve) => socket.once('connect', resolve));
  const chunks: Buffer[] = [];
  const sent = performance.now();
  let firstMs = -1;
  socket.on('data', (b: Buffer) => {
    if (firstMs < 0) firstMs = performance.now() - sent;
    chunks.push(b);
  });
  for (const p of parts) socket.write(p);
  socket.end();
  await new Promise((resolve) => socket.once('close', resolve));
  return { back: Buffer.concat(chunks), firstMs };
}

describe('the bench’s latency proxy', () => {
  it('forwards bytes unchanged and in order both ways, and passes the end on', async () => {
    const parts = Array.from({ length: 64 }, (_, i) => randomBytes(1 + ((i * 7919) % 65_536)));
    const { back } = await roundTrip(parts);
    const sent = Buffer.concat(parts);
    expect(received.at(-1)!.equals(sent)).toBe(true);
    expect(back.equals(sent)).toBe(true);
  });

  it('carries several megabytes at once without losing or reordering any', async () => {
    const big = randomBytes(8 * 1024 * 1024);
    const { back } = await roundTrip([big.subarray(0, 3_000_000), big.subarray(3_000_000)]);
    expect(back.length).toBe(big.length);
    expect(back.equals(big)).toBe(true);
  });

  it('delays each direction by its delay: a round trip takes at least twice that', async () => {
    const { back, firstMs } = await roundTrip([Buffer.from('ping')]);
    expect(back.toString()).toBe('ping');
    expect(firstMs).toBeGreaterThanOrEqual(19);
  });
});
