/**
 * The contract every Storage keeps (src-main/core/backup/engine/storage/storage.ts), as a suite
 * any implementation runs: `describeStorageContract('sftp', makeSftpStorage)`. `make` returns a
 * fresh, empty storage (prepared by the suite) and what removes it afterwards.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StorageError, type Storage } from '../../src-main/core/backup/engine/storage/storage.js';
import { pseudoRandom, removeTree, tempDir } from './backup-fixtures.js';

export interface ContractSubject {
  storage: Storage;
  cleanup(): Promise<void> | void;
}

const PACK = `data/3f/3f${'0'.repeat(62)}`;
const INDEX = `index/${'a'.repeat(64)}`;
const SNAPSHOT = `snapshots/${'b'.repeat(64)}`;

async function notFound(p: Promise<unknown>): Promise<void> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(StorageError);
  expect((e as StorageError).code).toBe('NOT_FOUND');
}

/** `download`: the storage streams whole objects to local files (Storage.download), tested too. */
export function describeStorageContract(name: string, make: () => Promise<ContractSubject>, options: { download?: boolean } = {}): void {
  describe(`the Storage contract: ${name}`, () => {
    let subject: ContractSubject;
    let storage: Storage;
    let local: string;

    beforeEach(async () => {
      subject = await make();
      storage = subject.storage;
      await storage.prepare();
      await storage.prepare(); // idempotent
      local = tempDir('storage-contract-local');
    });
    afterEach(async () => {
      await storage.close();
      await subject.cleanup();
      removeTree(local);
    });

    it('reads back what it wrote, whole and by byte range, and states its size', async () => {
      const bytes = pseudoRandom('contract', 300_000);
      await storage.write(PACK, bytes);
      expect((await storage.read(PACK)).equals(bytes)).toBe(true);
      expect((await storage.read(PACK, { offset: 1000, length: 4096 })).equals(bytes.subarray(1000, 5096))).toBe(true);
      expect((await storage.read(PACK, { offset: bytes.length - 8, length: 8 })).equals(bytes.subarray(-8))).toBe(true);
      // A range past the end gives the bytes there are: the engine finds the object short.
      expect((await storage.read(PACK, { offset: bytes.length - 4, length: 8 })).length).toBe(4);
      expect(await storage.stat(PACK)).toEqual({ name: PACK, size: bytes.length });
    });

    it('uploads a local file as an object', async () => {
      const bytes = pseudoRandom('from a file', 2 * 1024 * 1024 + 17);
      const file = join(local, 'staged.pack');
      writeFileSync(file, bytes);
      await storage.write(PACK, { file, size: bytes.length });
      expect((await storage.read(PACK)).equals(bytes)).toBe(true);
    });

    it.runIf(options.download)('downloads an object into a new local file, owner-only, where it offers to; a missing one is NOT_FOUND', async () => {
      if (!storage.download) throw new Error(`${name} does not offer download`);
      const bytes = pseudoRandom('to a file', 3 * 1024 * 1024 + 5);
      await storage.write(PACK, bytes);
      const file = join(local, 'fetched');
      await storage.download(PACK, file);
      expect(readFileSync(file).equals(bytes)).toBe(true);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      await notFound(storage.download(INDEX, join(local, 'missing')));
      // Never over a file that is there: a second download of the same name is refused.
      await expect(storage.download(PACK, file)).rejects.toThrow();
      expect(readFileSync(file).equals(bytes)).toBe(true);
      expect(existsSync(join(local, 'missing'))).toBe(false);
    });

    it('is create-only: a repeat of the same size is a success and changes nothing, another size is refused', async () => {
      const first = Buffer.from('the first bytes of this object');
      await storage.write(INDEX, first);
      await storage.write(INDEX, Buffer.from('a resumed upload of the same  '));
      expect((await storage.read(INDEX)).equals(first)).toBe(true);
      await expect(storage.write(INDEX, Buffer.from('shorter'))).rejects.toBeInstanceOf(StorageError);
      expect((await storage.read(INDEX)).equals(first)).toBe(true);
    });

    it('replaces config in place, whole', async () => {
      await storage.write('config', Buffer.from('{"version":1}'));
      await storage.replace('config', Buffer.from('{"version":2,"more":true}'));
      expect((await storage.read('config')).toString()).toBe('{"version":2,"more":true}');
    });

    it('lists every object below a folder, recursively, by its name from the root, with its size', async () => {
      await storage.write(PACK, Buffer.alloc(10));
      await storage.write(`data/ab/ab${'1'.repeat(62)}`, Buffer.alloc(20));
      await storage.write(INDEX, Buffer.alloc(30));
      await storage.write(SNAPSHOT, Buffer.alloc(40));
      await storage.write('config', Buffer.alloc(50));
      const byName = (list: { name: string; size: number }[]) => [...list].sort((a, b) => a.name.localeCompare(b.name));
      expect(byName(await storage.list('data'))).toEqual([
        { name: PACK, size: 10 },
        { name: `data/ab/ab${'1'.repeat(62)}`, size: 20 },
      ]);
      expect(await storage.list('index')).toEqual([{ name: INDEX, size: 30 }]);
      expect(await storage.list('locks')).toEqual([]);
      expect(byName(await storage.list('')).map((o) => o.name)).toEqual(['config', PACK, `data/ab/ab${'1'.repeat(62)}`, INDEX, SNAPSHOT]);
    });

    it('says NOT_FOUND for what is not there; stat says null; deleting it is a success', async () => {
      await notFound(storage.read(SNAPSHOT));
      await notFound(storage.read(SNAPSHOT, { offset: 0, length: 8 }));
      expect(await storage.stat(SNAPSHOT)).toBeNull();
      await storage.delete(SNAPSHOT);
      await storage.write(SNAPSHOT, Buffer.from('here'));
      await storage.delete(SNAPSHOT);
      await notFound(storage.read(SNAPSHOT));
      expect(await storage.list('snapshots')).toEqual([]);
    });

    it('names its location for people', () => {
      expect(storage.location.length).toBeGreaterThan(0);
      expect(['folder', 'sftp', 's3']).toContain(storage.kind);
    });
  });
}
