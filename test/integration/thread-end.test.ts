/**
 * How the engine's threads end (threads.ts: endThread). A thread stopped wherever it is
 * (`worker.terminate()`) aborts the whole process when the stop lands inside zstd-napi:
 * node-addon-api throws into the ending environment ("terminate called after throwing an
 * instance of 'Napi::Error'"). So a closing pool, a finished walk and a finished count ask their
 * threads to end between two pieces of work, and wait until they have.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { backup } from '../../src-main/core/backup/engine/backup.js';
import { WorkerPool } from '../../src-main/core/backup/engine/pool.js';
import { Repository } from '../../src-main/core/backup/engine/repository.js';
import { restore } from '../../src-main/core/backup/engine/restore.js';
import { folderStorage } from '../../src-main/core/backup/engine/storage/folder.js';
import { endThread } from '../../src-main/core/backup/engine/threads.js';
import { removeTree, tempDir, TEST_KDF } from '../helpers/backup-fixtures.js';
import { verifyAll, verifyTasks } from '../helpers/verify-tasks.js';

const CHILD = fileURLToPath(new URL('../helpers/pool-close-child.ts', import.meta.url));

let work: string;
let repo: Repository;
let master: Buffer;
let source: string;

/** Text that zstd compresses well: every blob a restore or check opens is decompressed. */
function writeText(path: string, seed: number): void {
  const lines: string[] = [];
  for (let j = 0; j < 60_000; j++) lines.push(`line ${seed} ${j} ${((j * 2654435761) >>> 0).toString(16)} the quick brown fox jumps`);
  writeFileSync(path, lines.join('\n'));
}

beforeAll(async () => {
  work = tempDir('thread-end');
  source = join(work, 'source');
  mkdirSync(source);
  for (let i = 0; i < 12; i++) writeText(join(source, `notes-${i}.txt`), i);
  ({ repo, master } = await Repository.init(folderStorage(join(work, 'repo')), 'repository password', TEST_KDF));
  await backup(repo, { sources: [source] });
});
afterAll(async () => {
  await repo.close();
  removeTree(work);
});

function run(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

/** The OS threads of this process (Linux): each worker thread is one while it runs. */
function osThreads(): number {
  return Number(/^Threads:\s+(\d+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
}

describe('a worker pool', () => {
  it('is closed without stopping any thread where it is, and close resolves once each has ended', async () => {
    const terminate = vi.spyOn(Worker.prototype, 'terminate');
    try {
      const before = osThreads();
      const { index } = await repo.loadIndex();
      const pool = new WorkerPool(repo, 2);
      const answers = verifyAll(pool, await verifyTasks(repo, index), 10);
      await answers[0];
      await pool.close();
      expect(terminate).not.toHaveBeenCalled();
      expect(osThreads()).toBe(before);
      const codes = new Set(await Promise.all(answers));
      expect(codes).toEqual(new Set(['verified', 'CANCELLED']));
    } finally {
      terminate.mockRestore();
    }
  });

  it('closed at random moments while its threads decompress, never ends the process (20 rounds)', async () => {
    const r = await run(CHILD, [join(work, 'repo'), '20'], { TWOFOLD_TEST_MASTER: master.toString('hex') });
    expect(r.stderr).not.toContain('terminate called');
    expect({ code: r.code, signal: r.signal }).toEqual({ code: 0, signal: null });
    const rounds = r.stdout.trim().split('\n');
    expect(rounds).toHaveLength(20);
    // Each round's tasks were verified, or refused with CANCELLED by the close: nothing else.
    for (const line of rounds) expect(line).toMatch(/^closed \d+ (CANCELLED|CANCELLED,verified|verified)$/);
  }, 120_000);
});

describe('a first backup, an incremental one and a restore', () => {
  it('end their threads (the count, the walker, the pool) without stopping any where it is, and leave none running', async () => {
    const terminate = vi.spyOn(Worker.prototype, 'terminate');
    try {
      const before = osThreads();
      const fresh = (await Repository.init(folderStorage(join(work, 'second')), 'repository password', TEST_KDF)).repo;
      // The first backup counts its files on a thread of its own; the next walks ahead on one.
      await backup(fresh, { sources: [source] });
      writeText(join(source, 'notes-new.txt'), 99);
      await backup(fresh, { sources: [source] });
      const target = join(work, 'restored');
      await restore(fresh, (await fresh.loadIndex()).index, (await fresh.snapshots()).at(-1)!, { targetDir: target, onExisting: 'fail', threads: 2 });
      await fresh.close();
      expect(terminate).not.toHaveBeenCalled();
      expect(osThreads()).toBe(before);
      expect(readFileSync(join(target, 'source', 'notes-new.txt'))).toEqual(readFileSync(join(source, 'notes-new.txt')));
    } finally {
      terminate.mockRestore();
    }
  }, 60_000);
});

describe('endThread', () => {
  /** A thread that waits for its flag to be set, then ends. */
  const waiting = () => {
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const worker = new Worker(
      `const { workerData } = require('node:worker_threads');
       while (Atomics.load(workerData, 0) === 0) Atomics.wait(workerData, 0, 0, 5);`,
      { eval: true, workerData: flag },
    );
    return { worker, flag, online: new Promise((resolve) => worker.once('online', resolve)) };
  };

  it('resolves once a thread asked to end has ended', async () => {
    const { worker, flag, online } = waiting();
    await online;
    await endThread(worker, () => Atomics.store(flag, 0, 1));
    expect(worker.threadId).toBe(-1);
  });

  it('leaves a thread that does not end in time running, never stopping it where it is, and holds nothing up', async () => {
    const { worker, flag, online } = waiting();
    await online;
    const asked: string[] = [];
    await endThread(worker, () => asked.push('asked'), 200);
    expect(asked).toEqual(['asked']);
    expect(worker.threadId).not.toBe(-1);
    Atomics.store(flag, 0, 1);
    await new Promise((resolve) => worker.once('exit', resolve));
  });

  it('returns at once for a thread that has ended already', async () => {
    const worker = new Worker('0', { eval: true });
    await new Promise((resolve) => worker.once('exit', resolve));
    const asked: string[] = [];
    await endThread(worker, () => asked.push('asked'));
    expect(asked).toEqual([]);
  });
});
