/**
 * The first backup's totals (for its ETA) are counted by scan.ts on a thread of its own; the
 * count must agree with what the backup then stores, excludes included.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backup, type Progress } from '../../src-main/core/backup/engine/backup.js';
import { Repository } from '../../src-main/core/backup/engine/repository.js';
import { countTree } from '../../src-main/core/backup/engine/scan.js';
import { removeTree, tempDir, TEST_KDF } from '../helpers/backup-fixtures.js';
import { folderStorage } from '../../src-main/core/backup/engine/storage/folder.js';

let work: string;
let source: string;

beforeAll(() => {
  work = tempDir('scan');
  source = join(work, 'source');
  mkdirSync(join(source, 'docs', 'deep', 'deeper'), { recursive: true });
  mkdirSync(join(source, 'node_modules', 'pkg'), { recursive: true });
  mkdirSync(join(source, 'cache'));
  writeFileSync(join(source, 'a.txt'), 'a'.repeat(10));
  writeFileSync(join(source, 'empty'), '');
  writeFileSync(join(source, 'docs', 'b.md'), 'b'.repeat(200));
  writeFileSync(join(source, 'docs', 'deep', 'deeper', 'c.bin'), Buffer.alloc(3000, 7));
  writeFileSync(join(source, 'docs', 'notes.tmp'), 'x'.repeat(50));
  writeFileSync(join(source, 'node_modules', 'pkg', 'index.js'), 'y'.repeat(70));
  writeFileSync(join(source, 'cache', 'blob'), 'z'.repeat(90));
  symlinkSync('a.txt', join(source, 'link'));
});
afterAll(() => removeTree(work));

describe('counting a tree for the ETA', () => {
  it('counts regular files and their bytes, not folders or symlinks', () => {
    expect(countTree([source], [])).toEqual({ files: 7, bytes: 10 + 0 + 200 + 3000 + 50 + 70 + 90 });
  });

  it('skips what the excludes name, by name anywhere or by whole path', () => {
    expect(countTree([source], ['*.tmp', 'node_modules', `${source}/cache`])).toEqual({ files: 4, bytes: 10 + 0 + 200 + 3000 });
  });

  it('counts a source that is a file, and passes over one that does not exist', () => {
    expect(countTree([join(source, 'a.txt'), join(work, 'missing')], [])).toEqual({ files: 1, bytes: 10 });
  });

  it('agrees with what the backup stores, and a first backup reports those totals', async () => {
    const { repo } = await Repository.init(folderStorage(join(work, 'repo')), 'repository password', TEST_KDF);
    const excludes = ['*.tmp', 'node_modules'];
    const progress: Progress[] = [];
    const { summary } = await backup(repo, { sources: [source], excludes, onProgress: (p) => progress.push(p) });
    const counted = countTree([source], excludes);
    expect(counted).toEqual({ files: summary.files, bytes: summary.bytes });
    // The count runs beside the backup; totals are either not yet known or exactly right.
    for (const p of progress) {
      expect([null, counted.files]).toContain(p.filesTotal);
      expect([null, counted.bytes]).toContain(p.bytesTotal);
    }
  });
});
