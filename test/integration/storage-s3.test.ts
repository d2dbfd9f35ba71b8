/**
 * A repository's Storage in an S3 bucket, against a real S3 API server on loopback
 * (test/helpers/s3-server.ts): the Storage contract, large objects in parts read back by range,
 * parallel writes, listings of more than one page, and every failure a person can meet (no such
 * bucket, unknown access key, the server down and back) as its StorageErrorCode, with the
 * secret key in no error.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MULTIPART_ABOVE, PART_SIZE } from '../../src-main/core/backup/engine/storage/s3-multipart.js';
import { StorageError, type Storage } from '../../src-main/core/backup/engine/storage/storage.js';
import { pseudoRandom, removeTree, tempDir } from '../helpers/backup-fixtures.js';
import { startS3Server, type S3Server } from '../helpers/s3-server.js';
import { describeStorageContract } from '../helpers/storage-contract.js';

let server: S3Server;
beforeAll(async () => {
  server = await startS3Server();
});
afterAll(async () => {
  await server.close();
});

/** Every repository of a test under a prefix of its own: the bucket is shared. */
const freshPrefix = () => `repos/${randomBytes(6).toString('hex')}`;

async function failure(p: Promise<unknown>): Promise<StorageError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(StorageError);
  return e as StorageError;
}

/** An HTTP proxy in front of the server that records each request's method, path and headers. */
async function recordingProxy(): Promise<{
  endpoint: string;
  requests: { method: string; path: string; headers: IncomingHttpHeaders }[];
  close(): Promise<void>;
}> {
  const upstream = new URL(server.endpoint);
  const requests: { method: string; path: string; headers: IncomingHttpHeaders }[] = [];
  const proxy = createServer((req, res) => {
    requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers });
    const out = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const { port } = proxy.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        proxy.closeAllConnections();
        proxy.close(() => resolve());
      }),
  };
}

/** All a log or a person could see of an error: its message, detail, fields and causes. */
const everythingSaid = (e: unknown) => `${String(e)} ${inspect(e, { depth: 8, showHidden: true })} ${JSON.stringify(e)}`;

describeStorageContract(
  's3',
  async () => {
    const storage = server.storage(freshPrefix());
    return { storage, cleanup: () => undefined };
  },
  { download: true },
);

describe('a repository in an S3 bucket', () => {
  it('uploads an object larger than 64 MiB in parts, from a staged file and from memory, and reads it back by ranges', async () => {
    const storage = server.storage(freshPrefix());
    const local = tempDir('s3-multipart');
    try {
      const bytes = pseudoRandom('over 64 MiB', MULTIPART_ABOVE + 333);
      const file = join(local, 'big.pack');
      writeFileSync(file, bytes);
      const name = `data/aa/aa${'2'.repeat(62)}`;
      await storage.write(name, { file, size: bytes.length });
      expect(await storage.stat(name)).toEqual({ name, size: bytes.length });
      // Across the boundary of the first and second part, and the last bytes.
      const across = { offset: PART_SIZE - 1000, length: 5000 };
      expect((await storage.read(name, across)).equals(bytes.subarray(across.offset, across.offset + across.length))).toBe(true);
      expect((await storage.read(name, { offset: bytes.length - 333, length: 333 })).equals(bytes.subarray(-333))).toBe(true);
      expect((await storage.read(name)).equals(bytes)).toBe(true);
      // A repeat of the whole upload is a success that sends nothing.
      await storage.write(name, { file, size: bytes.length });

      const fromMemory = `data/bb/bb${'3'.repeat(62)}`;
      const inMemory = bytes.subarray(0, MULTIPART_ABOVE + 1);
      await storage.write(fromMemory, inMemory);
      expect((await storage.read(fromMemory)).equals(inMemory)).toBe(true);
    } finally {
      await storage.close();
      removeTree(local);
    }
  });

  it('sends a pack-sized staged file as one PUT signed with the SHA-256 it is given, and hashes a buffer itself', async () => {
    const seen = await recordingProxy();
    const storage = server.storage(freshPrefix(), { endpoint: seen.endpoint });
    const local = tempDir('s3-one-put');
    try {
      // A pack is closed past 16 MiB: one a little larger goes whole.
      const bytes = pseudoRandom('a pack', PART_SIZE + 3 * 1024 * 1024);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      const file = join(local, 'a.pack');
      writeFileSync(file, bytes);
      const name = `data/${sha256.slice(0, 2)}/${sha256}`;
      await storage.write(name, { file, size: bytes.length, sha256 });
      const small = pseudoRandom('an index', 5000);
      await storage.write('index/' + 'c'.repeat(64), small);

      const puts = seen.requests.filter((r) => r.method === 'PUT' || r.method === 'POST');
      expect(puts.map((r) => [r.method, r.path.split('?')[0]!.split('/').slice(-2).join('/')])).toEqual([
        ['PUT', `${sha256.slice(0, 2)}/${sha256}`],
        ['PUT', `index/${'c'.repeat(64)}`],
      ]);
      expect(puts[0]!.headers['x-amz-content-sha256']).toBe(sha256);
      expect(puts[1]!.headers['x-amz-content-sha256']).toBe(createHash('sha256').update(small).digest('hex'));
      expect((await storage.read(name)).equals(bytes)).toBe(true);
    } finally {
      await storage.close();
      await seen.close();
      removeTree(local);
    }
  });

  it('writes many objects in parallel over its few connections, each whole', async () => {
    const storage = server.storage(freshPrefix(), { connections: 3 });
    try {
      const objects = Array.from({ length: 40 }, (_, i) => ({
        name: `index/${i.toString(16).padStart(64, '0')}`,
        bytes: pseudoRandom(`par ${i}`, 10_000 + i * 997),
      }));
      await Promise.all(objects.map((o) => storage.write(o.name, o.bytes)));
      const listed = await storage.list('index');
      expect(listed).toHaveLength(objects.length);
      const back = await Promise.all(objects.map((o) => storage.read(o.name)));
      back.forEach((b, i) => expect(b.equals(objects[i]!.bytes)).toBe(true));
    } finally {
      await storage.close();
    }
  });

  it('lists more objects than one page holds, by names relative to its prefix', async () => {
    const prefix = freshPrefix();
    const storage = server.storage(prefix, { pageSize: 7 });
    // An object beside the prefix that shares its first characters is not listed.
    const neighbour = server.storage(`${prefix}-other`);
    try {
      const names = Array.from({ length: 50 }, (_, i) => `snapshots/${i.toString(16).padStart(64, '0')}`);
      await Promise.all(names.map((n, i) => storage.write(n, Buffer.alloc(i))));
      await neighbour.write('snapshots/elsewhere', Buffer.from('x'));
      const listed = await storage.list('snapshots');
      expect(listed.map((o) => o.name).sort()).toEqual([...names].sort());
      expect(listed.find((o) => o.name === names[9])?.size).toBe(9);
      expect(await storage.list('')).toHaveLength(50);
    } finally {
      await storage.close();
      await neighbour.close();
    }
  });

  it('says BUCKET_MISSING for a bucket that is not there, on every call', async () => {
    const storage = server.storage('', { bucket: 'no-such-bucket', maxAttempts: 1 });
    try {
      expect((await failure(storage.prepare())).code).toBe('BUCKET_MISSING');
      expect((await failure(storage.list('data'))).code).toBe('BUCKET_MISSING');
      expect((await failure(storage.read('config'))).code).toBe('BUCKET_MISSING');
      expect((await failure(storage.write('config', Buffer.from('{}')))).code).toBe('BUCKET_MISSING');
    } finally {
      await storage.close();
    }
  });

  it('says AUTH_FAILED for an access key the server does not know, with the secret in no error', async () => {
    const storage = server.storage(freshPrefix(), { accessKeyId: 'AKNOBODYKNOWSTHIS', maxAttempts: 1 });
    try {
      const errors = [
        await failure(storage.prepare()),
        await failure(storage.list('')),
        await failure(storage.read('config')),
        await failure(storage.write('config', Buffer.from('{}'))),
      ];
      for (const e of errors) {
        expect(e.code).toBe('AUTH_FAILED');
        expect(everythingSaid(e)).not.toContain(server.secretAccessKey);
      }
      expect(storage.location).not.toContain(server.secretAccessKey);
    } finally {
      await storage.close();
    }
  });

  it('says UNREACHABLE when the server is down, after its retries, and works again once the server is back', async () => {
    const storage = server.storage(freshPrefix(), { maxAttempts: 3, connectTimeoutMs: 2000 });
    try {
      await storage.write('config', Buffer.from('{"version":2}'));
      await server.stop();
      const started = Date.now();
      const errors = [await failure(storage.read('config')), await failure(storage.list('')), await failure(storage.write('keys/k', Buffer.from('key')))];
      for (const e of errors) {
        expect(e.code).toBe('UNREACHABLE');
        expect(everythingSaid(e)).not.toContain(server.secretAccessKey);
      }
      expect(Date.now() - started).toBeLessThan(30_000);
      await server.start();
      expect((await storage.read('config')).toString()).toBe('{"version":2}');
      await storage.write('keys/k', Buffer.from('key'));
      expect(await storage.stat('keys/k')).toEqual({ name: 'keys/k', size: 3 });
    } finally {
      await server.start();
      await storage.close();
    }
  });

  it('names its bucket, prefix and endpoint for people', () => {
    const storage: Storage = server.storage('laptop/home/');
    expect(storage.location).toBe(`s3://${server.bucket}/laptop/home (${server.endpoint})`);
    expect(storage.kind).toBe('s3');
    expect(storage.appendOnly).toBe(false);
    expect(server.storage('x', { appendOnly: true }).appendOnly).toBe(true);
  });
});
