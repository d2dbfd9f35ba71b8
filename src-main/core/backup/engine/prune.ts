/**
 * Forget and prune. Forget removes snapshot files chosen by id or by retention rules (restic's
 * semantics: for each rule keep the newest snapshot of each of the last n hours/days/…). Prune
 * then deletes data no snapshot needs: unused packs are removed, partly used packs rewritten.
 * Both hold the exclusive lock, the only place data is removed. Order keeps a crash harmless:
 * new packs, then the new full index, then the old index files, then the old packs.
 */
import { CoreError } from '../../platform/errors.js';
import { openBlob } from './blob.js';
import { blobKey, indexFileFor, MasterIndex } from './index.js';
import { RepoLock } from './lock.js';
import type { BlobType } from './format.js';
import { stopped as halt } from './messages.js';
import { PackCopier, type CopiedBlob } from './pack-copier.js';
import type { PackEntry } from './pack.js';
import type { Repository } from './repository.js';
import type { SnapshotWithId } from './snapshot.js';

export interface Retention {
  last?: number;
  hourly?: number;
  daily?: number;
  weekly?: number;
  monthly?: number;
  yearly?: number;
}

const RULES = ['hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const;

/** The bucket a time falls in for a rule, in local time. */
function bucket(rule: (typeof RULES)[number], d: Date): string {
  const y = d.getFullYear();
  const m = d.getMonth() + 1;
  if (rule === 'yearly') return `${y}`;
  if (rule === 'monthly') return `${y}-${m}`;
  if (rule === 'daily') return `${y}-${m}-${d.getDate()}`;
  if (rule === 'hourly') return `${y}-${m}-${d.getDate()}-${d.getHours()}`;
  // ISO 8601 week: the week belongs to the year of its Thursday.
  const t = new Date(y, d.getMonth(), d.getDate());
  t.setDate(t.getDate() + 3 - ((t.getDay() + 6) % 7));
  const firstThursday = new Date(t.getFullYear(), 0, 4);
  const week = 1 + Math.round(((t.getTime() - firstThursday.getTime()) / 86_400_000 - 3 + ((firstThursday.getDay() + 6) % 7)) / 7);
  return `${t.getFullYear()}-W${week}`;
}

/** Which snapshots a policy keeps. Pure. A policy with no rule keeps everything. */
export function applyRetention<S extends { id: string; time: string }>(snapshots: readonly S[], policy: Retention): { keep: S[]; remove: S[] } {
  const total = (policy.last ?? 0) + RULES.reduce((a, r) => a + (policy[r] ?? 0), 0);
  if (total === 0) return { keep: [...snapshots], remove: [] };
  const newestFirst = [...snapshots].sort((a, b) => b.time.localeCompare(a.time) || b.id.localeCompare(a.id));
  const keep = new Set<string>();
  newestFirst.slice(0, policy.last ?? 0).forEach((s) => keep.add(s.id));
  for (const rule of RULES) {
    const n = policy[rule] ?? 0;
    let count = 0;
    let lastBucket: string | null = null;
    for (const s of newestFirst) {
      if (count >= n) break;
      const b = bucket(rule, new Date(s.time));
      if (b !== lastBucket) {
        keep.add(s.id);
        count++;
        lastBucket = b;
      }
    }
  }
  return { keep: newestFirst.filter((s) => keep.has(s.id)), remove: newestFirst.filter((s) => !keep.has(s.id)) };
}

/** Remove the snapshot files with these ids (data stays until prune). */
export async function forget(repo: Repository, ids: readonly string[]): Promise<number> {
  if (repo.storage.appendOnly) throw halt.appendOnly('forget');
  const lock = await RepoLock.acquire(repo, true);
  try {
    const existing = new Set(await repo.list('snapshots'));
    let removed = 0;
    for (const id of ids) {
      if (!existing.has(id)) continue;
      await repo.removeFile('snapshots', id);
      removed++;
    }
    return removed;
  } finally {
    await lock.release();
  }
}

export async function forgetByPolicy(repo: Repository, policy: Retention, filter?: (s: SnapshotWithId) => boolean): Promise<string[]> {
  const all = (await repo.snapshots()).filter(filter ?? (() => true));
  const { remove } = applyRetention(all, policy);
  await forget(
    repo,
    remove.map((s) => s.id),
  );
  return remove.map((s) => s.id);
}

export interface PruneResult {
  packsRemoved: number;
  packsRewritten: number;
  packsWritten: number;
  blobsRemoved: number;
  bytesFreed: number;
  /**
   * Packs left as they were although they hold data no snapshot needs, because some data they
   * hold fails its check, or they are missing or of the wrong size: Check & repair deals with them.
   */
  packsLeft: string[];
  /** Blobs some snapshot needs that no pack holds as it should: lost already (a check names the files). */
  blobsMissing: number;
}

/** A failure that may pass (the disk did not read): prune then removes nothing. */
const stopped = halt.prune;
const certain = (e: unknown) => e instanceof CoreError && e.code === 'REPO_DAMAGED';

/**
 * Every blob (trees and data, as `blobKey` names them) a readable snapshot needs. Damage that
 * is certain (a tree whose pack is gone or whose bytes fail) hides only what lies below it,
 * which nothing can reach any more; a tree in a pack of the wrong size is read from that pack
 * (`aside`). A read that fails for another reason stops prune: it must never guess.
 */
async function usedBlobs(repo: Repository, index: MasterIndex, aside: MasterIndex, snapshots: readonly SnapshotWithId[]): Promise<Set<string>> {
  const used = new Set<string>();
  const load = async (treeId: string) => {
    try {
      return await repo.loadTree(treeId, index, { cache: false });
    } catch (e) {
      if (!certain(e)) throw stopped(e);
      if (!aside.has(treeId, 'tree')) return null;
      try {
        return await repo.loadTree(treeId, aside, { cache: false });
      } catch (again) {
        if (!certain(again)) throw stopped(again);
        return null;
      }
    }
  };
  const visit = async (treeId: string): Promise<void> => {
    const key = blobKey({ id: treeId, type: 'tree' });
    if (used.has(key)) return;
    used.add(key);
    const tree = await load(treeId);
    for (const n of tree?.nodes ?? []) {
      for (const c of n.content ?? []) used.add(blobKey({ id: c, type: 'data' }));
      if (n.subtree) await visit(n.subtree);
    }
  };
  for (const s of snapshots) await visit(s.tree);
  return used;
}

/**
 * Remove what no snapshot needs: packs with no used blob go, packs partly used are rewritten
 * (their used blobs verified and copied), then one index for everything that stays replaces the
 * old index files. Damage never stops it, and it never removes what repair could still save: a
 * pack whose used data fails its check, or that is missing or of the wrong size, is left as it
 * is, its index entries kept, and reported; a damaged snapshot file is skipped (its data is
 * freed: nothing can reach it).
 */
export async function prune(repo: Repository): Promise<PruneResult> {
  if (repo.storage.appendOnly) throw halt.appendOnly('prune');
  const lock = await RepoLock.acquire(repo, true);
  try {
    const packs = await repo.listPacks();
    const loaded = await repo.loadIndex({ packs });
    await repo.indexUnlisted(loaded, packs);
    const { index } = loaded;
    const { snapshots, damaged } = await repo.loadSnapshots();
    const unsure = damaged.find((d) => !d.certain);
    if (unsure) throw stopped(new CoreError('STORAGE_UNAVAILABLE', unsure.message));
    // Packs the index leaves out keep their entries (for repair); the trees of those still on
    // disk (of the wrong size) still count, as far as they can be read.
    const setAside = await repo.packEntriesFromIndex(loaded.files, new Set(loaded.excluded.map((p) => p.id)));
    const aside = new MasterIndex();
    for (const [id, entries] of setAside) if (packs.has(id)) aside.addPack(id, entries);
    const used = await usedBlobs(repo, index, aside, snapshots);

    const result: PruneResult = { packsRemoved: 0, packsRewritten: 0, packsWritten: 0, blobsRemoved: 0, bytesFreed: 0, packsLeft: [], blobsMissing: 0 };
    for (const key of used) {
      const [type, id] = key.split(':') as [BlobType, string];
      if (!index.has(id, type) && !aside.has(id, type)) result.blobsMissing++;
    }
    const plan = await planPacks(repo, index, used);
    const copier = new PackCopier(repo);
    const rewritten: string[] = [];
    for (const packId of plan.rewrite) {
      if (await copyLive(repo, index, used, packId, copier)) rewritten.push(packId);
      else plan.left.push(packId);
    }
    await copier.flush();

    // Left as they are, with the entries their index files give: for repair to save what they hold.
    const carried = await repo.packEntriesFromIndex(loaded.files, new Set(plan.left));
    const next = new Map([...plan.kept, ...copier.written, ...setAside, ...carried]);
    await repo.saveSealed('index', indexFileFor(next, loaded.files));
    for (const id of loaded.files) await repo.removeFile('index', id);
    for (const packId of [...plan.doomed, ...rewritten]) {
      result.blobsRemoved += index.blobsOfPack(packId).filter((b) => !used.has(blobKey(b)) || index.get(b.id, b.type)?.pack !== packId).length;
      result.bytesFreed += packs.get(packId) ?? 0;
      await repo.removePack(packId);
    }
    result.bytesFreed -= copier.bytes;
    result.packsWritten = copier.written.size;
    result.packsRemoved = plan.doomed.length;
    result.packsRewritten = rewritten.length;
    result.packsLeft = [...new Set([...plan.left, ...setAside.keys()])].sort();
    return result;
  } finally {
    await lock.release();
  }
}

interface PackPlan {
  /** Packs kept as they are, with their header's entries. */
  kept: Map<string, PackEntry[]>;
  /** Packs with no used blob. */
  doomed: string[];
  /** Packs partly used: their used blobs are copied, then they go. */
  rewrite: string[];
  /** Packs left as they are although partly unused: some used blob of theirs fails its check (copyLive). */
  left: string[];
}

/** What becomes of each indexed pack. A blob counts as used only at the location the index chose: duplicates go. */
async function planPacks(repo: Repository, index: MasterIndex, used: ReadonlySet<string>): Promise<PackPlan> {
  const plan: PackPlan = { kept: new Map(), doomed: [], rewrite: [], left: [] };
  for (const packId of index.packIds()) {
    const blobs = index.blobsOfPack(packId);
    const live = blobs.filter((b) => used.has(blobKey(b)) && index.get(b.id, b.type)?.pack === packId);
    if (live.length === 0) {
      plan.doomed.push(packId);
      continue;
    }
    let header: PackEntry[] | null = null;
    try {
      header = await repo.readPackHeader(packId);
    } catch (e) {
      if (!certain(e)) throw stopped(e);
    }
    // A damaged header is rewritten too, when every blob still used verifies (copyLive).
    if (header && live.length === blobs.length) plan.kept.set(packId, header);
    else plan.rewrite.push(packId);
  }
  return plan;
}

/**
 * Copy the used blobs of a pack into new packs, each verified first; false (nothing copied)
 * when one fails: the pack is then left for repair, which saves what it can.
 */
async function copyLive(repo: Repository, index: MasterIndex, used: ReadonlySet<string>, packId: string, copier: PackCopier): Promise<boolean> {
  const copies: { blob: CopiedBlob; sealed: Buffer }[] = [];
  for (const b of index.blobsOfPack(packId)) {
    const loc = index.get(b.id, b.type);
    if (!used.has(blobKey(b)) || loc?.pack !== packId) continue;
    try {
      const sealed = await repo.readSealed(loc);
      openBlob(repo.keys, b.id, b.type, loc.compressed, loc.rawLength, sealed, packId); // never copy damage forward
      copies.push({ blob: { id: b.id, type: b.type, compressed: loc.compressed, rawLength: loc.rawLength }, sealed });
    } catch (e) {
      if (!certain(e)) throw stopped(e);
      return false;
    }
  }
  for (const c of copies) await copier.add(c.blob, c.sealed);
  return true;
}
