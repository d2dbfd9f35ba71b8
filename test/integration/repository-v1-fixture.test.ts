/**
 * The frozen version-1 repository in test/fixtures/repo-v1: written once, by the engine of
 * 2026-12-02, and never regenerated. Every later version of the engine must open it with its
 * password, list its two snapshots, restore both exactly as they were taken, and check it clean
 * reading every byte. A change to the format that breaks old repositories fails here, however
 * well its own round trips pass. (The fixture has no empty folders: git keeps none, as object
 * storage keeps none, so the reader must not need them.)
 */
import { createHash } from 'node:crypto';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { check } from '../../src-main/core/backup/engine/check.js';
import { Repository } from '../../src-main/core/backup/engine/repository.js';
import { restore } from '../../src-main/core/backup/engine/restore.js';
import { removeTree, statTree, tempDir } from '../helpers/backup-fixtures.js';
import { folderStorage } from '../../src-main/core/backup/engine/storage/folder.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/repo-v1', import.meta.url));
const PASSWORD = 'frozen fixture password';
const FIRST = 'c7cfe3582badb784a6adf171d4c56d0dec5505a086dfab94f646b2b76af7e8ce';
const SECOND = '380b93fefcf920019f9dd8b30cc737a80a74ef7fd0ebc4f08c8c206afadf666a';

type Entry = [path: string, type: string, mode: string, size: number, mtime: string, shaOrLink: string | null];

/** What both snapshots hold, as the source tree was when each was taken. */
const UNCHANGED: Entry[] = [
  ['chunks.bin', 'file', '0o644', 1500000, '2026-01-02T03:04:12.000Z', '61874cfd6d77cc30e41d913995dac7cd70d848a48ea4ce810955ddf5441ce63a'],
  ['empty-folder', 'dir', '0o755', 0, '2026-01-02T03:04:25.000Z', null],
  ['empty.txt', 'file', '0o644', 0, '2026-01-02T03:04:06.000Z', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
  ['link-to-hello', 'symlink', '0o777', 0, '2026-01-02T03:04:13.000Z', 'hello.txt'],
  ['notes/café ünïcödé.md', 'file', '0o644', 14, '2026-01-02T03:04:10.000Z', 'fa48f384e15fd33b943d5fb85749614d3606e6307c18fd0d4440e9af49f50944'],
  ['notes/log.txt', 'file', '0o644', 140000, '2026-01-02T03:04:11.000Z', 'eba6379198997ad452d5a91055ffae1208a2fa36a4384f7a72376d476f517c6e'],
  ['private.key', 'file', '0o600', 17, '2026-01-02T03:04:09.000Z', '28ed7a9156c45a57912770493dd803ae9ccb18f4e1256bc1441a31915e5d0d0f'],
  ['script.sh', 'file', '0o755', 22, '2026-01-02T03:04:08.000Z', 'e0952ae6339e34924a7d4fce219ade34e06f033e96cfff34dfdf9f27ca9fbbdb'],
];
const FIRST_TREE: Entry[] = [
  ...UNCHANGED,
  ['hello.txt', 'file', '0o644', 25, '2026-01-02T03:04:07.000Z', sha256('hello, frozen repository\n')],
  ['notes', 'dir', '0o755', 0, '2026-01-02T03:04:26.000Z', null],
];
const SECOND_TREE: Entry[] = [
  ...UNCHANGED,
  ['hello.txt', 'file', '0o644', 31, '2026-01-02T03:04:35.000Z', sha256('hello again, frozen repository\n')],
  ['notes', 'dir', '0o755', 0, '2026-01-02T03:04:37.000Z', null],
  ['notes/added.txt', 'file', '0o640', 29, '2026-01-02T03:04:36.000Z', sha256('added in the second snapshot\n')],
];

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function entries(root: string): Entry[] {
  return statTree(root).map((e) => [
    e.path,
    e.type,
    `0o${e.mode.toString(8)}`,
    e.size,
    new Date(e.mtimeMs).toISOString(),
    e.type === 'file' ? sha256(readFileSync(join(root, e.path))) : e.link,
  ]);
}

const byPath = (a: Entry, b: Entry) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

let work: string;
let repo: Repository;

beforeAll(async () => {
  work = tempDir('fixture-v1');
  // A copy: opening, restoring and checking may write locks, and the fixture must stay as frozen.
  cpSync(FIXTURE, join(work, 'repo'), { recursive: true });
  repo = (await Repository.openWithPassword(folderStorage(join(work, 'repo')), PASSWORD)).repo;
});
afterAll(() => removeTree(work));

describe('the frozen version-1 repository', () => {
  it('opens with its password', () => {
    expect(repo).toBeInstanceOf(Repository);
  });

  it('lists both snapshots with their paths, tags and summaries', async () => {
    const snapshots = await repo.snapshots();
    const list = snapshots.map((s) => ({ id: s.id, paths: s.paths, tags: s.tags, files: s.summary.files, bytes: s.summary.bytes }));
    expect(list.sort((a, b) => (a.id < b.id ? -1 : 1))).toEqual([
      { id: SECOND, paths: ['/tmp/fixgen/documents'], tags: ['fixture'], files: 8, bytes: 1640113 },
      { id: FIRST, paths: ['/tmp/fixgen/documents'], tags: ['fixture'], files: 7, bytes: 1640078 },
    ]);
  });

  it.each([
    ['first', FIRST, FIRST_TREE],
    ['second', SECOND, SECOND_TREE],
  ])('restores the %s snapshot exactly as it was taken', async (_name, id, expected) => {
    const { index } = await repo.loadIndex();
    const target = join(work, `restored-${id.slice(0, 8)}`);
    const summary = await restore(repo, index, await repo.loadSnapshot(id), { targetDir: target, onExisting: 'fail' });
    expect(summary.errors).toEqual([]);
    expect(entries(join(target, 'documents'))).toEqual([...expected].sort(byPath));
  });

  it('checks clean, reading every byte', async () => {
    const report = await check(repo, { readData: { kind: 'all' } });
    expect(report.problems).toEqual([]);
    expect(report.damagedPacks).toEqual([]);
  });
});
