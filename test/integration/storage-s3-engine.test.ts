/**
 * The engine on a repository in an S3 bucket (a real S3 API server on loopback,
 * test/helpers/s3-server.ts): made, backed up into,
 * opened again, restored from and checked with every pack read, all through S3Storage.
 */
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { backup } from '../../src-main/core/backup/engine/backup.js';
import { check } from '../../src-main/core/backup/engine/check.js';
import { Repository } from '../../src-main/core/backup/engine/repository.js';
import { restore } from '../../src-main/core/backup/engine/restore.js';
import { diffTrees, makeSourceTree, removeTree, statTree, tempDir, TEST_KDF } from '../helpers/backup-fixtures.js';
import { startS3Server, type S3Server } from '../helpers/s3-server.js';

let server: S3Server;
let work: string;
beforeAll(async () => {
  server = await startS3Server();
  work = tempDir('s3-engine');
});
afterAll(async () => {
  await server.close();
  removeTree(work);
});

it('a repository in an S3 bucket is made, backed up into, restored from and checked through S3Storage', async () => {
  const source = join(work, 'source');
  makeSourceTree(source, 20);
  const prefix = `repos/${randomBytes(6).toString('hex')}`;
  const { repo, master } = await Repository.init(server.storage(prefix), 'repository password', TEST_KDF);
  const first = await backup(repo, { sources: [source] });
  expect(first.summary.errors).toEqual([]);
  await repo.close();

  const storage = server.storage(prefix);
  const names = (await storage.list('')).map((o) => o.name);
  expect(names).toContain('config');
  expect(names.some((n) => n.startsWith('data/'))).toBe(true);
  expect(names.filter((n) => n.startsWith('snapshots/'))).toEqual([`snapshots/${first.snapshotId}`]);
  expect(names.filter((n) => n.startsWith('locks/'))).toEqual([]);

  const opened = await Repository.openWithMaster(storage, master);
  const { index } = await opened.loadIndex();
  const target = join(work, 'restored');
  const summary = await restore(opened, index, await opened.loadSnapshot(first.snapshotId), { targetDir: target, onExisting: 'fail' });
  expect(summary.errors).toEqual([]);
  expect(diffTrees(source, join(target, 'source'))).toBe('');
  expect(statTree(join(target, 'source'))).toEqual(statTree(source));

  // A second backup of the same tree stores no new pack.
  const packsBefore = (await storage.list('data')).length;
  const second = await backup(opened, { sources: [source] });
  expect(second.summary.errors).toEqual([]);
  expect((await storage.list('data')).length).toBe(packsBefore);

  const report = await check(opened, { readData: { kind: 'all' } });
  expect(report).toMatchObject({ ok: true, problems: [], unindexedPacks: [], damagedPacks: [] });
  expect(report.packsRead).toBe(report.packs);
  await opened.close();
}, 180_000);
