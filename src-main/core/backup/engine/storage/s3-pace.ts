/**
 * A bandwidth limit on S3's wire (bandwidth.ts gives the Pacer): a middleware at the innermost
 * place of the SDK's stack, next to the HTTP handler and so once per attempt, sends a request's
 * body 64 KiB at a time, each slice once the pacer let it go, and passes a response's body on as
 * the pacer lets it in. The SDK signed the body as bytes before this (the signature stays valid)
 * and the request it retries keeps its bytes: each attempt streams them afresh from a copy of the
 * request, so a retry is never refused as a consumed stream.
 */
import { Readable, Transform, pipeline } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Pacer } from './storage.js';

const SLICE = 64 * 1024;

interface RequestLike {
  body?: unknown;
  clone?: () => RequestLike;
}

async function* paced(bytes: Uint8Array, up: (n: number) => Promise<void>): AsyncGenerator<Buffer> {
  for (let at = 0; at < bytes.byteLength; at += SLICE) {
    const slice = Buffer.from(bytes.buffer, bytes.byteOffset + at, Math.min(SLICE, bytes.byteLength - at));
    await up(slice.length);
    yield slice;
  }
}

/** `request` with its byte body sent through `up`: a copy, so the SDK's own request keeps its bytes for a retry. */
function pacedRequest(request: RequestLike, up: (n: number) => Promise<void>): RequestLike {
  const body = request.body;
  if (!(body instanceof Uint8Array) || body.byteLength === 0 || typeof request.clone !== 'function') return request;
  const copy = request.clone();
  copy.body = Readable.from(paced(body, up), { objectMode: false });
  return copy;
}

function pacedBody(body: Readable, down: (n: number) => Promise<void>): Readable {
  const gate = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      down(chunk.length).then(() => done(null, chunk), done);
    },
  });
  // pipeline, not pipe: a connection that fails under the body fails the paced body too.
  return pipeline(body, gate, () => undefined);
}

/** Installs the middleware on `client`; it paces while `pacer()` gives a Pacer. */
export function paceOnTheWire(client: S3Client, pacer: () => Pacer | null): void {
  client.middlewareStack.add(
    (next) => async (args) => {
      const p = pacer();
      if (!p) return next(args);
      const request = p.up ? pacedRequest(args.request as RequestLike, (n) => p.up!(n)) : args.request;
      const out = await next({ ...args, request });
      const response = out.response as { body?: unknown } | undefined;
      if (p.down && response && response.body instanceof Readable) response.body = pacedBody(response.body, (n) => p.down!(n));
      return out;
    },
    { step: 'deserialize', name: 'twofoldPace', priority: 'low' },
  );
}
