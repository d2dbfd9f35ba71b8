/**
 * A backup never stores a file that never existed (docs/repository-format.md §9): a file is read
 * through one descriptor from its first byte to its last, and one that changed meanwhile is
 * read again, or stored with a warning when it keeps changing, never spliced from two versions.
 * A file deleted while it is read keeps what was read. Each case against a real repository,
 * with the file changed at a chosen moment of its read (between its segments), and once by a
 * process that rewrites it for as long as the backup runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backup, type BackupOptions } from '../../src-main/core/backup/engine/backup.js';
import { SEGMENT_BYTES } from '../../src-main/core/backup/engine/file-read.js';
import { Repository } from '../../src-main/core/backup/engine/repository.js';
import { restore } from '../../src-main/core/backup/engine/restore.js';
import { pseudoRandom, removeTree, tempDir, TEST_KDF } from '../helpers/backup-fixtures.js';
import { folderStorage } from '../../src-main/core/backup/engine/storage/folder.js';

let work: string;
let source: string;
let repo: Repository;

const BIG = 3 * SEGMENT_BYTES + 123_457; // four segments
const OLD = pseudoRandom('old version', BIG);
const NEW = pseudoRandom('new version', BIG);

beforeEach(async () => {
  work = tempDir('changing');
  source = join(work, 'docs');
  mkdirSync(source);
  writeFileSync(join(source, 'big.bin'), OLD);
  writeFileSync(join(source, 'note.txt'), 'a note\n');
  repo = (await Repository.init(folderStorage(join(work, 'repo')), 'repository password', TEST_KDF)).repo;
});
afterEach(() => removeTree(work));

/** Back up `source` with a hook run after each segment of big.bin (its offset given); restore the snapshot. */
async function backupAndRestore(name: string, hooks: BackupOptions['testHooks']) {
  const result = await backup(repo, { sources: [source], testHooks: hooks });
  const target = join(work, name);
  const { index } = await repo.readingIndex();
  const summary = await restore(repo, index, await repo.loadSnapshot(result.snapshotId), { targetDir: target, onExisting: 'fail' });
  expect(summary.errors).toEqual([]);
  return { result, restored: (file: string) => readFileSync(join(target, 'docs', file)) };
}

/** Write `data` over the file in place (same inode), as an editor saving in place would. */
function rewriteInPlace(path: string, data: Buffer): void {
  const fd = openSync(path, 'r+');
  writeSync(fd, data, 0, data.length, 0);
  closeSync(fd);
}

const onBig = (hook: (path: string, offset: number) => void) => (path: string, offset: number) => {
  if (path.endsWith('/big.bin')) hook(path, offset);
};

describe('a large file that changes while it is read', () => {
  it('replaced by a rename after its first segment: stores one whole version (the new one), with no warning', async () => {
    let replaced = false;
    const { result, restored } = await backupAndRestore('renamed', {
      afterSegment: onBig((path) => {
        if (replaced) return;
        replaced = true;
        writeFileSync(`${path}.new`, NEW);
        renameSync(`${path}.new`, path);
      }),
    });
    expect(replaced).toBe(true);
    expect(restored('big.bin').equals(NEW)).toBe(true);
    expect(result.summary.warnings).toEqual([]);
    expect(result.summary.errors).toEqual([]);
  });

  it('rewritten in place after its first segment: read again, and the version stored is the new one', async () => {
    let rewrites = 0;
    const { result, restored } = await backupAndRestore('rewritten', {
      afterSegment: onBig((path) => {
        if (rewrites++ === 0) rewriteInPlace(path, NEW);
      }),
    });
    expect(restored('big.bin').equals(NEW)).toBe(true);
    expect(result.summary.warnings).toEqual([]);
    // The snapshot's node describes the version stored: its mtime is the rewritten file's.
    const { index } = await repo.loadIndex();
    const top = (await repo.loadTree((await repo.loadSnapshot(result.snapshotId)).tree, index)).nodes[0]!;
    const node = (await repo.loadTree(top.subtree!, index)).nodes.find((n) => n.name === 'big.bin')!;
    expect(node.mtime).toBe(statSync(join(source, 'big.bin'), { bigint: true }).mtimeNs.toString());
  });

  it('shrunk in place while read: read again at its new length', async () => {
    let cut = false;
    const { restored } = await backupAndRestore('shrunk', {
      afterSegment: onBig((path) => {
        if (cut) return;
        cut = true;
        writeFileSync(path, OLD.subarray(0, SEGMENT_BYTES + 5));
      }),
    });
    expect(restored('big.bin').equals(OLD.subarray(0, SEGMENT_BYTES + 5))).toBe(true);
  });

  it('rewritten again during every read: stored with a warning that names it, and read again by the next backup', async () => {
    let version = 0;
    const { result } = await backupAndRestore('always', {
      afterSegment: onBig((path) => rewriteInPlace(path, pseudoRandom(`version ${++version}`, BIG))),
    });
    expect(result.summary.warnings).toEqual([
      {
        path: join(source, 'big.bin'),
        message: 'changed while it was being read (3 times in a row); the stored copy may not match any one moment of it. The next backup reads it again.',
      },
    ]);
    expect(result.summary.files).toBe(2);
    // Left alone now, it is read again (its node's state is not the file's) and stored whole.
    const next = await backupAndRestore('settled', undefined);
    expect(next.result.summary.filesChanged).toBe(1);
    expect(next.result.summary.warnings).toEqual([]);
    expect(next.restored('big.bin').equals(readFileSync(join(source, 'big.bin')))).toBe(true);
  });

  it('deleted after its first segment: keeps what was read, the whole file as it was', async () => {
    let deleted = false;
    const { result, restored } = await backupAndRestore('deleted', {
      afterSegment: onBig((path) => {
        if (deleted) return;
        deleted = true;
        rmSync(path);
      }),
    });
    expect(deleted).toBe(true);
    expect(restored('big.bin').equals(OLD)).toBe(true);
    expect(result.summary.warnings).toEqual([]);
    expect(result.summary.errors).toEqual([]);
  });
});

describe('a small file that changes between the walk and its read', () => {
  it("is read again and stored as the version read, with that version's size and time", async () => {
    const note = join(source, 'note.txt');
    let changed = false;
    const { result, restored } = await backupAndRestore('small', {
      beforeRead: (path) => {
        if (path !== note || changed) return;
        changed = true;
        writeFileSync(note, 'a longer note, written after the walk saw the short one\n');
      },
    });
    expect(changed).toBe(true);
    expect(restored('note.txt').toString()).toBe('a longer note, written after the walk saw the short one\n');
    expect(result.summary.warnings).toEqual([]);
    expect(result.summary.bytes).toBe(BIG + 'a longer note, written after the walk saw the short one\n'.length);
  });
});

describe('a file another process rewrites for as long as the backup runs', () => {
  let writer: ChildProcess | null = null;
  afterEach(() => {
    writer?.kill('SIGKILL');
    writer = null;
  });

  it('is stored as one version throughout, or flagged in the summary: never silently spliced', async () => {
    // Every 4 KiB block carries the number of the pass that wrote it: a copy of one version has one number throughout.
    const path = join(source, 'live.bin');
    const BLOCKS = 6 * 1024; // 24 MiB: several segments
    const script = `
      const fs = require('node:fs');
      const fd = fs.openSync(${JSON.stringify(path)}, 'w');
      const block = Buffer.alloc(4096);
      for (let pass = 1; ; pass++) {
        block.fill(0); for (let i = 0; i < 1024; i++) block.writeUInt32LE(pass, i * 4);
        for (let b = 0; b < ${BLOCKS}; b++) fs.writeSync(fd, block, 0, 4096, b * 4096);
        if (pass === 1) process.stdout.write('ready\\n');
      }`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    writer = child;
    await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
    const { result, restored } = await backupAndRestore('live', undefined);
    const copy = restored('live.bin');
    expect(copy.length).toBe(BLOCKS * 4096);
    const passes = new Set<number>();
    for (let b = 0; b < BLOCKS; b++) passes.add(copy.readUInt32LE(b * 4096));
    const flagged = result.summary.warnings.some((w) => w.path === path);
    expect(flagged || passes.size === 1).toBe(true);
  });
});
