/**
 * A restore killed with SIGKILL at random moments leaves no wrong file under a name the snapshot
 * gives, only temporary files; a re-run that skips existing files removes those and leaves the
 * tree identical to the snapshot by `diff -r`, `stat`, `getfattr -d` and link counts, ten times
 * over. Leftovers of processes that are gone are removed; those of a running restore are not.
 */
import { createHash, randomInt } from 'node:crypto';
import { mkdirSync, readdirSync, writeFileSync, existsSync, lstatSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backup } from '../../src-main/core/backup/engine/backup.js';
import { Repository } from '../../src-main/core/backup/engine/repository.js';
import { restore } from '../../src-main/core/backup/engine/restore.js';
import { pseudoRandom, removeTree, tempDir, TEST_KDF } from '../helpers/backup-fixtures.js';
import { diffTree, makeEdgeTree, reportTree, type TreeReport } from '../helpers/edge-tree.js';
import { folderStorage } from '../../src-main/core/backup/engine/storage/folder.js';
import { repoPath } from '../helpers/repo-files.js';
import { runKilledAfter } from '../helpers/kill-child.js';

const CHILD = fileURLToPath(new URL('../helpers/restore-child.ts', import.meta.url));
const RUNS = 10;

let work: string;
let source: string;
let repo: Repository;
let master: Buffer;
let snapshotId: string;
let before: TreeReport;

beforeAll(async () => {
  work = tempDir('restore-crash');
  source = join(work, 'source');
  makeEdgeTree(source);
  // Data enough that kills land inside files, between them and between folders.
  for (let d = 0; d < 4; d++) {
    const dir = join(source, `bulk-${d}`);
    mkdirSync(dir);
    for (let f = 0; f < 6; f++)
      writeFileSync(join(dir, `file-${f}.bin`), pseudoRandom(`bulk ${d}/${f}`, 64 * 1024 + (((d * 6 + f) * 523_357) % (5 * 1024 * 1024))));
    for (let f = 0; f < 40; f++) writeFileSync(join(dir, `small-${f}.txt`), `small file ${d}/${f}\n`);
  }
  writeFileSync(join(source, 'large.bin'), pseudoRandom('large', 24 * 1024 * 1024));
  before = reportTree(source);
  ({ repo, master } = await Repository.init(folderStorage(join(work, 'repo')), 'pw', TEST_KDF));
  const result = await backup(repo, { sources: [source] });
  expect(result.summary.errors).toEqual([]);
  snapshotId = result.snapshotId;
}, 120_000);
afterAll(() => removeTree(work));

/** Run the child, and kill it `killAfterMs` after it reports that it started restoring (if it still runs). */
async function runChild(target: string, killAfterMs: number): Promise<{ killed: boolean; stdout: string; restoreMs: number }> {
  const r = await runKilledAfter(CHILD, [repoPath(repo), snapshotId, target], { TWOFOLD_TEST_MASTER: master.toString('hex') }, killAfterMs);
  return { killed: r.killed, stdout: r.stdout, restoreMs: r.workMs };
}

/** Every name below `root` that is a restore's temporary file. */
function temporaryFiles(root: string): string[] {
  const out: string[] = [];
  const visit = (dir: Buffer) => {
    for (const name of readdirSync(dir, { encoding: 'buffer' })) {
      const path = Buffer.concat([dir, Buffer.from('/'), name]);
      if (name.toString('latin1').startsWith('.twofold-restore-')) out.push(path.toString('latin1'));
      if (lstatSync(path).isDirectory()) visit(path);
    }
  };
  visit(Buffer.from(root));
  return out;
}

function expectIdentical(restored: string): void {
  const after = reportTree(restored);
  expect(after.atimeNotMtime).toEqual([]);
  expect(after.stat).toBe(before.stat);
  expect(after.xattrs).toBe(before.xattrs);
  expect(after.links).toEqual(before.links);
  expect(diffTree(source, restored)).toBe('');
}

describe('a restore killed at random moments', () => {
  it(`is finished by a re-run that skips existing files, leaving the tree identical to the snapshot, ${RUNS} times over`, async () => {
    // One run left to finish: how long a restore takes here, and that the child restores right.
    const whole = await runChild(join(work, 'whole'), 600_000);
    expect(whole.stdout).toContain('done');
    expectIdentical(join(work, 'whole', 'source'));
    let killedMidway = 0;
    let leftovers = 0;
    for (let run = 1; run <= RUNS; run++) {
      const target = join(work, `run-${run}`);
      const killed = await runChild(target, randomInt(0, Math.max(50, whole.restoreMs)));
      if (killed.killed && !killed.stdout.includes('done')) killedMidway++;
      if (existsSync(target)) leftovers += temporaryFiles(target).length;
      const { index } = await repo.loadIndex();
      const summary = await restore(repo, index, await repo.loadSnapshot(snapshotId), { targetDir: target, onExisting: 'skip' });
      expect(summary.errors, `run ${run}`).toEqual([]);
      // Access times first: listing a folder sets its access time.
      expectIdentical(join(target, 'source'));
      expect(temporaryFiles(target), `run ${run}`).toEqual([]);
    }
    expect(killedMidway).toBeGreaterThanOrEqual(RUNS / 2);
    // Some kill landed while a file was being written, and its temporary file was removed.
    expect(leftovers).toBeGreaterThan(0);
  }, 300_000);

  it('removes temporary files whose process is gone, and keeps those of a process that still runs', async () => {
    const target = join(work, 'leftovers');
    mkdirSync(join(target, 'source'), { recursive: true });
    const host = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);
    const dead = join(target, 'source', `.twofold-restore-${host}-999999999-0123abcd-0.part`);
    const alive = join(target, 'source', `.twofold-restore-${host}-${process.ppid}-0123abcd-1.part`);
    const top = join(target, `.twofold-restore-${host}-999999999-0123abcd-2.part`);
    for (const p of [dead, alive, top]) writeFileSync(p, 'half a file');
    const { index } = await repo.loadIndex();
    const summary = await restore(repo, index, await repo.loadSnapshot(snapshotId), { targetDir: target, onExisting: 'skip' });
    expect(summary.errors).toEqual([]);
    expect([existsSync(dead), existsSync(alive), existsSync(top)]).toEqual([false, true, false]);
  }, 60_000);
});
