/**
 * Worker pools closed at random moments while their threads decompress, in a process of its
 * own (test/integration/thread-end.test.ts): stopping a thread inside zstd-napi aborts the whole
 * process, so the parent only sees whether this one lived. Arguments: repository path, rounds.
 * The master key comes in TWOFOLD_TEST_MASTER (hex). Prints "closed <n>" after every round,
 * with the number of threads still running ("threads <n>") at the end.
 */
import { WorkerPool } from '../../src-main/core/backup/engine/pool.js';
import { Repository } from '../../src-main/core/backup/engine/repository.js';
import { folderStorage } from '../../src-main/core/backup/engine/storage/folder.js';
import { verifyAll, verifyTasks } from './verify-tasks.js';

const [repoPath, rounds] = process.argv.slice(2);
const repo = await Repository.openWithMaster(folderStorage(repoPath!), Buffer.from(process.env.TWOFOLD_TEST_MASTER ?? '', 'hex'));
const { index } = await repo.loadIndex();
const tasks = await verifyTasks(repo, index);

for (let round = 1; round <= Number(rounds); round++) {
  const pool = new WorkerPool(repo, 2);
  // Every pack many times over, so both threads are busy opening blobs when the close lands.
  const answers = verifyAll(pool, tasks, 20);
  await new Promise((resolve) => setTimeout(resolve, 150 + Math.random() * 250));
  await pool.close();
  const codes = new Set(await Promise.all(answers));
  process.stdout.write(`closed ${round} ${[...codes].sort().join(',')}\n`);
}
await repo.close();
