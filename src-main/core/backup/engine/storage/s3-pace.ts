/**
 * S3's wire, once per attempt: a middleware at the innermost place of the SDK's stack, next to
 * the HTTP handler. A staged file's body (FileBody) is opened afresh for each attempt, so a
 * pack goes up streamed from disk, never whole in memory, and a retry is never a consumed
 * stream. With a bandwidth limit (bandwidth.ts gives the Pacer) it sends a request's body 64 KiB
 * at a time, each slice once the pacer let it go, and passes a response's body on as the pacer
 * lets it in. The SDK signed the body before this (the signature stays valid) and the request it
 * retries keeps its body: each attempt sends a copy of the request.
 */
import { createReadStream } from 'node:fs';
import { Readable, Transform, pipeline } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Pacer } from './storage.js';

const SLICE = 64 * 1024;
const FILE_READ = 1024 * 1024;

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

/**
 * A local file as a request's body, with its size given to the SDK as ContentLength and its
 * SHA-256 as the payload hash: empty bytes that name the file, never sent themselves. The wire
 * middleware sends each attempt a fresh read of the file. Bytes, not a stream: the SDK retries
 * no request whose body is a stream.
 */
export class FileBody extends Uint8Array {
  constructor(readonly file: string) {
    super(0);
  }
}

/** `request` with a staged file's body opened for this attempt: a copy, so a retry opens it again. */
function freshFileBody(request: RequestLike, readBytes: number): RequestLike {
  if (!(request.body instanceof FileBody) || typeof request.clone !== 'function') return request;
  const copy = request.clone();
  copy.body = createReadStream(request.body.file, { highWaterMark: readBytes });
  return copy;
}

/** `request` with its body sent through `up`: a copy, so the SDK's own request keeps its body for a retry. */
function pacedRequest(request: RequestLike, up: (n: number) => Promise<void>): RequestLike {
  const body = request.body;
  if (typeof request.clone !== 'function') return request;
  if (body instanceof Readable) {
    const copy = request.clone();
    copy.body = gated(body, up);
    return copy;
  }
  if (!(body instanceof Uint8Array) || body.byteLength === 0) return request;
  const copy = request.clone();
  copy.body = Readable.from(paced(body, up), { objectMode: false });
  return copy;
}

/** `body` passed on chunk by chunk, each once `wait` let its bytes go. */
function gated(body: Readable, wait: (n: number) => Promise<void>): Readable {
  const gate = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      wait(chunk.length).then(() => done(null, chunk), done);
    },
  });
  // pipeline, not pipe: a connection that fails under the body fails the paced body too.
  return pipeline(body, gate, () => undefined);
}

/** Installs the middleware on `client`: file bodies read afresh per attempt; paced while `pacer()` gives a Pacer. */
export function paceOnTheWire(client: S3Client, pacer: () => Pacer | null): void {
  client.middlewareStack.add(
    (next) => async (args) => {
      const p = pacer();
      // Reads of 1 MiB go up fastest; under an upload limit, slices of 64 KiB keep its pace even.
      const fresh = freshFileBody(args.request as RequestLike, p?.up ? SLICE : FILE_READ);
      if (!p) return next({ ...args, request: fresh });
      const request = p.up ? pacedRequest(fresh, (n) => p.up!(n)) : fresh;
      const out = await next({ ...args, request });
      const response = out.response as { body?: unknown } | undefined;
      if (p.down && response && response.body instanceof Readable) response.body = gated(response.body, (n) => p.down!(n));
      return out;
    },
    { step: 'deserialize', name: 'twofoldPace', priority: 'low' },
  );
}
