/**
 * Repository locks, as restic has them: adding data takes a shared lock (many at once), removing
 * data (forget, prune) takes an exclusive one. A lock is a small plain JSON object in locks/,
 * written through the repository's Storage like any other. While held it is refreshed by
 * writing a new lock object and then deleting the old one (objects are create-only, and an
 * object store has no rename). It is stale when its process is gone (same host) or it has not
 * been refreshed for STALE_MS (the only test another host can make); stale locks are removed
 * by whoever finds them.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { z } from 'zod';
import { CoreError } from '../../platform/errors.js';
import type { Repository } from './repository.js';
import { isStorageError } from './storage/storage.js';

export const REFRESH_MS = 5 * 60_000;
export const STALE_MS = 30 * 60_000;

const LockSchema = z.object({
  host: z.string(),
  pid: z.number().int(),
  time: z.number().int(),
  exclusive: z.boolean(),
});
export type LockInfo = z.infer<typeof LockSchema>;

export function isStale(lock: LockInfo, now: number, thisHost: string, alive: (pid: number) => boolean): boolean {
  if (now - lock.time > STALE_MS) return true;
  return lock.host === thisHost && !alive(lock.pid);
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Locks this process let go of but could not delete: an append-only account may write a lock
 * but not remove it (docs/repository-format.md, "Storage"), and a storage may be unreachable.
 * This process knows they are not held, although its pid is alive; any other process finds them
 * stale by their time.
 */
const leftBehind = new Set<string>();

/** Delete a lock object; when the storage refuses (append-only credentials) it stays, left behind. */
async function removeLock(repo: Repository, id: string): Promise<void> {
  try {
    await repo.storage.delete(`locks/${id}`);
    leftBehind.delete(id);
  } catch (e) {
    if (!isStorageError(e, 'PERMISSION_DENIED')) throw e;
    leftBehind.add(id);
  }
}

export class RepoLock {
  private timer: NodeJS.Timeout | null = null;

  private refreshing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly repo: Repository,
    /** The lock object's id (a new one after each refresh). */
    public id: string,
    private readonly info: LockInfo,
  ) {}

  static async acquire(repo: Repository, exclusive: boolean): Promise<RepoLock> {
    const info: LockInfo = { host: hostname(), pid: process.pid, time: Date.now(), exclusive };
    const id = randomBytes(32).toString('hex');
    await repo.storage.write(`locks/${id}`, Buffer.from(JSON.stringify(info)));
    const lock = new RepoLock(repo, id, info);
    // Check after writing ours, so two racing takers both see each other and one backs off.
    for (const other of await repo.list('locks')) {
      if (other === id) continue;
      const theirs = await readLock(repo, other);
      if (!theirs) continue;
      if (leftBehind.has(other) || isStale(theirs, Date.now(), info.host, pidAlive)) {
        await removeLock(repo, other);
        continue;
      }
      if (exclusive || theirs.exclusive) {
        await lock.release();
        throw new CoreError(
          'REPO_LOCKED',
          theirs.exclusive
            ? 'The repository is being cleaned up by another process. Try again when it has finished.'
            : 'The repository is in use by another backup. Try again when it has finished.',
        );
      }
    }
    lock.timer = setInterval(() => {
      lock.refreshing = lock.refreshing.then(() => lock.refresh());
    }, REFRESH_MS);
    lock.timer.unref();
    return lock;
  }

  /** A new lock object with the time of now, then the old one deleted: never a moment without one. */
  async refresh(): Promise<void> {
    const info: LockInfo = { ...this.info, time: Date.now() };
    const id = randomBytes(32).toString('hex');
    try {
      await this.repo.storage.write(`locks/${id}`, Buffer.from(JSON.stringify(info)));
    } catch {
      return; // the old one stays; the next refresh tries again
    }
    const old = this.id;
    this.id = id;
    this.info.time = info.time;
    await removeLock(this.repo, old).catch(() => undefined);
  }

  async release(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.refreshing;
    try {
      await removeLock(this.repo, this.id);
    } catch (e) {
      // The storage went away: the lock stays there, but this process knows it holds it no more.
      leftBehind.add(this.id);
      throw e;
    }
  }
}

async function readLock(repo: Repository, id: string): Promise<LockInfo | null> {
  try {
    const parsed = LockSchema.safeParse(JSON.parse((await repo.storage.read(`locks/${id}`)).toString('utf8')));
    // Locks are written atomically, so a malformed one was not written by us: ignore it.
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
