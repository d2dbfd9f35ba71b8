/**
 * The worker pool's inline lane (pool.ts): with `inline`, one of the pool's lanes runs its tasks
 * on the pool's own thread instead of a worker thread of its own, and answers exactly as a
 * thread would: chunk ids, a data pack of its own, read errors per file, CANCELLED on close.
 * A lane's chunks compress on libuv's pool while it reads on (worker.ts): what it stores is
 * exactly what it read, however the files fall across its buffer and its tasks.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunkAll } from '../../src-main/core/backup/engine/chunker.js';
import { ClaimTable } from '../../src-main/core/backup/engine/claims.js';
import { openBlob } from '../../src-main/core/backup/engine/blob.js';
import { blobId } from '../../src-main/core/backup/engine/format.js';
import type { FinishedPack } from '../../src-main/core/backup/engine/pack-writer.js';
import { WorkerPool } from '../../src-main/core/backup/engine/pool.js';
import { Repository } from '../../src-main/core/backup/engine/repository.js';
import { pseudoRandom, removeTree, tempDir, TEST_KDF } from '../helpers/backup-fixtures.js';
import { folderStorage } from '../../src-main/core/backup/engine/storage/folder.js';
import { repoFile } from '../helpers/repo-files.js';

let work: string;
let repo: Repository;

beforeAll(async () => {
  work = tempDir('pool');
  repo = (await Repository.init(folderStorage(join(work, 'repo')), 'repository password', TEST_KDF)).repo;
});
afterAll(() => removeTree(work));

function chunkIds(data: Buffer): string[] {
  let at = 0;
  return chunkAll(repo.gear, data).map((n) => blobId(repo.keys.id, data.subarray(at, (at += n))).toString('hex'));
}

describe('a pool with one inline lane', () => {
  it('chunks and stores a file on its own thread, in a pack of its own', async () => {
    const source = join(work, 'one');
    mkdirSync(source);
    const data = pseudoRandom('inline lane', 3 * 1024 * 1024);
    writeFileSync(join(source, 'data.bin'), data);
    const pool = new WorkerPool(repo, 1, { inline: true });
    try {
      const claims = ClaimTable.create(1024).buffer;
      const result = await pool.chunk({ kind: 'chunk', claims, files: [{ path: join(source, 'data.bin'), start: 0, limit: Number.MAX_SAFE_INTEGER }] });
      expect(result.files).toHaveLength(1);
      expect(result.files[0]!.ids).toEqual(chunkIds(data));
      expect(result.files[0]!.eof).toBe(true);
      expect(result.stored.sort()).toEqual([...new Set(chunkIds(data))].sort());
      expect(result.packs).toEqual([]); // 3 MiB does not fill a pack

      const { packs, error } = await pool.finishPacks();
      expect(error).toBeUndefined();
      expect(packs).toHaveLength(1);
      expect(packs[0]!.entries.map((e) => e.id).sort()).toEqual(result.stored.sort());
      expect(existsSync(packs[0]!.tmp)).toBe(true);
      rmSync(packs[0]!.tmp); // the engine would install it; here it only had to be written
    } finally {
      await pool.close();
    }
  });

  it('reports a file it cannot read and goes on with the next', async () => {
    const source = join(work, 'two');
    mkdirSync(source);
    writeFileSync(join(source, 'ok.txt'), 'readable');
    const pool = new WorkerPool(repo, 1, { inline: true });
    try {
      const claims = ClaimTable.create(1024).buffer;
      const result = await pool.chunk({
        kind: 'chunk',
        claims,
        files: [
          { path: join(source, 'gone.txt'), start: 0, limit: Number.MAX_SAFE_INTEGER },
          { path: join(source, 'ok.txt'), start: 0, limit: Number.MAX_SAFE_INTEGER },
        ],
      });
      expect(result.files[0]!.error).toBe('was deleted or moved before it could be read');
      expect(result.files[1]!.error).toBeUndefined();
      expect(result.files[1]!.ids).toEqual(chunkIds(Buffer.from('readable')));
      await pool.abandonPacks();
      expect(readdirSync(repoFile(repo, 'tmp'))).toEqual([]);
    } finally {
      await pool.close();
    }
  });

  it('shares the claims with its threads: a chunk both read is stored by one lane', async () => {
    const source = join(work, 'three');
    mkdirSync(source);
    const data = pseudoRandom('read by both lanes', 2 * 1024 * 1024);
    writeFileSync(join(source, 'a.bin'), data);
    writeFileSync(join(source, 'b.bin'), data);
    const pool = new WorkerPool(repo, 2, { inline: true });
    try {
      const claims = ClaimTable.create(1024).buffer;
      const results = await Promise.all(
        ['a.bin', 'b.bin'].map((name) =>
          pool.chunk({ kind: 'chunk', claims, files: [{ path: join(source, name), start: 0, limit: Number.MAX_SAFE_INTEGER }] }),
        ),
      );
      expect(results.map((r) => r.files[0]!.ids)).toEqual([chunkIds(data), chunkIds(data)]);
      expect(results.flatMap((r) => r.stored).sort()).toEqual([...new Set(chunkIds(data))].sort());
      await pool.abandonPacks();
    } finally {
      await pool.close();
    }
  });

  it('fails tasks still queued with CANCELLED when closed', async () => {
    const pool = new WorkerPool(repo, 1, { inline: true });
    const claims = ClaimTable.create(1024).buffer;
    const queued = pool.chunk({ kind: 'chunk', claims, files: [] });
    await pool.close();
    await expect(queued).rejects.toMatchObject({ code: 'CANCELLED' });
  });

  it('stores exactly the bytes it read while earlier chunks still compress, across files, segments and tasks', async () => {
    const source = join(work, 'four');
    mkdirSync(source);
    // Sizes that wrap the lane's 5 MiB buffer at every offset: small (compressed here), mid-sized
    // and multi-chunk files, compressible and not, and one file read as two segments.
    const files = Array.from({ length: 36 }, (_, i) => {
      const size = [20_000, 300_000, 1_100_000, 2_900_000, 70_000, 4_500_000][i % 6]! + i * 977;
      const random = pseudoRandom(`file ${i}`, size);
      const data = i % 3 === 0 ? Buffer.from(random.toString('hex').slice(0, size)) : random;
      const path = join(source, `f${i}.bin`);
      writeFileSync(path, data);
      return { path, data };
    });
    const big = pseudoRandom('segmented', 11 * 1024 * 1024);
    writeFileSync(join(source, 'big.bin'), big);
    const pool = new WorkerPool(repo, 1, { inline: true });
    try {
      const claims = ClaimTable.create(4096).buffer;
      const whole = (f: { path: string }) => ({ path: f.path, start: 0, limit: Number.MAX_SAFE_INTEGER });
      // Tasks queued back to back, as a backup queues them: the next starts while the last compresses.
      const tasks = await Promise.all([
        pool.chunk({ kind: 'chunk', claims, files: files.slice(0, 12).map(whole) }),
        pool.chunk({ kind: 'chunk', claims, files: [{ path: join(source, 'big.bin'), start: 0, limit: 8 * 1024 * 1024 }] }),
        pool.chunk({ kind: 'chunk', claims, files: files.slice(12).map(whole) }),
      ]);
      const first = tasks[1]!.files[0]!;
      expect(first.eof).toBe(false);
      const rest = await pool.chunk({ kind: 'chunk', claims, files: [{ path: join(source, 'big.bin'), start: first.end, limit: 8 * 1024 * 1024 }] });
      expect([...first.ids, ...rest.files[0]!.ids]).toEqual(chunkIds(big));
      expect([...tasks[0]!.files, ...tasks[2]!.files].map((f) => f.ids)).toEqual(files.map((f) => chunkIds(f.data)));

      const stored = [...tasks, rest].flatMap((t) => t.stored);
      const expected = new Map<string, Buffer>();
      for (const data of [...files.map((f) => f.data), big]) {
        let at = 0;
        for (const n of chunkAll(repo.gear, data)) {
          const chunk = data.subarray(at, (at += n));
          expected.set(blobId(repo.keys.id, chunk).toString('hex'), chunk);
        }
      }
      expect(stored.sort()).toEqual([...expected.keys()].sort());

      const { packs, error } = await pool.finishPacks();
      expect(error).toBeUndefined();
      const all: FinishedPack[] = [...[...tasks, rest].flatMap((t) => t.packs), ...packs];
      const opened = new Map<string, Buffer>();
      for (const pack of all) {
        const bytes = readFileSync(pack.tmp);
        for (const e of pack.entries) {
          opened.set(e.id, openBlob(repo.keys, e.id, 'data', e.compressed, e.rawLength, bytes.subarray(e.offset, e.offset + e.length), pack.id));
        }
        rmSync(pack.tmp);
      }
      expect([...opened.keys()].sort()).toEqual([...expected.keys()].sort());
      for (const [id, chunk] of expected) expect(opened.get(id)!.equals(chunk)).toBe(true);
      // Text compresses: the lane stored those chunks compressed.
      expect(all.flatMap((p) => p.entries).some((e) => e.compressed)).toBe(true);
    } finally {
      await pool.close();
    }
  });

  it('fails finishing its pack with the error that kept a chunk from being written, after the task that cut it answered', async () => {
    const source = join(work, 'five');
    mkdirSync(source);
    writeFileSync(join(source, 'data.bin'), pseudoRandom('unwritable', 2 * 1024 * 1024));
    const { repo: broken } = await Repository.init(folderStorage(join(work, 'broken-repo')), 'repository password', TEST_KDF);
    const pool = new WorkerPool(broken, 1, { inline: true });
    try {
      rmSync(repoFile(broken, 'tmp'), { recursive: true }); // where the lane's pack would be created
      const claims = ClaimTable.create(1024).buffer;
      const result = await pool.chunk({ kind: 'chunk', claims, files: [{ path: join(source, 'data.bin'), start: 0, limit: Number.MAX_SAFE_INTEGER }] });
      expect(result.files[0]!.error).toBeUndefined();
      const { packs, error } = await pool.finishPacks();
      expect(packs).toEqual([]);
      expect(error).toMatchObject({ code: 'ENOENT' });
    } finally {
      await pool.close();
    }
  });
});
