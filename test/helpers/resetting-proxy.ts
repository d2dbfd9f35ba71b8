/**
 * A TCP proxy on loopback in front of a test server that can be told to cut the connections it
 * carries and reset the next ones, as a network that drops: the client sees ECONNRESET and must
 * retry. Everything else is passed through unchanged.
 */
import { createConnection, createServer, type Socket } from 'node:net';

export interface ResettingProxy {
  readonly port: number;
  /** Cut every connection open now and reset the next `n` that arrive. */
  breakNext(n: number): void;
  /** Connections reset so far. */
  readonly resets: number;
  close(): Promise<void>;
}

export async function startResettingProxy(targetPort: number): Promise<ResettingProxy> {
  const open = new Set<Socket>();
  let toReset = 0;
  let resets = 0;
  const server = createServer((client) => {
    if (toReset > 0) {
      toReset--;
      resets++;
      client.resetAndDestroy();
      return;
    }
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
    open.add(client);
    const forget = () => {
      open.delete(client);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', forget).on('close', forget);
    upstream.on('error', forget).on('close', forget);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    breakNext(n) {
      toReset = n;
      for (const socket of open) socket.resetAndDestroy();
    },
    get resets() {
      return resets;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
