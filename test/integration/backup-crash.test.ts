/**
 * Crash safety (docs/repository-format.md, "Writing files (crash safety)"): a backup process killed with SIGKILL at random moments, again and
 * again, leaves a repository that checks clean every time; the next backup succeeds, reuses the
 * packs the killed runs wrote, and what it stored restores byte for byte.
 */
import { randomInt } from 'node:crypto';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backup } from '../../src-main/core/backup/engine/backup.js';
import { check } from '../../src-main/core/backup/engine/check.js';
import { Repository } from '../../src-main/core/backup/engine/repository.js';
import { restore } from '../../src-main/core/backup/engine/restore.js';
import { diffTrees, pseudoRandom, removeTree, tempDir, TEST_KDF } from '../helpers/backup-fixtures.js';
import { folderStorage } from '../../src-main/core/backup/engine/storage/folder.js';
import { repoPath } from '../helpers/repo-files.js';
import { runKilledAfter } from '../helpers/kill-child.js';

const CHILD = fileURLToPath(new URL('../helpers/backup-child.ts', import.meta.url));
const RUNS = 20;

let work: string;
let source: string;
let repo: Repository;
let master: Buffer;

beforeAll(async () => {
  work = tempDir('crash');
  source = join(work, 'source');
  mkdirSync(source);
  ({ repo, master } = await Repository.init(folderStorage(join(work, 'repo')), 'pw', TEST_KDF));
});
afterAll(() => removeTree(work));

/**
 * Run the child, and kill it `killAfterMs` after it reports that it started backing up (if it is
 * still running): timed from the backup's own start, not the process's, so a slow machine's
 * start-up does not push every kill past the end of the work.
 */
async function runChild(killAfterMs: number): Promise<{ killed: boolean; stdout: string; backupMs: number }> {
  const r = await runKilledAfter(CHILD, [repoPath(repo), source], { TWOFOLD_TEST_MASTER: master.toString('hex') }, killAfterMs);
  return { killed: r.killed, stdout: r.stdout, backupMs: r.workMs };
}

function dataBytes(path: string): number {
  let total = 0;
  for (const sub of readdirSync(join(path, 'data'))) {
    for (const f of readdirSync(join(path, 'data', sub))) total += statSync(join(path, 'data', sub, f)).size;
  }
  return total;
}

describe('a backup killed at random moments', () => {
  it(`leaves a repository that checks clean, ${RUNS} times over, and the next backup reuses its packs`, async () => {
    let sourceBytes = 0;
    let killedMidway = 0;
    // How long one run's backup takes here, from a run left to finish; kills land within it.
    let backupMs = 0;
    for (let run = 0; run <= RUNS; run++) {
      // New data each run (about 2 packs' worth), so every run has real work to be killed in.
      const dir = join(source, `run-${run}`);
      mkdirSync(dir);
      for (let f = 0; f < 12; f++) {
        const data = pseudoRandom(`run ${run} file ${f}`, randomInt(64 * 1024, 5 * 1024 * 1024));
        writeFileSync(join(dir, `file-${f}.bin`), data);
        sourceBytes += data.length;
      }
      for (let f = 0; f < 50; f++) writeFileSync(join(dir, `small-${f}.txt`), `small file ${run}/${f}\n`);
      // Run 0 finishes and is timed; each later run is killed at a random moment of its backup.
      const result = await runChild(run === 0 ? 600_000 : randomInt(0, Math.max(50, backupMs)));
      if (!result.killed) backupMs = result.backupMs;
      if (result.killed && !result.stdout.includes('done')) killedMidway++;
      const report = await check(repo, { readData: { kind: 'none' } });
      expect(report.problems, `run ${run}`).toEqual([]);
      expect(report.ok, `run ${run}`).toBe(true);
    }
    expect(killedMidway).toBeGreaterThanOrEqual(RUNS / 2);

    const { snapshotId, summary } = await backup(repo, { sources: [source] });
    expect(summary.errors).toEqual([]);
    const report = await check(repo, { readData: { kind: 'all' } });
    expect(report.problems).toEqual([]);
    expect(report.unindexedPacks).toEqual([]);
    // Packs written by killed runs were indexed and reused, not written again.
    expect(dataBytes(repoPath(repo))).toBeLessThan(sourceBytes * 1.12);

    const target = join(work, 'restored');
    const { index } = await repo.loadIndex();
    const result = await restore(repo, index, await repo.loadSnapshot(snapshotId), { targetDir: target, onExisting: 'fail' });
    expect(result.errors).toEqual([]);
    expect(diffTrees(source, join(target, 'source'))).toBe('');
    expect(readdirSync(join(repoPath(repo), 'tmp')).filter((n) => n.includes(`-${process.pid}-`))).toEqual([]);
  }, 240_000);
});
