/**
 * A real S3 API server on loopback for the tests: s3rver (npm), which keeps buckets as folders
 * on disk and speaks the S3 REST API with XML errors, multipart uploads, byte ranges and
 * ListObjectsV2 pagination. It checks that the access key exists (InvalidAccessKeyId) but does
 * not verify SigV4 signatures, so a wrong secret with a known key is accepted: the tests of
 * AUTH_FAILED use an unknown access key, and SignatureDoesNotMatch is covered by the classifier's
 * unit test only.
 *
 * With `tls` (a key and a certificate for 127.0.0.1) it speaks HTTPS: clients that send
 * aws-chunked bodies over plain HTTP (restic's minio-go does) need it, since s3rver does not
 * decode them. It runs in a child process (test/helpers/s3-server-child.ts); `stop()` and `start()` take it
 * down and bring it back on the same port with the same buckets, for the tests of an unreachable
 * server.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { S3Storage, type S3StorageOptions } from '../../src-main/core/backup/engine/storage/s3.js';
import { removeTree, tempDir } from './backup-fixtures.js';

export interface S3Server {
  readonly endpoint: string;
  readonly bucket: string;
  readonly accessKeyId: string;
  /** Unlike any text an error could hold by chance, so a test can look for it. */
  readonly secretAccessKey: string;
  /** The options of an S3Storage on this server's bucket under `prefix`. */
  options(prefix: string, more?: Partial<S3StorageOptions>): S3StorageOptions;
  storage(prefix: string, more?: Partial<S3StorageOptions>): S3Storage;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server and removes its files. */
  close(): Promise<void>;
}

const CHILD = fileURLToPath(new URL('./s3-server-child.ts', import.meta.url));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

export async function startS3Server(bucket = 'twofold-test', tls?: { keyFile: string; certFile: string }): Promise<S3Server> {
  const directory = tempDir('s3rver');
  const port = await freePort();
  const accessKeyId = `AKTEST${randomBytes(6).toString('hex').toUpperCase()}`;
  const secretAccessKey = `secret-${randomBytes(18).toString('base64url')}`;
  const args = JSON.stringify({ directory, port, bucket, accessKeyId, tls });
  let child: ChildProcess | null = null;
  const start = async (): Promise<void> => {
    if (child) return;
    const c = spawn(process.execPath, ['--openssl-legacy-provider', '--import', 'tsx', CHILD, args], {
      env: { ...process.env, S3_TEST_SECRET: secretAccessKey },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child = c;
    await new Promise<void>((resolve, reject) => {
      c.once('exit', (code) => reject(new Error(`the S3 server exited (${code}) before it was ready`)));
      c.stdout!.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('ready')) resolve();
      });
    });
  };
  const stop = async (): Promise<void> => {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
    });
  };
  await start();
  const endpoint = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const options = (prefix: string, more: Partial<S3StorageOptions> = {}): S3StorageOptions => ({
    endpoint,
    region: 'us-east-1',
    bucket,
    prefix,
    accessKeyId,
    secretAccessKey,
    forcePathStyle: true,
    ...more,
  });
  return {
    endpoint,
    bucket,
    accessKeyId,
    secretAccessKey,
    options,
    storage: (prefix, more) => new S3Storage(options(prefix, more)),
    stop,
    start,
    close: async () => {
      await stop();
      removeTree(directory);
    },
  };
}
