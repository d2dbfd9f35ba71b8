/**
 * The HTTP(S) server and the listen step every Node-side server shares: the console
 * (src-main/console/server.ts), the relay and the app's companion host (src-relay/).
 */
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface Tls {
  cert: string | Buffer;
  key: string | Buffer;
}

/** An HTTPS server with `tls`, else plain HTTP. */
export function createWebServer(tls: Tls | undefined, handler: RequestListener): Server {
  return tls ? createHttpsServer({ cert: tls.cert, key: tls.key }, handler) : createHttpServer(handler);
}

export interface Listening {
  port: number;
  /** The host as a URL writes it: an IPv6 address in brackets, the any-address as loopback. */
  urlHost: string;
  /** http:// or https:// with host and port. */
  origin: string;
}

/** Listen on `host`:`port` (0: any free port); rejects when the port cannot be had. */
export async function listen(server: Server, host: string, port: number, secure: boolean): Promise<Listening> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  return { port: bound, urlHost, origin: `${secure ? 'https' : 'http'}://${urlHost}:${bound}` };
}
