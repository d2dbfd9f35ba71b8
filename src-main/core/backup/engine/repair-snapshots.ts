/**
 * Repair's last step (docs/repository-format.md §12): every snapshot that lost something is
 * rewritten without it, keeping all that can be kept. A file whose data no index lists (or
 * lists in a pack that is gone) is left out, never kept with a hole; a folder whose listing
 * cannot be read is left out with what it held. The new snapshot keeps the old one's time,
 * paths and tags and says in `repaired` what it lost and which snapshot it replaces; then the
 * old snapshot file is deleted. A snapshot file that cannot be opened is deleted (nothing in it
 * can be read). New trees go into new packs and an index file before any snapshot names them.
 */
import { compress } from 'zstd-napi';
import { CoreError } from '../../platform/errors.js';
import { blobAad, blobId, encrypt, ZSTD_LEVEL } from './format.js';
import { indexFileFor, type MasterIndex } from './index.js';
import type { PackCopier } from './pack-copier.js';
import type { RepoProblem, Repository } from './repository.js';
import type { Snapshot, SnapshotWithId } from './snapshot.js';
import { encodeTree, type TreeNode } from './tree.js';

/** Lost items named per snapshot; the count covers the rest. */
const LOST_NAMED = 1000;

export interface SnapshotRepair {
  snapshotsChecked: number;
  /** Snapshots rewritten without what they lost: the old id, the new one, and what is gone. */
  rewritten: { id: string; newId: string; time: string; lost: { path: string; message: string }[]; lostCount: number }[];
  /** Snapshot files deleted: unreadable, or with nothing left (their top folder lost). */
  removed: { id: string; time: string | null; message: string }[];
  /** Snapshot files that could not be read for a reason that may pass: left as they are. */
  skipped: RepoProblem[];
}

interface Rewritten {
  /** The tree's id after the repair (the same when nothing below it was lost); null: the tree itself is lost. */
  id: string | null;
  /** What is lost below it, paths relative to it. */
  lost: { path: string; message: string }[];
  /** Why the tree itself is lost. */
  why?: string;
}

const LOST_DATA = 'its data is missing from the repository';
const lostListing = (why: string) => `its listing cannot be read (${why}), so all it held is lost`;

class TreeRewriter {
  private readonly done = new Map<string, Rewritten>();
  /** Tree blobs stored by this repair (hex ids), so none is stored twice. */
  private readonly stored = new Set<string>();

  constructor(
    private readonly repo: Repository,
    private readonly index: MasterIndex,
    private readonly copier: PackCopier,
  ) {}

  get storedTrees(): number {
    return this.stored.size;
  }

  async rewrite(treeId: string): Promise<Rewritten> {
    const known = this.done.get(treeId);
    if (known) return known;
    let nodes: TreeNode[];
    try {
      nodes = (await this.repo.loadTree(treeId, this.index, { cache: false })).nodes;
    } catch (e) {
      if (!(e instanceof CoreError) || e.code !== 'REPO_DAMAGED') throw e; // the disk failed: stop, change nothing more
      const lost: Rewritten = { id: null, lost: [], why: e.message };
      this.done.set(treeId, lost);
      return lost;
    }
    const kept: TreeNode[] = [];
    const lost: Rewritten['lost'] = [];
    let changed = false;
    for (const node of nodes) {
      if (node.type === 'file' && (node.content ?? []).some((c) => !this.index.has(c, 'data'))) {
        lost.push({ path: node.name, message: LOST_DATA });
        changed = true;
        continue;
      }
      if (node.type === 'dir' && node.subtree) {
        const sub = await this.rewrite(node.subtree);
        if (sub.id === null) {
          lost.push({ path: `${node.name}/`, message: lostListing(sub.why ?? 'damaged') });
          changed = true;
          continue;
        }
        for (const l of sub.lost) lost.push({ path: `${node.name}/${l.path}`, message: l.message });
        if (sub.id !== node.subtree) {
          kept.push({ ...node, subtree: sub.id });
          changed = true;
          continue;
        }
      }
      kept.push(node);
    }
    const result: Rewritten = { id: changed ? await this.store(kept) : treeId, lost };
    this.done.set(treeId, result);
    return result;
  }

  private async store(nodes: TreeNode[]): Promise<string> {
    const plain = encodeTree(nodes);
    const id = blobId(this.repo.keys.id, plain);
    const hex = id.toString('hex');
    if (this.index.has(hex, 'tree') || this.stored.has(hex)) return hex;
    const packed = compress(plain, { compressionLevel: ZSTD_LEVEL });
    const useZstd = packed.length < plain.length;
    await this.copier.add(
      { id: hex, type: 'tree', compressed: useZstd, rawLength: plain.length },
      encrypt(this.repo.keys.data, useZstd ? packed : plain, blobAad('tree', id)),
    );
    this.stored.add(hex);
    return hex;
  }
}

/**
 * Rewrite every snapshot that lost something (see above). `index` is the repository's index as
 * it stands after the earlier steps: what it does not hold is lost.
 */
export async function repairSnapshots(
  repo: Repository,
  index: MasterIndex,
  copier: PackCopier,
  onSnapshot: (id: string) => void,
  now: () => Date = () => new Date(),
): Promise<SnapshotRepair> {
  const { snapshots, damaged } = await repo.loadSnapshots();
  const report: SnapshotRepair = { snapshotsChecked: snapshots.length + damaged.length, rewritten: [], removed: [], skipped: [] };
  const rewriter = new TreeRewriter(repo, index, copier);
  const replaced: { old: SnapshotWithId; next: Snapshot | null; lostCount: number; why?: string }[] = [];
  for (const s of snapshots) {
    onSnapshot(s.id);
    const r = await rewriter.rewrite(s.tree);
    if (r.id === null) replaced.push({ old: s, next: null, lostCount: 0, why: r.why });
    else if (r.id !== s.tree || r.lost.length > 0) {
      const lost = [...r.lost].sort((a, b) => a.path.localeCompare(b.path));
      const { id: _old, ...rest } = s;
      // Repaired before: what it lost then is still lost.
      const all = [...(s.repaired?.lost ?? []), ...lost];
      const repaired = { time: now().toISOString(), original: s.id, lost: all.slice(0, LOST_NAMED), lostCount: (s.repaired?.lostCount ?? 0) + lost.length };
      replaced.push({ old: s, next: { ...rest, tree: r.id, repaired }, lostCount: lost.length });
    }
  }
  // New trees are indexed before any snapshot names them.
  await copier.flush();
  if (copier.written.size > 0) await repo.saveSealed('index', indexFileFor(copier.written));
  for (const { old, next, lostCount, why } of replaced) {
    if (next) {
      const newId = await repo.saveSnapshot(next);
      report.rewritten.push({ id: old.id, newId, time: old.time, lost: next.repaired?.lost ?? [], lostCount });
    } else {
      report.removed.push({
        id: old.id,
        time: old.time,
        message: `its top folder's listing cannot be read (${why ?? 'damaged'}): nothing in it can be restored`,
      });
    }
    await repo.removeFile('snapshots', old.id);
  }
  for (const d of damaged) {
    if (!d.certain) {
      report.skipped.push(d);
      continue;
    }
    onSnapshot(d.id);
    report.removed.push({ id: d.id, time: null, message: d.message });
    await repo.removeFile('snapshots', d.id);
  }
  return report;
}
