/**
 * A repository in an S3 bucket (AWS or any S3-compatible server): each object is the key
 * `<prefix>/<name>` (docs/repository-format.md, "Storage"). At most `connections` requests are
 * in flight at once, each on its own kept-alive connection. Transient failures (refused, reset,
 * timed out, 5xx, SlowDown) are retried by the SDK with exponential backoff and jitter; what
 * reaches the caller is classified by s3-errors.ts and never carries a credential.
 *
 * Create-only writes: HeadObject first (an object of the same size is a repeat: success), then
 * PutObject with If-None-Match: * where the server supports it, so two writers of one name never
 * overwrite each other; a server that refuses the header (501) gets plain PutObject after that.
 * Objects over 64 MiB go up in parts (s3-multipart.ts) and appear when the upload completes; a
 * staged file (a pack) goes up in one PUT streamed from disk, signed with its SHA-256 (a pack's
 * id), which is not computed again.
 * A bandwidth limit paces the bytes of requests and responses on the wire (s3-pace.ts).
 * The SDK's retries are told to the storage's watchers (a job shows "Waiting for the storage"):
 * a middleware inside the retry loop sees every attempt and the SDK's `attempt=N; max=M` header.
 */
import type { Agent as HttpAgent } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { ListObjectsV2CommandOutput, PutObjectCommand, S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { s3Sdk, type S3Sdk } from './s3-sdk.js';
import { classifiedS3, httpStatus, retryCause, s3Code } from './s3-errors.js';
import { MULTIPART_ABOVE, uploadMultipart, type Slot } from './s3-multipart.js';
import { FileBody, paceOnTheWire } from './s3-pace.js';
import { streamToFile } from './file-sink.js';
import { StorageError, StorageListeners, type Pacer, type Storage, type StorageListener, type StorageObject, type StagedFile } from './storage.js';

export interface S3StorageOptions {
  /** `https://s3.eu-central-1.amazonaws.com`, `http://127.0.0.1:9000`; omitted: AWS for `region`. */
  endpoint?: string;
  region: string;
  bucket: string;
  /** Folder of the repository inside the bucket (`laptop/home`); '' or omitted: the bucket's root. */
  prefix?: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** `http://host/bucket/key` instead of `http://bucket.host/key` (MinIO, most self-hosted servers). */
  forcePathStyle?: boolean;
  /** Requests in flight at once (parallel uploads and reads); default 4. */
  connections?: number;
  /** The credentials may add objects but not delete or overwrite them. */
  appendOnly?: boolean;
  /** Attempts per request, the first included, before a transient failure is final; default 5. */
  maxAttempts?: number;
  /** Keys per ListObjectsV2 page (the server caps it at 1000); default 1000. */
  pageSize?: number;
  /** Milliseconds to connect, and of silence on a connection, before the attempt fails; default 10 s / 120 s. */
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
}

/** A fixed number of slots; `run` waits for one. */
function limiter(slots: number): Slot {
  let free = slots;
  const waiting: (() => void)[] = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (free > 0) free--;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await fn();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else free++;
    }
  };
}

/**
 * The payload hash SigV4 signs, given instead of computed: the signer takes an
 * x-amz-content-sha256 header that is there already. The server still checks the bytes against it.
 */
function signWithKnownHash(command: { middlewareStack: PutObjectCommand['middlewareStack'] }, sha256: string): void {
  command.middlewareStack.add(
    (next) => (args) => {
      const request = args.request as { headers?: Record<string, string> };
      if (request.headers) request.headers['x-amz-content-sha256'] = sha256;
      return next(args);
    },
    { step: 'build', name: 'twofoldKnownPayloadHash' },
  );
}

/** The SHA-256 of a staged file that should hold `size` bytes, read as a stream. */
async function fileSha256(file: string, size: number, name: string): Promise<string> {
  const hash = createHash('sha256');
  let length = 0;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    length += chunk.length;
  }
  if (length !== size) throw new StorageError('FAILED', `${name}: the staged file has ${length} bytes, not ${size}`);
  return hash.digest('hex');
}

function normalPrefix(prefix: string | undefined): string {
  return (prefix ?? '')
    .split('/')
    .filter((p) => p !== '')
    .join('/');
}

export class S3Storage implements Storage {
  readonly kind = 's3' as const;
  readonly appendOnly: boolean;
  readonly bucket: string;
  readonly prefix: string;
  /** The SDK's client, made with the SDK on the first request (s3-sdk.ts). */
  private api: Promise<{ client: S3Client; sdk: S3Sdk }> | null = null;
  private readonly clientConfig: S3ClientConfig;
  private readonly maxAttempts: number;
  private readonly slot: Slot;
  readonly connections: number;
  private readonly pageSize: number;
  private readonly endpoint: string | undefined;
  private readonly region: string;
  /** Made with the client: node:http and node:https load only for a repository that is used. */
  private agents: { http: HttpAgent; https: HttpsAgent } | null = null;
  private readonly timeouts: { connectionTimeout: number; requestTimeout: number };
  /** False once the server has answered If-None-Match on a PUT with 501 Not Implemented. */
  private conditionalPut = true;
  private readonly listeners = new StorageListeners();
  /** A bandwidth limit's buckets, once bandwidth.ts gave them (s3-pace.ts). */
  private pacer: Pacer | null = null;

  constructor(options: S3StorageOptions) {
    this.bucket = options.bucket;
    this.prefix = normalPrefix(options.prefix);
    this.appendOnly = options.appendOnly ?? false;
    this.connections = Math.max(1, Math.floor(options.connections ?? 4));
    this.pageSize = Math.min(1000, Math.max(1, Math.floor(options.pageSize ?? 1000)));
    this.endpoint = options.endpoint;
    this.region = options.region;
    this.slot = limiter(this.connections);
    const maxAttempts = Math.max(1, options.maxAttempts ?? 5);
    this.maxAttempts = maxAttempts;
    this.clientConfig = {
      region: options.region,
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      forcePathStyle: options.forcePathStyle ?? false,
      credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
      maxAttempts,
      retryMode: 'standard',
      // Checksums only where the API requires them: many S3-compatible servers reject the
      // aws-chunked trailers the SDK sends otherwise. Every object is authenticated by the engine.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    };
    this.timeouts = { connectionTimeout: options.connectTimeoutMs ?? 10_000, requestTimeout: options.requestTimeoutMs ?? 120_000 };
  }

  private use(): Promise<{ client: S3Client; sdk: S3Sdk }> {
    this.api ??= Promise.all([s3Sdk(), import('node:http'), import('node:https')]).then(([sdk, http, https]) => {
      // One socket per slot: a request never waits for a socket (its connect timeout would run meanwhile).
      const agents = {
        http: new http.Agent({ keepAlive: true, maxSockets: this.connections }),
        https: new https.Agent({ keepAlive: true, maxSockets: this.connections }),
      };
      this.agents = agents;
      const client = new sdk.S3Client({ ...this.clientConfig, requestHandler: { httpAgent: agents.http, httpsAgent: agents.https, ...this.timeouts } });
      this.watchRetries(client, this.maxAttempts);
      paceOnTheWire(client, () => this.pacer);
      return { client, sdk };
    });
    return this.api;
  }

  private async call<T>(fn: (client: S3Client, sdk: S3Sdk) => Promise<T>): Promise<T> {
    const { client, sdk } = await this.use();
    return fn(client, sdk);
  }

  paceWith(pacer: Pacer): void {
    this.pacer = pacer;
  }

  /**
   * Every attempt of a request passes here (the deserialize step runs inside the retry loop): a
   * transient failure with attempts left is a retry to come, a later attempt's end the end of one.
   */
  private watchRetries(client: S3Client, maxAttempts: number): void {
    client.middlewareStack.add(
      (next) => async (args) => {
        const header = (args.request as { headers?: Record<string, string> } | undefined)?.headers?.['amz-sdk-request'] ?? '';
        const attempt = Number(/attempt=(\d+)/.exec(header)?.[1] ?? 1);
        try {
          const out = await next(args);
          if (attempt > 1) this.listeners.emit({ type: 'retried', ok: true });
          return out;
        } catch (e) {
          const cause = retryCause(e);
          if (cause !== null && attempt < maxAttempts) this.listeners.emit({ type: 'retrying', cause, attempt: attempt + 1, attempts: maxAttempts });
          // Any other answer ends the wait for the storage (a 404 is an answer); a last transient failure ends it too.
          else if (attempt > 1) this.listeners.emit({ type: 'retried', ok: cause === null });
          throw e;
        }
      },
      { step: 'deserialize', name: 'twofoldRetryWatch', priority: 'high' },
    );
  }

  watch(listener: StorageListener): () => void {
    return this.listeners.add(listener);
  }

  get location(): string {
    const where = this.endpoint ?? `AWS ${this.region}`;
    return `s3://${this.bucket}/${this.prefix} (${where})`;
  }

  private key(name: string): string {
    return this.prefix === '' ? name : `${this.prefix}/${name}`;
  }

  /** Object stores have no folders: this checks that the bucket is there and these credentials reach it. */
  async prepare(): Promise<void> {
    try {
      await this.slot(() => this.call((c, m) => c.send(new m.ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.key(''), MaxKeys: 1 }))));
    } catch (e) {
      throw classifiedS3(e, `list s3://${this.bucket}/${this.prefix}`);
    }
  }

  async stat(name: string): Promise<StorageObject | null> {
    try {
      const head = await this.slot(() => this.call((c, m) => c.send(new m.HeadObjectCommand({ Bucket: this.bucket, Key: this.key(name) }))));
      return { name, size: head.ContentLength ?? 0 };
    } catch (e) {
      // HEAD answers have no body: a 404 is a missing object (or bucket; the next call says which).
      if (httpStatus(e) === 404 || s3Code(e) === 'NotFound') return null;
      // A refused HEAD says no more than 403: a listing says whether the key is unknown, the
      // signature wrong or this object out of bounds.
      if (httpStatus(e) === 403) await this.prepare();
      throw classifiedS3(e, `stat ${name}`);
    }
  }

  async list(dir: string): Promise<StorageObject[]> {
    const root = this.prefix === '' ? '' : `${this.prefix}/`;
    const below = dir === '' ? root : `${this.key(dir.replace(/\/+$/, ''))}/`;
    const found: StorageObject[] = [];
    let token: string | undefined;
    try {
      do {
        const page: ListObjectsV2CommandOutput = await this.slot(() =>
          this.call((c, m) => c.send(new m.ListObjectsV2Command({ Bucket: this.bucket, Prefix: below, MaxKeys: this.pageSize, ContinuationToken: token }))),
        );
        for (const o of page.Contents ?? []) {
          // Keys ending in `/` are folder markers some tools make, not objects of the repository.
          if (!o.Key || o.Key.endsWith('/') || !o.Key.startsWith(root)) continue;
          found.push({ name: o.Key.slice(root.length), size: o.Size ?? 0 });
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    } catch (e) {
      throw classifiedS3(e, `list ${dir || '.'}`);
    }
    return found;
  }

  async read(name: string, range?: { offset: number; length: number }): Promise<Buffer> {
    if (range && range.length <= 0) {
      if ((await this.stat(name)) === null) throw new StorageError('NOT_FOUND', name);
      return Buffer.alloc(0);
    }
    const Range = range ? `bytes=${range.offset}-${range.offset + range.length - 1}` : undefined;
    try {
      return await this.slot(async () => {
        const res = await this.call((c, m) => c.send(new m.GetObjectCommand({ Bucket: this.bucket, Key: this.key(name), Range })));
        if (!res.Body) return Buffer.alloc(0);
        const bytes = await res.Body.transformToByteArray();
        return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      });
    } catch (e) {
      // A range that starts past the end: the bytes there are, none (the engine finds it short).
      if (range && (httpStatus(e) === 416 || s3Code(e) === 'InvalidRange')) return Buffer.alloc(0);
      throw classifiedS3(e, `read ${name}`);
    }
  }

  async download(name: string, file: string): Promise<void> {
    try {
      await this.slot(async () => {
        const res = await this.call((c, m) => c.send(new m.GetObjectCommand({ Bucket: this.bucket, Key: this.key(name) })));
        // In Node the SDK's body is the response stream: written out as it arrives, not gathered first.
        const body = res.Body instanceof Readable ? res.Body : [await (res.Body?.transformToByteArray() ?? new Uint8Array(0))];
        await streamToFile(body, file);
      });
    } catch (e) {
      throw classifiedS3(e, `read ${name}`);
    }
  }

  async write(name: string, data: Buffer | StagedFile): Promise<void> {
    const size = Buffer.isBuffer(data) ? data.length : data.size;
    if (await this.alreadyThere(name, size)) return;
    try {
      await this.put(name, data, size);
    } catch (e) {
      // Another writer (or our own attempt whose answer was lost) made it first.
      if (httpStatus(e) === 412 || s3Code(e) === 'PreconditionFailed') {
        if (await this.alreadyThere(name, size)) return;
      }
      throw classifiedS3(e, `write ${name}`);
    }
  }

  /** True when `name` is there with `size` bytes (a repeat); throws when it is there with another size. */
  private async alreadyThere(name: string, size: number): Promise<boolean> {
    const there = await this.stat(name);
    if (!there) return false;
    if (there.size === size) return true;
    throw new StorageError('FAILED', `${name} exists already with another size`);
  }

  private async put(name: string, data: Buffer | StagedFile, size: number): Promise<void> {
    const key = this.key(name);
    if (size > MULTIPART_ABOVE) {
      const { client, sdk } = await this.use();
      const target = { client, sdk, bucket: this.bucket, key, slot: this.slot, connections: this.connections };
      await uploadMultipart({ ...target, ifNoneMatch: this.conditionalPut }, data);
      return;
    }
    // A staged file goes up streamed from disk, each attempt reading it afresh (s3-pace.ts), signed with its SHA-256.
    const staged = Buffer.isBuffer(data) ? null : { ...data, sha256: data.sha256 ?? (await fileSha256(data.file, size, name)) };
    if (staged && (await stat(staged.file)).size !== size) throw new StorageError('FAILED', `${name}: the staged file is not ${size} bytes long`);
    const send = (conditional: boolean) =>
      this.slot(() =>
        this.call((c, m) => {
          const body = staged ? { Body: new FileBody(staged.file), ContentLength: size } : { Body: data as Buffer };
          const put = new m.PutObjectCommand({ Bucket: this.bucket, Key: key, ...body, ...(conditional ? { IfNoneMatch: '*' } : {}) });
          if (staged) signWithKnownHash(put, staged.sha256);
          return c.send(put);
        }),
      );
    try {
      await send(this.conditionalPut);
    } catch (e) {
      if (!this.conditionalPut || (httpStatus(e) !== 501 && s3Code(e) !== 'NotImplemented')) throw e;
      this.conditionalPut = false;
      await send(false);
    }
  }

  async replace(name: string, data: Buffer): Promise<void> {
    try {
      // A PUT over an existing key is atomic in S3: readers see the old object or the new one.
      await this.slot(() => this.call((c, m) => c.send(new m.PutObjectCommand({ Bucket: this.bucket, Key: this.key(name), Body: data }))));
    } catch (e) {
      throw classifiedS3(e, `replace ${name}`);
    }
  }

  async delete(name: string): Promise<void> {
    try {
      await this.slot(() => this.call((c, m) => c.send(new m.DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(name) }))));
    } catch (e) {
      const err = classifiedS3(e, `delete ${name}`);
      if (err.code !== 'NOT_FOUND') throw err;
    }
  }

  async close(): Promise<void> {
    if (!this.api) return;
    (await this.api).client.destroy();
    this.agents?.http.destroy();
    this.agents?.https.destroy();
  }
}
