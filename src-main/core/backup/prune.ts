/**
 * Forget and prune. Forget removes snapshot files chosen by id or by retention rules (restic's
 * semantics: for each rule keep the newest snapshot of each of the last n hours/days/…). Prune
 * then deletes data no snapshot needs: unused packs are removed, partly used packs rewritten.
 * Both hold the exclusive lock, the only place data is removed. Order keeps a crash harmless:
 * new packs, then the new full index, then the old index files, then the old packs.
 */
import { CoreError } from '../errors.js';
import { recoverUnindexedPacks } from './backup.js';
import { blobKey, indexFileFor, type MasterIndex } from './index.js';
import { RepoLock } from './lock.js';
import { open } from 'node:fs/promises';
import { PACK_TARGET_BYTES, type BlobType } from './format.js';
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
}

/** Every blob (trees and data, as `blobKey` names them) some snapshot needs. Throws rather than guess. */
async function usedBlobs(repo: Repository, index: MasterIndex): Promise<Set<string>> {
  const used = new Set<string>();
  const visit = async (treeId: string): Promise<void> => {
    const key = blobKey({ id: treeId, type: 'tree' });
    if (used.has(key)) return;
    used.add(key);
    const tree = await repo.loadTree(treeId, index, { cache: false });
    for (const n of tree.nodes) {
      for (const c of n.content ?? []) used.add(blobKey({ id: c, type: 'data' }));
      if (n.subtree) await visit(n.subtree);
    }
  };
  for (const s of await repo.snapshots()) await visit(s.tree);
  return used;
}

export async function prune(repo: Repository): Promise<PruneResult> {
  const lock = await RepoLock.acquire(repo, true);
  try {
    const { index, files: oldIndexFiles } = await repo.loadIndex();
    await recoverUnindexedPacks(repo, index);
    let used: Set<string>;
    try {
      used = await usedBlobs(repo, index);
    } catch (cause) {
      throw new CoreError('REPO_DAMAGED', 'Prune stopped before removing anything: a snapshot or tree cannot be read. Run a check.', { cause });
    }
    for (const key of used) {
      const [type, id] = key.split(':') as [BlobType, string];
      if (!index.has(id, type)) throw new CoreError('REPO_DAMAGED', 'Prune stopped before removing anything: some data is missing. Run a check.');
    }
    const sizes = await repo.listPacks();

    const result: PruneResult = { packsRemoved: 0, packsRewritten: 0, packsWritten: 0, blobsRemoved: 0, bytesFreed: 0 };
    const keptPacks = new Map<string, PackEntry[]>();
    const doomed: string[] = [];
    const rewrite: string[] = [];
    for (const packId of index.packIds()) {
      const header = await repo.readPackHeader(packId);
      // A blob counts as used here only at the location the index chose: duplicates go.
      const live = header.filter((e) => used.has(blobKey(e)) && index.get(e.id, e.type)?.pack === packId);
      if (live.length === header.length) keptPacks.set(packId, header);
      else if (live.length === 0) doomed.push(packId);
      else rewrite.push(packId);
    }

    // Copy the live blobs of partly used packs into new packs, sealed bytes as they are (after checking them).
    let blobs: Buffer[] = [];
    let entries: PackEntry[] = [];
    let size = 0;
    const flush = async () => {
      if (entries.length === 0) return;
      const { id, bytes } = await repo.savePack(blobs, entries);
      keptPacks.set(id, entries);
      result.bytesFreed -= bytes;
      result.packsWritten++;
      blobs = [];
      entries = [];
      size = 0;
    };
    for (const packId of rewrite) {
      for (const e of await repo.readPackHeader(packId)) {
        const loc = index.get(e.id, e.type);
        if (!used.has(blobKey(e)) || loc?.pack !== packId) continue;
        await repo.readBlob(e.id, loc); // verifies: never copy damage forward
        const sealed = await readRaw(repo, packId, e.offset, e.length);
        entries.push({ ...e, offset: size });
        blobs.push(sealed);
        size += e.length;
        if (size >= PACK_TARGET_BYTES) await flush();
      }
    }
    await flush();

    await repo.saveSealed('index', indexFileFor(keptPacks, oldIndexFiles));
    for (const id of oldIndexFiles) await repo.removeFile('index', id);
    for (const packId of [...doomed, ...rewrite]) {
      result.blobsRemoved += index.blobsOfPack(packId).filter((b) => !used.has(blobKey(b)) || index.get(b.id, b.type)?.pack !== packId).length;
      result.bytesFreed += sizes.get(packId) ?? 0;
      await repo.removePack(packId);
    }
    result.packsRemoved = doomed.length;
    result.packsRewritten = rewrite.length;
    return result;
  } finally {
    await lock.release();
  }
}

async function readRaw(repo: Repository, packId: string, offset: number, length: number): Promise<Buffer> {
  const fh = await open(repo.packPath(packId), 'r');
  try {
    const buf = Buffer.alloc(length);
    await fh.read(buf, 0, length, offset);
    return buf;
  } finally {
    await fh.close();
  }
}
