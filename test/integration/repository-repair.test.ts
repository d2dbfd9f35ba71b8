/**
 * Damage never spreads and never blocks the rest, and repair mends it (docs/repository-format.md
 * §11-12). Against a real repository on disk: after a pack is deleted or truncated, a byte of an
 * index file, a snapshot file, a data blob or a tree is flipped, the next backup succeeds and its
 * snapshot restores byte-identical; listing, prune, retention and forget keep working; and
 * repair brings check back to clean, saying exactly what it saved and what was lost.
 */
import { mkdirSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backup } from '../../src-main/core/backup/engine/backup.js';
import { check } from '../../src-main/core/backup/engine/check.js';
import { forget, forgetByPolicy, prune } from '../../src-main/core/backup/engine/prune.js';
import { repair } from '../../src-main/core/backup/engine/repair.js';
import { Repository } from '../../src-main/core/backup/engine/repository.js';
import { restore } from '../../src-main/core/backup/engine/restore.js';
import { diffTrees, flipByte, pseudoRandom, removeTree, tempDir, TEST_KDF } from '../helpers/backup-fixtures.js';
import { folderStorage } from '../../src-main/core/backup/engine/storage/folder.js';
import { packFile, repoFile } from '../helpers/repo-files.js';

let work: string;
let source: string;
let repo: Repository;
let master: Buffer;

const MiB = 1024 * 1024;

beforeEach(async () => {
  work = tempDir('repair');
  source = join(work, 'docs');
  // ~40 MiB of data in three data packs, plus small files and folders (one tree pack).
  mkdirSync(join(source, 'big'), { recursive: true });
  mkdirSync(join(source, 'letters', 'old'), { recursive: true });
  writeFileSync(join(source, 'big', 'one.bin'), pseudoRandom('one', 14 * MiB));
  writeFileSync(join(source, 'big', 'two.bin'), pseudoRandom('two', 14 * MiB));
  writeFileSync(join(source, 'big', 'three.bin'), pseudoRandom('three', 12 * MiB));
  for (let i = 0; i < 20; i++) writeFileSync(join(source, 'letters', `letter-${i}.txt`), `Dear reader ${i},\n`.repeat(50 + i));
  writeFileSync(join(source, 'letters', 'old', '1999.txt'), 'an old letter\n');
  ({ repo, master } = await Repository.init(folderStorage(join(work, 'repo')), 'repository password', TEST_KDF));
});
afterEach(() => removeTree(work));

const short = (id: string) => id.slice(0, 12);

/** Open the repository afresh after damaging it, as every job does (no tree or pack cached from before). */
async function reopen(): Promise<void> {
  repo = await Repository.openWithMaster(folderStorage(join(work, 'repo')), master);
}

/** The repository's packs by what they hold: data packs (largest first) and tree packs. */
async function packs(): Promise<{ data: string[]; tree: string[] }> {
  const data: string[] = [];
  const tree: string[] = [];
  const sizes = await repo.listPacks();
  for (const id of sizes.keys()) ((await repo.readPackHeader(id)).every((e) => e.type === 'tree') ? tree : data).push(id);
  data.sort((a, b) => sizes.get(b)! - sizes.get(a)!);
  return { data, tree };
}

/** The files of `snapshotId` with a chunk in `pack`, as paths in the snapshot ("docs/big/one.bin"). */
async function filesIn(snapshotId: string, pack: string): Promise<string[]> {
  const { index } = await repo.loadIndex();
  const out: string[] = [];
  const walk = async (treeId: string, prefix: string): Promise<void> => {
    for (const n of (await repo.loadTree(treeId, index)).nodes) {
      if (n.type === 'dir') await walk(n.subtree!, `${prefix}${n.name}/`);
      else if (n.type === 'file' && (n.content ?? []).some((c) => index.get(c, 'data')?.pack === pack)) out.push(`${prefix}${n.name}`);
    }
  };
  await walk((await repo.loadSnapshot(snapshotId)).tree, '');
  return out.sort();
}

/** Restore as the service does: through the packs on disk, around the ones known damaged. */
async function restoreInto(snapshotId: string, name: string, avoid?: ReadonlySet<string>) {
  const target = join(work, name);
  const { index } = await repo.readingIndex(avoid);
  const summary = await restore(repo, index, await repo.loadSnapshot(snapshotId), { targetDir: target, onExisting: 'fail' });
  return { summary, root: join(target, 'docs') };
}

/** The next backup succeeds, and its snapshot restores byte for byte what is on disk. */
async function backupRestoresWhole(name: string) {
  const result = await backup(repo, { sources: [source] });
  const { summary, root } = await restoreInto(result.snapshotId, name);
  expect(summary.errors).toEqual([]);
  expect(diffTrees(source, root)).toBe('');
  return result;
}

async function expectClean(): Promise<void> {
  const report = await check(repo, { readData: { kind: 'all' } });
  expect(report.problems).toEqual([]);
  expect(report.damagedSnapshots).toEqual([]);
  expect(report.ok).toBe(true);
}

describe('a deleted pack', () => {
  it('is stored again by the next backup, which restores whole; the older snapshot heals too; repair drops the pack and loses nothing', async () => {
    const first = await backup(repo, { sources: [source] });
    const gone = (await packs()).data[0]!;
    const hit = await filesIn(first.snapshotId, gone);
    expect(hit.length).toBeGreaterThan(0);
    rmSync(packFile(repo, gone));
    await reopen();

    const before = await check(repo, { readData: { kind: 'none' } });
    expect(before.problems).toContainEqual({ kind: 'pack', id: gone, message: `Pack ${short(gone)} is missing.` });
    const { time } = await repo.loadSnapshot(first.snapshotId);
    expect(before.damagedSnapshots).toEqual([{ id: first.snapshotId, time, files: hit }]);

    const second = await backupRestoresWhole('after-delete');
    expect(second.damage).toEqual([{ kind: 'pack', id: gone, message: `Pack ${short(gone)} is missing from the repository.`, certain: true }]);
    expect(second.summary.filesChanged).toBe(hit.length); // read again: their old chunks are gone
    // The first snapshot's chunks are stored again (same ids): it restores whole as well.
    const healed = await restoreInto(first.snapshotId, 'first-healed');
    expect(healed.summary.errors).toEqual([]);
    expect(diffTrees(source, healed.root)).toBe('');

    const report = await repair(repo, { packs: [], index: true, snapshots: true });
    expect(report.index).toMatchObject({ packsDropped: [gone], blobsLost: 0, damagedIndexFiles: [], packsUnreadable: [] });
    expect(report.snapshots).toMatchObject({ rewritten: [], removed: [] });
    await expectClean();
  });

  it('when the files are gone from disk too: repair rewrites the snapshot without them and names each', async () => {
    const first = await backup(repo, { sources: [source] });
    const original = await repo.loadSnapshot(first.snapshotId);
    const gone = (await packs()).data[0]!;
    const hit = await filesIn(first.snapshotId, gone);
    rmSync(packFile(repo, gone));
    await reopen();

    const report = await repair(repo, { packs: [], index: true, snapshots: true });
    expect(report.index!.packsDropped).toEqual([gone]);
    expect(report.index!.blobsLost).toBeGreaterThan(0);
    expect(report.snapshots!.rewritten).toHaveLength(1);
    const rewritten = report.snapshots!.rewritten[0]!;
    expect(rewritten).toMatchObject({ id: first.snapshotId, lostCount: hit.length });
    expect(rewritten.lost).toEqual(hit.map((path) => ({ path, message: 'its data is missing from the repository' })));
    expect(await repo.list('snapshots')).toEqual([rewritten.newId]);
    const marked = await repo.loadSnapshot(rewritten.newId);
    expect(marked.repaired).toMatchObject({ original: first.snapshotId, lostCount: hit.length });
    // The same moment, paths and tags as the snapshot it replaces.
    expect({ time: marked.time, paths: marked.paths, tags: marked.tags }).toEqual({ time: original.time, paths: original.paths, tags: original.tags });
    await expectClean();

    // Everything else is still there, byte for byte.
    const { summary, root } = await restoreInto(rewritten.newId, 'repaired');
    expect(summary.errors).toEqual([]);
    expect(diffTrees(source, root).split('\n').filter(Boolean).sort()).toEqual(hit.map((f) => `Only in ${dirname(join(work, f))}: ${basename(f)}`).sort());
  });

  it('does not stop prune, which leaves the missing pack for repair', async () => {
    const first = await backup(repo, { sources: [source] });
    writeFileSync(join(source, 'letters', 'new.txt'), 'a new letter\n');
    await backup(repo, { sources: [source] });
    const gone = (await packs()).data[0]!;
    rmSync(packFile(repo, gone));
    await reopen();
    expect(await forget(repo, [first.snapshotId])).toBe(1);
    const pruned = await prune(repo);
    expect(pruned.packsLeft).toEqual([gone]);
    expect(pruned.blobsMissing).toBeGreaterThan(0);
    await repair(repo, { packs: [], index: true, snapshots: true });
    await expectClean();
  });
});

describe('a truncated pack', () => {
  it('is not relied on by the next backup; repair saves the blobs before the cut and removes it', async () => {
    const first = await backup(repo, { sources: [source] });
    const cut = (await packs()).data[0]!;
    const path = packFile(repo, cut);
    truncateSync(path, Math.floor(statSync(path).size / 2));
    await reopen();
    const before = await check(repo, { readData: { kind: 'none' } });
    expect(before.damagedPacks).toEqual([cut]);
    expect(before.problems[0]).toEqual({ kind: 'pack', id: cut, message: `Pack ${short(cut)}: its header has no valid trailer.` });

    const second = await backupRestoresWhole('after-truncate');
    expect(second.damage).toEqual([
      { kind: 'pack', id: cut, message: `Pack ${short(cut)} is truncated: it ends before the data the index lists.`, certain: true },
    ]);
    expect(first.snapshotId).not.toBe(second.snapshotId);

    const report = await repair(repo, { packs: [cut], index: true, snapshots: true });
    expect(report.packs).toEqual([{ id: cut, outcome: 'removed', blobsSaved: expect.any(Number), blobsLost: 0 }]);
    expect(report.packs[0]!.blobsSaved).toBeGreaterThan(0);
    // The removed pack is the salvage's to report, not the index's.
    expect(report.index).toMatchObject({ packsDropped: [], blobsLost: 0 });
    expect(readdirSync(join(repoFile(repo, 'data'), cut.slice(0, 2)))).not.toContain(cut);
    await expectClean();
  });
});

describe('a flipped byte in an index file', () => {
  it('is reported and skipped: the next backup indexes its packs again; repair index replaces it', async () => {
    const first = await backup(repo, { sources: [source] });
    const [indexFile] = await repo.list('index');
    flipByte(join(repoFile(repo, 'index'), indexFile!), 40);
    await reopen();

    const before = await check(repo, { readData: { kind: 'none' } });
    expect(before.problems).toEqual([
      { kind: 'index', id: indexFile, message: `Index file ${short(indexFile!)} is damaged (its bytes do not match its name).` },
    ]);
    expect(before.damagedSnapshots).toEqual([]); // its packs are read from their headers
    // Restoring the older snapshot works meanwhile.
    expect((await restoreInto(first.snapshotId, 'meanwhile')).summary.errors).toEqual([]);

    const second = await backupRestoresWhole('after-index');
    expect(second.damage.map((d) => d.kind)).toEqual(['index']);
    const report = await repair(repo, { packs: [], index: true, snapshots: false });
    expect(report.index).toMatchObject({ damagedIndexFiles: [indexFile], packsDropped: [], blobsLost: 0 });
    expect(await repo.list('index')).not.toContain(indexFile);
    await expectClean();
  });
});

describe('a flipped byte in a snapshot file', () => {
  it('never blocks listing, backup, forget, retention or prune; repair removes the file', async () => {
    const first = await backup(repo, { sources: [source] });
    writeFileSync(join(source, 'letters', 'new.txt'), 'a new letter\n');
    const second = await backup(repo, { sources: [source] });
    flipByte(join(repoFile(repo, 'snapshots'), first.snapshotId), 30);
    await reopen();

    const listed = await repo.loadSnapshots();
    expect(listed.snapshots.map((s) => s.id)).toEqual([second.snapshotId]);
    expect(listed.damaged).toEqual([
      { kind: 'snapshot', id: first.snapshotId, message: `Snapshot ${short(first.snapshotId)} is damaged (its bytes do not match its name).`, certain: true },
    ]);
    const third = await backupRestoresWhole('after-snapshot');
    expect(third.damage.map((d) => d.id)).toEqual([first.snapshotId]);
    expect(third.summary.filesUnmodified).toBeGreaterThan(0); // the readable snapshot was its parent
    expect(await forgetByPolicy(repo, { last: 1 })).toEqual([second.snapshotId]);
    await expect(prune(repo)).resolves.toMatchObject({ packsLeft: [] });

    const report = await repair(repo, { packs: [], index: false, snapshots: true });
    expect(report.snapshots!.removed).toEqual([{ id: first.snapshotId, time: null, message: listed.damaged[0]!.message }]);
    await expectClean();
    // forget removes a damaged file by id as well.
    const fourth = await backup(repo, { sources: [source] });
    flipByte(join(repoFile(repo, 'snapshots'), fourth.snapshotId), 30);
    expect(await forget(repo, [fourth.snapshotId])).toBe(1);
  });
});

describe('a flipped byte in a data blob', () => {
  it('is stored again by a backup told to avoid the pack; repair saves the rest of the pack and loses the blob', async () => {
    await backup(repo, { sources: [source] });
    const bad = (await packs()).data[0]!;
    flipByte(packFile(repo, bad), 5000);
    await reopen();
    const found = await check(repo, { readData: { kind: 'all' } });
    expect(found.damagedPacks).toEqual([bad]);

    const second = await backup(repo, { sources: [source], avoidPacks: new Set([bad]) });
    expect(second.damage).toEqual([{ kind: 'pack', id: bad, message: `Pack ${short(bad)} was found damaged by an earlier check.`, certain: true }]);
    const { summary, root } = await restoreInto(second.snapshotId, 'after-flip', new Set([bad]));
    expect(summary.errors).toEqual([]);
    expect(diffTrees(source, root)).toBe('');

    const report = await repair(repo, { packs: [bad], index: true, snapshots: true });
    // The damaged chunk was stored again by the second backup: nothing is lost.
    expect(report.packs).toEqual([{ id: bad, outcome: 'removed', blobsSaved: expect.any(Number), blobsLost: 0 }]);
    await expectClean();
  });

  it('names a pack that turns out intact and leaves it', async () => {
    await backup(repo, { sources: [source] });
    const fine = (await packs()).data[1]!;
    const report = await repair(repo, { packs: [fine], index: true, snapshots: false });
    expect(report.packs).toEqual([{ id: fine, outcome: 'intact', blobsSaved: 0, blobsLost: 0 }]);
    expect((await repo.listPacks()).has(fine)).toBe(true);
    await expectClean();
    // A pack id becomes a path: anything but 64 hex digits is refused before the lock is taken.
    await expect(repair(repo, { packs: ['../../config'], index: false, snapshots: false })).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });
});

describe('a flipped byte in a tree', () => {
  it('loses that folder: repair rewrites the snapshot without it and says so, keeping the rest', async () => {
    const first = await backup(repo, { sources: [source] });
    const { index } = await repo.loadIndex();
    const top = (await repo.loadTree((await repo.loadSnapshot(first.snapshotId)).tree, index)).nodes[0]!;
    const letters = (await repo.loadTree(top.subtree!, index)).nodes.find((n) => n.name === 'letters')!;
    const loc = index.get(letters.subtree!, 'tree')!;
    flipByte(packFile(repo, loc.pack), loc.offset + 20);
    await reopen();
    rmSync(join(source, 'letters'), { recursive: true }); // gone from disk too: no backup can store it again

    const found = await check(repo, { readData: { kind: 'none' } });
    expect(found.damagedPacks).toEqual([loc.pack]);
    expect(found.damagedSnapshots[0]!.files).toEqual(['docs/letters/']);

    const report = await repair(repo, { packs: found.damagedPacks, index: true, snapshots: true });
    expect(report.packs[0]).toMatchObject({ id: loc.pack, outcome: 'removed', blobsLost: 1 });
    expect(report.snapshots!.rewritten[0]!.lost).toEqual([
      { path: 'docs/letters/', message: expect.stringMatching(/^its listing cannot be read \(.+\), so all it held is lost$/) },
    ]);
    await expectClean();
    const { summary, root } = await restoreInto(report.snapshots!.rewritten[0]!.newId, 'without-letters');
    expect(summary.errors).toEqual([]);
    expect(diffTrees(source, root)).toBe('');
  });
});
