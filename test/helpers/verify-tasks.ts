/**
 * A check's verify tasks for every pack of a repository, and a pool given them many times over,
 * for the tests that close a pool while its threads work (thread-end.test.ts, pool-close-child.ts).
 */
import { blobsToVerify } from '../../src-main/core/backup/engine/check.js';
import type { MasterIndex } from '../../src-main/core/backup/engine/index.js';
import type { WorkerPool } from '../../src-main/core/backup/engine/pool.js';
import type { Repository } from '../../src-main/core/backup/engine/repository.js';
import type { VerifyTask } from '../../src-main/core/backup/engine/worker.js';

export function verifyTasks(repo: Repository, index: MasterIndex): Promise<VerifyTask[]> {
  return Promise.all(
    index.packIds().map(async (packId) => ({ kind: 'verify' as const, path: await repo.localPack(packId), packId, blobs: blobsToVerify(index, packId) })),
  );
}

/** Each task `times` over: 'verified', or the code the task was refused with (CANCELLED by a close). */
export function verifyAll(pool: WorkerPool, tasks: readonly VerifyTask[], times: number): Promise<string | undefined>[] {
  return Array.from({ length: times }, () => tasks)
    .flat()
    .map((t) =>
      pool.verify(t).then(
        () => 'verified',
        (e: unknown) => (e as { code?: string }).code,
      ),
    );
}
