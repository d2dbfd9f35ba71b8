/**
 * Folder listings (walk.ts): what the backup sees of each folder, made either on the spot or
 * ahead of time by the walker thread; the two must never differ, whatever the tree does.
 */
import { lstatSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeExcluder } from '../../src-main/core/backup/engine/excludes.js';
import { fileKind, listFolder, statAt, statOf, Walker, type FolderListing } from '../../src-main/core/backup/engine/walk.js';
import { removeTree, tempDir } from '../helpers/backup-fixtures.js';

let work: string;
let source: string;
const none = makeExcluder([]);

/** Every folder under `root`, depth first, in the order a backup visits them. */
function foldersInOrder(root: string): string[] {
  const out = [root];
  const listing = listFolder(root, none);
  listing.names.forEach((name, i) => {
    if (fileKind(statAt(listing, i).mode) === 'dir') out.push(...foldersInOrder(`${root}/${name}`));
  });
  return out;
}

/** A listing as plain data, to compare two listings exactly. */
function plain(l: FolderListing) {
  return { path: l.path, error: l.error, names: l.names, stats: l.names.map((_, i) => statAt(l, i)), errors: l.errors, links: l.links };
}

beforeAll(() => {
  work = tempDir('walk');
  source = join(work, 'source');
  for (let a = 0; a < 12; a++) {
    for (let b = 0; b < 30; b++) {
      mkdirSync(join(source, `a${a}`, `b${b}`), { recursive: true });
      writeFileSync(join(source, `a${a}`, `b${b}`, 'file.txt'), `${a}/${b}`);
    }
  }
  writeFileSync(join(source, 'Zeta'), 'z');
  writeFileSync(join(source, 'alpha.tmp'), 'tmp');
  symlinkSync('Zeta', join(source, 'link'));
});
afterAll(() => removeTree(work));

describe('a folder listing', () => {
  it('has the names sorted as trees keep them, with what lstat says of each and symlink targets', () => {
    const listing = listFolder(source, none);
    expect(listing.names.slice(0, 3)).toEqual(['Zeta', 'a0', 'a1']);
    expect(listing.names).toEqual([...listing.names].sort());
    const zeta = listing.names.indexOf('Zeta');
    expect(statAt(listing, zeta)).toEqual(statOf(lstatSync(join(source, 'Zeta'), { bigint: true })));
    const link = listing.names.indexOf('link');
    expect(fileKind(statAt(listing, link).mode)).toBe('symlink');
    expect(listing.links[link]).toEqual({ target: 'Zeta' });
    expect(listing.links[zeta]).toBeNull();
    expect(listing.errors.every((e) => e === null)).toBe(true);
  });

  it('leaves out what the excludes name', () => {
    const listing = listFolder(source, makeExcluder(['*.tmp', `${source}/a1*`]));
    expect(listing.names).not.toContain('alpha.tmp');
    expect(listing.names.filter((n) => n.startsWith('a1'))).toEqual([]);
    expect(listing.names).toContain('a0');
  });

  it('says why a folder cannot be read', () => {
    // (As root, as CI runs, a mode of 000 would not stop the read: a vanished folder always does.)
    expect(listFolder(join(source, 'vanished'), none)).toMatchObject({ error: 'ENOENT', names: [] });
  });
});

describe('the walker thread', () => {
  it('lists every folder ahead, exactly as listing it on the spot would', async () => {
    const walker = new Walker([source], [], none);
    try {
      const order = foldersInOrder(source);
      expect(order.length).toBeGreaterThan(360); // more than the walker may run ahead
      for (const path of order) expect(plain(await walker.list(path))).toEqual(plain(listFolder(path, none)));
    } finally {
      await walker.close();
    }
  });

  it('lists a folder the walk did not expect on the spot, and carries on in step', async () => {
    const walker = new Walker([source], [], none);
    try {
      const order = foldersInOrder(source);
      // The tree changed between the walker's look and the backup's: a folder appeared.
      const added = join(source, 'a0', 'new-folder');
      mkdirSync(added);
      writeFileSync(join(added, 'x'), 'x');
      expect(plain(await walker.list(added))).toEqual(plain(listFolder(added, none)));
      const later = order.at(-1)!;
      expect(plain(await walker.list(later))).toEqual(plain(listFolder(later, none)));
    } finally {
      await walker.close();
    }
  });
});
