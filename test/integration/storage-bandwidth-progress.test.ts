/**
 * A bandwidth limit (engine/storage/bandwidth.ts) and what a backup waits on, on a real S3 API
 * server and a real sshd on loopback (test/helpers/s3-server.ts, sshd.ts): the limited storage
 * moves every byte unchanged and no faster than its limits, a backup through it restores
 * identical and its progress says it runs at the limit; a network that drops a connection makes
 * the progress say that the backup waits for the storage (S3 and SFTP), and the backup goes on
 * once the retry went through.
 */
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backup, type Progress } from '../../src-main/core/backup/engine/backup.js';
import { Repository } from '../../src-main/core/backup/engine/repository.js';
import { restore } from '../../src-main/core/backup/engine/restore.js';
import { BandwidthLimitedStorage, limitBandwidth } from '../../src-main/core/backup/engine/storage/bandwidth.js';
import { S3Storage } from '../../src-main/core/backup/engine/storage/s3.js';
import { MULTIPART_ABOVE } from '../../src-main/core/backup/engine/storage/s3-multipart.js';
import type { Storage, StorageEvent } from '../../src-main/core/backup/engine/storage/storage.js';
import { diffTrees, makeSourceTree, removeTree, statTree, tempDir, TEST_KDF } from '../helpers/backup-fixtures.js';
import { startResettingProxy, type ResettingProxy } from '../helpers/resetting-proxy.js';
import { startS3Server, type S3Server } from '../helpers/s3-server.js';
import { startSshd, type SshdServer } from '../helpers/sshd.js';
import { SftpStorage } from '../../src-main/core/backup/engine/storage/sftp.js';

const MiB = 1024 * 1024;
let server: S3Server;
let proxy: ResettingProxy;
let sshd: SshdServer;
let sshProxy: ResettingProxy;
let work: string;
let source: string;

beforeAll(async () => {
  server = await startS3Server();
  proxy = await startResettingProxy(Number(new URL(server.endpoint).port));
  sshd = await startSshd();
  sshProxy = await startResettingProxy(sshd.port);
  work = tempDir('s3-bandwidth');
  source = join(work, 'source');
  makeSourceTree(source, 1);
}, 60_000);
afterAll(async () => {
  await proxy?.close();
  await server?.close();
  await sshProxy?.close();
  await sshd?.close();
  removeTree(work);
});

const prefix = () => `repos/${randomBytes(6).toString('hex')}`;
const seconds = (since: number) => (performance.now() - since) / 1000;

async function restoresIdentical(repo: Repository, snapshotId: string): Promise<void> {
  const { index } = await repo.loadIndex();
  const target = join(work, `restored-${snapshotId.slice(0, 8)}`);
  const summary = await restore(repo, index, await repo.loadSnapshot(snapshotId), { targetDir: target, onExisting: 'fail' });
  expect(summary.errors).toEqual([]);
  expect(diffTrees(source, join(target, 'source'))).toBe('');
  expect(statTree(join(target, 'source'))).toEqual(statTree(source));
}

describe('a storage with a bandwidth limit, on a real S3 server', () => {
  const places: [string, () => { limited: Storage; check: Storage }][] = [
    [
      'S3',
      () => {
        const where = prefix();
        return { limited: server.storage(where), check: server.storage(where) };
      },
    ],
    [
      'SFTP',
      () => {
        const path = sshd.repoPath();
        return { limited: sshd.storage(path), check: sshd.storage(path) };
      },
    ],
  ];

  it.each(places)(
    'on %s: moves every byte unchanged each way, staged files and ranges too, no faster than its limits',
    async (_, place) => {
      const { limited, check: inner } = place();
      const storage = limitBandwidth(limited, { uploadBytesPerSecond: MiB, downloadBytesPerSecond: MiB }) as BandwidthLimitedStorage;
      await storage.prepare();
      const a = randomBytes(1.5 * MiB);
      const b = randomBytes(MiB);
      const staged = join(work, 'staged-pack');
      writeFileSync(staged, b);

      const up = performance.now();
      await Promise.all([storage.write('data/aa/a', a), storage.write('data/bb/b', { file: staged, size: b.length })]);
      // 2.5 MiB at 1 MiB a second, after a burst of one second's worth: at least 1.5 s.
      expect(seconds(up)).toBeGreaterThanOrEqual(1.45);
      expect(storage.uploaded).toBe(2.5 * MiB);
      // Read by a storage of its own (the limited one paces its inner storage's wire). Buffer.equals:
      // a deep comparison of megabytes, byte by byte, would take seconds.
      expect((await inner.read('data/aa/a')).equals(a)).toBe(true);
      expect((await inner.read('data/bb/b')).equals(b)).toBe(true);

      // On S3's wire every answer's body counts (prepare's listing too): the reads are what this measures.
      const before = storage.downloaded;
      const down = performance.now();
      expect((await storage.read('data/aa/a')).equals(a)).toBe(true);
      expect((await storage.read('data/bb/b', { offset: 1000, length: 512 * 1024 })).equals(b.subarray(1000, 1000 + 512 * 1024))).toBe(true);
      // 2 MiB down at 1 MiB a second after its burst: at least 1 s.
      expect(seconds(down)).toBeGreaterThanOrEqual(0.95);
      expect(storage.downloaded - before).toBe(2 * MiB);
      expect(storage.uploaded).toBe(2.5 * MiB);
      await storage.close();
      await inner.close();
    },
    60_000,
  );

  it('paces S3 on the wire: an upload cut midway, from memory or from a staged file, is sent again whole, and one in parts keeps the limit', async () => {
    const where = prefix();
    const storage = limitBandwidth(new S3Storage(server.options(where, { endpoint: `http://127.0.0.1:${proxy.port}` })), {
      uploadBytesPerSecond: 2 * MiB,
    }) as BandwidthLimitedStorage;
    const events: StorageEvent[] = [];
    storage.watch((e) => events.push(e));
    const body = randomBytes(6 * MiB);
    const writing = storage.write('data/cc/cut', body);
    // Halfway through its paced body (a 2 MiB burst, then 2 MiB a second), the connection drops.
    while (storage.uploaded < 3 * MiB) await new Promise((resolve) => setTimeout(resolve, 10));
    proxy.breakNext(0);
    await writing;
    expect(events).toContainEqual({ type: 'retrying', cause: 'network', attempt: 2, attempts: 5 });
    expect(events.some((e) => e.type === 'limited' && e.direction === 'upload')).toBe(true);
    const check = server.storage(where);
    expect((await check.read('data/cc/cut')).equals(body)).toBe(true);
    // Sent once and a half or more: the cut attempt's bytes went through the limit too.
    expect(storage.uploaded).toBeGreaterThan(body.length);

    // A staged pack goes up streamed from its file: cut midway, the next attempt reads the file afresh.
    const pack = randomBytes(6 * MiB);
    const file = join(work, 'staged.pack');
    writeFileSync(file, pack);
    const before = storage.uploaded;
    const staging = storage.write('data/ee/staged', { file, size: pack.length, sha256: createHash('sha256').update(pack).digest('hex') });
    while (storage.uploaded < before + 3 * MiB) await new Promise((resolve) => setTimeout(resolve, 10));
    proxy.breakNext(0);
    await staging;
    expect(events.filter((e) => e.type === 'retrying')).toHaveLength(2);
    expect((await check.read('data/ee/staged')).equals(pack)).toBe(true);
    expect(storage.uploaded - before).toBeGreaterThan(pack.length);

    const large = randomBytes(MULTIPART_ABOVE + MiB);
    const big = limitBandwidth(server.storage(where), { uploadBytesPerSecond: 32 * MiB }) as BandwidthLimitedStorage;
    const started = performance.now();
    await big.write('data/dd/large', large);
    // 65 MiB in five parts at 32 MiB a second after a 32 MiB burst: at least 1 s.
    expect(seconds(started)).toBeGreaterThanOrEqual(0.95);
    expect(big.uploaded).toBe(MULTIPART_ABOVE + MiB);
    expect((await check.read('data/dd/large')).equals(large)).toBe(true);
    await Promise.all([storage.close(), big.close(), check.close()]);
  }, 60_000);

  it('backs a tree up through the limit, says it runs at the limit while it waits, and restores it identical', async () => {
    const where = prefix();
    const limits = { uploadBytesPerSecond: 4 * MiB };
    const { repo, master } = await Repository.init(limitBandwidth(server.storage(where), limits), 'repository password', TEST_KDF);
    const limited = repo.storage as BandwidthLimitedStorage;
    const before = limited.uploaded;
    const progress: Progress[] = [];
    const started = performance.now();
    const { snapshotId, summary } = await backup(repo, { sources: [source], onProgress: (p) => progress.push(p) });
    expect(summary.errors).toEqual([]);
    // Everything it stored went through the limit: at least (uploaded - one second's worth) / rate.
    expect(limited.uploaded - before).toBeGreaterThan(summary.dataAdded);
    expect(seconds(started)).toBeGreaterThanOrEqual((limited.uploaded - before - 4 * MiB) / (4 * MiB) - 0.05);
    expect(progress.some((p) => p.waitingOn?.code === 'UPLOAD_LIMIT')).toBe(true);
    expect(progress.find((p) => p.waitingOn !== null)?.waitingOn).toEqual({ code: 'UPLOAD_LIMIT', message: 'Uploading at your upload limit (4.0 MiB/s)' });
    const last = progress.at(-1)!;
    expect(last.bytesUploaded).toBe(summary.dataAdded);
    expect(last.waitingOn).toBeNull();
    expect(progress.some((p) => p.uploadBytesPerSecond > 0)).toBe(true);
    // What the bucket holds is what went up: every pack, once.
    const packs = await server.storage(where).list('data');
    expect(packs.reduce((n, o) => n + o.size, 0)).toBe(summary.dataAdded);
    await repo.close();

    const opened = await Repository.openWithMaster(limitBandwidth(server.storage(where), { downloadBytesPerSecond: 8 * MiB }), master);
    await restoresIdentical(opened, snapshotId);
    await opened.close();
  }, 120_000);
});

describe('a backup whose storage retries', () => {
  /** A backup whose network drops what it carries (and the next connection) once it is under way. */
  async function backupThroughDrop(repo: Repository, drop: ResettingProxy) {
    const events: StorageEvent[] = [];
    repo.storage.watch!((e) => events.push(e));
    const progress: Progress[] = [];
    let broken = false;
    const resetsBefore = drop.resets;
    const result = await backup(repo, {
      sources: [source],
      onProgress: (p) => {
        progress.push(p);
        if (!broken && p.filesDone > 0) {
          broken = true;
          drop.breakNext(1);
        }
      },
    });
    expect(result.summary.errors).toEqual([]);
    expect(drop.resets - resetsBefore).toBe(1);
    expect(events).toContainEqual({ type: 'retrying', cause: 'network', attempt: 2, attempts: 5 });
    expect(events).toContainEqual({ type: 'retried', ok: true });
    expect(events).not.toContainEqual({ type: 'retried', ok: false });
    const waited = progress.findIndex((p) => p.waitingOn !== null);
    expect(progress[waited]?.waitingOn).toEqual({ code: 'STORAGE_RETRY', message: 'Waiting for the storage (retrying after a network error)' });
    expect(progress.slice(waited).some((p) => p.waitingOn === null)).toBe(true);
    expect(progress.at(-1)!.waitingOn).toBeNull();
    return result;
  }

  it('on S3: says it waits for the storage while a dropped connection is retried, then goes on and restores identical', async () => {
    const where = prefix();
    const { repo, master } = await Repository.init(
      new S3Storage(server.options(where, { endpoint: `http://127.0.0.1:${proxy.port}` })),
      'repository password',
      TEST_KDF,
    );
    const { snapshotId } = await backupThroughDrop(repo, proxy);
    await repo.close();
    const opened = await Repository.openWithMaster(server.storage(where), master);
    await restoresIdentical(opened, snapshotId);
    await opened.close();
  }, 120_000);

  it('over SFTP: says it waits for the storage while the lost SSH connection is made again, then goes on and restores identical', async () => {
    const path = sshd.repoPath();
    const { repo, master } = await Repository.init(new SftpStorage(sshd.options(path, { port: sshProxy.port })), 'repository password', TEST_KDF);
    const { snapshotId } = await backupThroughDrop(repo, sshProxy);
    await repo.close();
    const opened = await Repository.openWithMaster(sshd.storage(path), master);
    await restoresIdentical(opened, snapshotId);
    await opened.close();
  }, 120_000);
});
