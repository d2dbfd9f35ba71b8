/**
 * Repair a damaged repository (docs/repository-format.md §12), under the exclusive lock, in
 * this order: save what the damaged packs still hold and rebuild the index without them, then
 * delete them; rebuild the index from the packs; rewrite the snapshots that lost something.
 * Each step leaves a readable repository if the process stops: new packs are written before
 * the index that lists them, the index before the packs it no longer lists are deleted, new
 * trees and their index before the snapshots that name them, and a snapshot before the one it
 * replaces is deleted. The report says, for each step, what was saved and what was lost.
 */
import type { Progress } from './backup.js';
import { isHexId } from './format.js';
import { RepoLock } from './lock.js';
import { stopped } from './messages.js';
import { PackCopier } from './pack-copier.js';
import { rebuildIndex, salvagePacks, type IndexRepair, type PackRepair } from './repair-packs.js';
import { repairSnapshots, type SnapshotRepair } from './repair-snapshots.js';
import type { Repository } from './repository.js';

export interface RepairRequest {
  /** Damaged packs to save what they hold from, then delete (a check names them). Implies `index`. */
  packs: readonly string[];
  /** Rebuild the index from the packs' headers, replacing every index file. */
  index: boolean;
  /** Rewrite the snapshots that lost data, without what they lost; delete unreadable snapshot files. */
  snapshots: boolean;
}

export interface RepairReport {
  packs: PackRepair[];
  index: IndexRepair | null;
  snapshots: SnapshotRepair | null;
}

export async function repair(
  repo: Repository,
  request: RepairRequest,
  options: { signal?: AbortSignal; onProgress?: (p: Progress) => void } = {},
): Promise<RepairReport> {
  // Pack ids become paths: only well-formed ones (the contract checks them too).
  if (!request.packs.every(isHexId)) throw stopped.notAPack();
  // Repair removes what it replaces: not with credentials that cannot delete.
  if (repo.storage.appendOnly) throw stopped.appendOnly('repair');
  const lock = await RepoLock.acquire(repo, true);
  const progress = new RepairProgress(options.onProgress);
  const step = () => {
    if (options.signal?.aborted) throw stopped.cancelled('repair');
  };
  try {
    const report: RepairReport = { packs: [], index: null, snapshots: null };
    const targets = [...new Set(request.packs)];
    if (targets.length > 0) {
      const copier = new PackCopier(repo);
      report.packs = await salvagePacks(repo, targets, copier, (id) => (step(), progress.item(`data/${id.slice(0, 2)}/${id}`)));
      await copier.flush();
    }
    const removing = new Set(report.packs.filter((p) => p.outcome === 'removed').map((p) => p.id));
    if (request.index || targets.length > 0) {
      step();
      report.index = await rebuildIndex(repo, removing, (id) => progress.item(`data/${id.slice(0, 2)}/${id}`));
      // Only now, with no index naming them, do the damaged packs go.
      for (const id of removing) await repo.removePack(id);
    }
    if (request.snapshots) {
      step();
      // Lost is what no pack on disk holds by the index: a pack of the wrong size still counts
      // (only salvaging it, above, decides which of its blobs survive).
      const packs = await repo.packNames();
      const loaded = await repo.loadIndex({ packs });
      await repo.indexUnlisted(loaded, packs);
      report.snapshots = await repairSnapshots(repo, loaded.index, new PackCopier(repo), (id) => (step(), progress.item(`snapshots/${id}`)));
    }
    progress.item(null);
    return report;
  } finally {
    await lock.release();
  }
}

/** A repair's progress: the item it is at and how many it has done (no totals: they are not known ahead). */
class RepairProgress {
  private done = 0;

  constructor(private readonly emit?: (p: Progress) => void) {}

  item(current: string | null): void {
    if (current !== null) this.done++;
    this.emit?.({
      filesDone: this.done,
      filesTotal: null,
      bytesDone: 0,
      bytesTotal: null,
      currentFile: current,
      bytesPerSecond: 0,
      etaSeconds: current === null ? 0 : null,
    });
  }
}
