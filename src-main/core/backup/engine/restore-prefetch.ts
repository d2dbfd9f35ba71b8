/**
 * A remote repository's packs fetched ahead of a restore's walk, and let go once restored.
 * Worker threads read packs as local files (Repository.localPack), so a restore from SFTP or S3
 * fetches each pack it needs whole; left to the walk, those fetches run one at a time, each
 * waiting for the walk to reach a file of that pack. As the walk lists a folder, the packs its
 * files need are queued here, in the order the walk will want them, and fetched up to the
 * storage's connections at once (as restic's restorer downloads packs in parallel). The walk
 * asks for the same packs; Repository.localPack gives both one fetch.
 *
 * A fetched pack's local file is held by each queued file that reads it and released when the
 * last of them is restored (LocalStaging keeps the latest released ones, up to KEEP_STAGED
 * packs in all), and the prefetch waits while KEEP_STAGED packs are in use: a restore needs
 * local room for a few dozen packs, never for the whole snapshot (a pack wanted again after its
 * file was removed, by deduplicated data, is fetched again). A folder repository needs none of
 * it: its packs are local files already.
 */
import type { MasterIndex } from './index.js';
import { KEEP_STAGED } from './local-staging.js';
import type { Repository } from './repository.js';
import type { TreeNode } from './tree.js';
import type { RestoreBlob } from './worker.js';

export class PackPrefetch {
  private readonly queue: string[] = [];
  private readonly seen = new Set<string>();
  /** Queued files' chunks in each pack (a file counts once per chunk it reads there). */
  private readonly holders = new Map<string, number>();
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

  /** A file about to be queued reads these packs: their local files stay until `letGo`. */
  hold(packs: readonly string[]): void {
    for (const pack of packs) this.holders.set(pack, (this.holders.get(pack) ?? 0) + 1);
  }

  /** A file is restored (or failed): the packs no other queued file reads are removed. */
  letGo(node: TreeNode): void {
    for (const id of node.content ?? []) {
      const pack = this.index.get(id, 'data')?.pack;
      const left = pack === undefined ? undefined : this.holders.get(pack);
      if (left === undefined) continue;
      if (left > 1) this.holders.set(pack!, left - 1);
      else {
        this.holders.delete(pack!);
        this.repo.releasePack(pack!);
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
    while (!this.stopped && this.active < this.slots && this.queue.length > 0 && this.repo.stagedPacks() < KEEP_STAGED) {
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

/**
 * Where each chunk of a file lies (the local file of its pack: Repository.localPack), or null
 * when some chunk is in no index (its data is lost). Its packs are held first (before any wait,
 * so none is let go meanwhile); the caller lets them go when the file is done.
 */
export async function blobsOf(repo: Repository, index: MasterIndex, node: TreeNode, prefetch: PackPrefetch | null): Promise<RestoreBlob[] | null> {
  const locs = [];
  for (const id of node.content ?? []) {
    const loc = index.get(id, 'data');
    if (!loc) return null;
    locs.push({ id, loc });
  }
  prefetch?.hold(locs.map((l) => l.loc.pack));
  const blobs: RestoreBlob[] = [];
  for (const { id, loc } of locs) {
    const pack = await repo.localPack(loc.pack);
    blobs.push({ id, pack, offset: loc.offset, length: loc.length, rawLength: loc.rawLength, compressed: loc.compressed });
  }
  return blobs;
}
