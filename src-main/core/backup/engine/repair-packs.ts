/**
 * Repair's first two steps (docs/repository-format.md §12). Salvage: of each damaged pack, every
 * blob that still verifies and has no copy elsewhere is copied into a new pack; the damaged
 * pack is deleted only after the index no longer needs it. Rebuild: a new index made from the
 * header of every pack on disk replaces all index files, damaged ones included; packs that are
 * gone leave the index, and what only they held is counted as lost.
 */
import { CoreError } from '../../platform/errors.js';
import { openBlob } from './blob.js';
import { fileId } from './format.js';
import { blobKey, indexFileFor, MasterIndex } from './index.js';
import { headerLocation, openHeader, TRAILER_BYTES, type PackEntry } from './pack.js';
import type { PackCopier } from './pack-copier.js';
import type { Repository } from './repository.js';
import { packName } from './storage/storage.js';

export interface PackRepair {
  id: string;
  /** removed: what still verified was saved, then the pack deleted; missing: it was gone already; intact: nothing was wrong, it stays. */
  outcome: 'removed' | 'missing' | 'intact';
  /** Blobs that verified: copied into a new pack, or already held by another one. */
  blobsSaved: number;
  /** Blobs that failed (or could not be located) and exist nowhere else. */
  blobsLost: number;
}

export interface IndexRepair {
  /** Index files the new one replaces (and that were deleted). */
  indexFilesReplaced: number;
  /** Of those, the ones that could not be read. */
  damagedIndexFiles: string[];
  packsIndexed: number;
  /** Packs whose header cannot be read: kept by the entries an old index file gave, or left out when none did. */
  packsUnreadable: { id: string; message: string; kept: boolean }[];
  /** Packs the old index listed that are gone: no longer listed (the packs the repair removes are not counted here). */
  packsDropped: string[];
  /** Blobs only those packs held: lost. */
  blobsLost: number;
}

const certain = (e: unknown) => e instanceof CoreError && e.code === 'REPO_DAMAGED';

/** The entries a pack's own header gives, read from its bytes; null when the header does not open. */
function headerOf(repo: Repository, bytes: Buffer): PackEntry[] | null {
  try {
    if (bytes.length < TRAILER_BYTES) return null;
    const where = headerLocation(bytes.subarray(bytes.length - TRAILER_BYTES), bytes.length);
    return openHeader(repo.keys.data, bytes.subarray(where.offset, where.offset + where.length), where.offset);
  } catch {
    return null;
  }
}

/**
 * Save what each of `ids` still holds (into `copier`, which the caller flushes). Nothing is
 * deleted here: the caller rebuilds the index first.
 */
export async function salvagePacks(repo: Repository, ids: readonly string[], copier: PackCopier, onPack: (id: string) => void): Promise<PackRepair[]> {
  const listing = await repo.listPacks();
  const targets = new Set(ids);
  // Copies elsewhere: the index without the packs being repaired (and without missing ones).
  const loaded = await repo.loadIndex({ packs: listing, avoid: targets });
  await repo.indexUnlisted(loaded, listing);
  const elsewhere = loaded.index;
  const own = await repo.packEntriesFromIndex(loaded.files, targets);
  const saved = new Set<string>();
  const failed: { pack: string; entry: PackEntry }[] = [];
  const reports: PackRepair[] = [];
  for (const id of targets) {
    onPack(id);
    if (!listing.has(id)) {
      for (const entry of own.get(id) ?? []) failed.push({ pack: id, entry });
      reports.push({ id, outcome: 'missing', blobsSaved: 0, blobsLost: 0 });
      continue;
    }
    const bytes = await repo.storage.read(packName(id));
    const header = headerOf(repo, bytes);
    const entries = header ?? own.get(id) ?? [];
    const good: PackEntry[] = [];
    for (const e of entries) {
      const ok = e.offset + e.length <= bytes.length && verifies(repo, id, e, bytes);
      if (ok) good.push(e);
      else failed.push({ pack: id, entry: e });
    }
    if (header && good.length === entries.length && fileId(bytes) === id) {
      reports.push({ id, outcome: 'intact', blobsSaved: 0, blobsLost: 0 });
      continue;
    }
    for (const e of good) {
      const key = blobKey(e);
      if (elsewhere.has(e.id, e.type) || saved.has(key)) continue;
      saved.add(key);
      await copier.add(e, Buffer.from(bytes.subarray(e.offset, e.offset + e.length)));
    }
    reports.push({ id, outcome: 'removed', blobsSaved: good.length, blobsLost: 0 });
  }
  // A blob is lost only when no copy survives anywhere.
  for (const { pack, entry } of failed) {
    if (elsewhere.has(entry.id, entry.type) || saved.has(blobKey(entry))) continue;
    saved.add(blobKey(entry)); // counted once
    reports.find((r) => r.id === pack)!.blobsLost++;
  }
  return reports;
}

function verifies(repo: Repository, packId: string, e: PackEntry, bytes: Buffer): boolean {
  try {
    openBlob(repo.keys, e.id, e.type, e.compressed, e.rawLength, bytes.subarray(e.offset, e.offset + e.length), packId);
    return true;
  } catch {
    return false;
  }
}

/**
 * A new index from the header of every pack on disk but `exclude` (packs being removed),
 * replacing every index file. A pack whose header does not open keeps the entries an old index
 * file gave it, so what it holds can still be read and saved. A read that fails for another
 * reason than damage stops the rebuild before anything is replaced.
 */
export async function rebuildIndex(repo: Repository, exclude: ReadonlySet<string>, onPack: (id: string) => void): Promise<IndexRepair> {
  const old = await repo.loadIndex();
  const listing = await repo.listPacks();
  const next = new Map<string, PackEntry[]>();
  const unreadable = new Map<string, string>();
  for (const packId of listing.keys()) {
    if (exclude.has(packId)) continue;
    onPack(packId);
    try {
      next.set(packId, await repo.readPackHeader(packId));
    } catch (e) {
      if (!certain(e)) throw e;
      unreadable.set(packId, (e as CoreError).message);
    }
  }
  const own = await repo.packEntriesFromIndex(old.files, new Set(unreadable.keys()));
  const packsUnreadable = [...unreadable].map(([id, message]) => {
    const entries = own.get(id);
    if (entries) next.set(id, entries);
    return { id, message, kept: entries !== undefined };
  });
  const fresh = new MasterIndex();
  for (const [id, entries] of next) fresh.addPack(id, entries);
  // The packs being removed are reported by the salvage that came first.
  const packsDropped = old.index.packIds().filter((p) => !next.has(p) && !exclude.has(p));
  const lost = new Set<string>();
  for (const p of packsDropped) for (const b of old.index.blobsOfPack(p)) if (!fresh.has(b.id, b.type)) lost.add(blobKey(b));
  await repo.saveSealed('index', indexFileFor(next, old.files));
  for (const id of old.files) await repo.removeFile('index', id);
  return {
    indexFilesReplaced: old.files.length,
    damagedIndexFiles: old.damaged.map((d) => d.id),
    packsIndexed: next.size,
    packsUnreadable,
    packsDropped,
    blobsLost: lost.size,
  };
}
