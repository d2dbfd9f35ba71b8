/**
 * A remote repository's packs fetched ahead of a restore's walk. Worker threads read packs as
 * local files (Repository.localPack), so a restore from SFTP or S3 fetches each pack it needs
 * whole; left to the walk, those fetches run one at a time, each waiting for the walk to reach a
 * file of that pack. As the walk lists a folder, the packs its files need are queued here, in the
 * order the walk will want them, and fetched up to the storage's connections at once (as restic's
 * restorer downloads packs in parallel). The walk asks for the same packs; Repository.localPack
 * gives both one fetch. A folder repository needs none of it: its packs are local files already.
 */
import type { MasterIndex } from './index.js';
import type { Repository } from './repository.js';
import type { TreeNode } from './tree.js';

export class PackPrefetch {
  private readonly queue: string[] = [];
  private readonly seen = new Set<string>();
  private active = 0;
  private stopped = false;

  private constructor(
    private readonly repo: Repository,
    private readonly index: MasterIndex,
    private readonly slots: number,
  ) {}

  /** A prefetch for a repository whose packs are not local files; null for a folder repository. */
  static for(repo: Repository, index: MasterIndex): PackPrefetch | null {
    if (repo.storage.localPath) return null;
    return new PackPrefetch(repo, index, Math.max(1, Math.floor(repo.storage.connections ?? 1)));
  }

  /** The entries of a folder the walk has just listed: the packs of its files, queued in order. */
  folder(nodes: readonly TreeNode[]): void {
    if (this.stopped) return;
    for (const node of nodes) {
      if (node.type !== 'file') continue;
      for (const id of node.content ?? []) {
        const pack = this.index.get(id, 'data')?.pack;
        if (pack === undefined || this.seen.has(pack)) continue;
        this.seen.add(pack);
        this.queue.push(pack);
      }
    }
    this.pump();
  }

  /** No further fetches start (the restore ended or stopped); those in flight finish. */
  stop(): void {
    this.stopped = true;
    this.queue.length = 0;
  }

  private pump(): void {
    while (!this.stopped && this.active < this.slots && this.queue.length > 0) {
      const pack = this.queue.shift()!;
      this.active++;
      // localPack never rejects: a pack it cannot fetch becomes a name the worker reports as missing.
      void this.repo.localPack(pack).finally(() => {
        this.active--;
        this.pump();
      });
    }
  }
}
