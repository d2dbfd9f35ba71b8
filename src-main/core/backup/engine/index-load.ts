/**
 * Loading a repository's index so that damage never blocks the rest (docs/repository-format.md
 * §7, §12): index files that do not open are named and skipped, and the packs only they listed
 * read from their headers; given a listing of data/, packs that are missing, of the wrong size
 * or known damaged are set aside. Every caller (backup, restore, check, prune, repair) reads the
 * index through here, by Repository's methods of the same names.
 */
import { CoreError } from '../../platform/errors.js';
import { MasterIndex, type IndexFile } from './index.js';
import { damage } from './messages.js';
import { footerBytes, type PackEntry } from './pack.js';
import type { Repository } from './repository.js';
import { isNotFound, packName } from './storage/storage.js';

export interface IndexOptions {
  /** The listing of data/ (pack id -> size, or -1 when only names were listed). */
  packs?: ReadonlyMap<string, number>;
  /** Packs a check found damaged. */
  avoid?: ReadonlySet<string>;
  /** What becomes of a pack set aside: left out (the default), or added after every other. */
  setAside?: 'omit' | 'last';
}

/** Something damaged or unreadable in a repository, named for a person (check, backup, listing). */
export interface RepoProblem {
  kind: 'index' | 'snapshot' | 'pack';
  id: string;
  message: string;
  /**
   * True when the damage is certain (the bytes fail their check, or the file is gone); false
   * when the file could not be read at all (an I/O error may pass): only certain damage may be
   * worked around by what removes data (prune).
   */
  certain: boolean;
}

export interface LoadedIndex {
  index: MasterIndex;
  /** Every index file listed, readable or not (prune supersedes them all). */
  files: string[];
  /** Index files that could not be read: skipped. */
  damaged: RepoProblem[];
  /** Packs some index file lists that were left out: missing, of the wrong size, or known damaged. */
  excluded: RepoProblem[];
  /** Packs only a skipped index file listed, indexed from their headers (in memory only). */
  recovered: Map<string, PackEntry[]>;
}

export function problemOf(kind: RepoProblem['kind'], id: string, e: unknown): RepoProblem {
  const certain = e instanceof CoreError && e.code === 'REPO_DAMAGED';
  return { kind, id, message: e instanceof CoreError ? e.message : damage.unreadable(kind, id, e), certain };
}

/** Why an index file's pack cannot be used as it stands (see loadIndex), or null. */
async function unusablePack(repo: Repository, pack: IndexFile['packs'][number], options: IndexOptions): Promise<RepoProblem | null> {
  const problem = (e: CoreError): RepoProblem => ({ kind: 'pack', id: pack.id, message: e.message, certain: true });
  if (options.avoid?.has(pack.id)) return problem(damage.packKnownDamaged(pack.id));
  if (!options.packs) return null;
  let size = options.packs.get(pack.id);
  if (size === undefined) {
    // Not in the listing: gone, or written by another backup since the listing was made (a pack
    // is written whole, before any index names it). Its own stat says which.
    const st = await repo.storage.stat(packName(pack.id)).catch(() => null);
    if (!st) return problem(damage.packMissing(pack.id));
    size = st.size;
  }
  const expected = pack.blobs.reduce((a, b) => a + b.length, 0) + footerBytes(pack.blobs.length);
  if (size >= 0 && size !== expected) return problem(size < expected ? damage.packTruncated(pack.id) : damage.packWrongSize(pack.id, size, expected));
  return null;
}

/**
 * The index: every index file that opens (a damaged one is named in `damaged` and skipped,
 * never blocking the rest). Given the pack listing, it sets aside packs that are not there or
 * have the wrong size, and the packs in `avoid` (found damaged before), so a blob is located
 * in a pack that is whole as far as a listing can tell whenever one holds it. Set aside, such
 * a pack is left out (`omit`: a backup then stores its data again), or added after all others
 * (`last`: a reader still tries it for what no other pack holds, and its failure names it).
 * When an index file was skipped, the packs only it listed are read from their headers.
 */
export async function loadIndex(repo: Repository, options: IndexOptions = {}): Promise<LoadedIndex> {
  const index = new MasterIndex();
  const files = await repo.list('index');
  const damaged: RepoProblem[] = [];
  const excluded = new Map<string, RepoProblem>();
  const last = new Map<string, PackEntry[]>();
  for (const id of files) {
    let file: IndexFile;
    try {
      file = await repo.loadIndexFile(id);
    } catch (e) {
      if (isNotFound(e)) continue; // superseded and removed meanwhile
      damaged.push(problemOf('index', id, e));
      continue;
    }
    for (const pack of file.packs) {
      const why = await unusablePack(repo, pack, options);
      if (!why) index.addPack(pack.id, pack.blobs);
      else {
        excluded.set(pack.id, why);
        if (options.setAside === 'last') last.set(pack.id, pack.blobs);
      }
    }
  }
  for (const [id, blobs] of last) index.addPack(id, blobs);
  const loaded: LoadedIndex = { index, files, damaged, excluded: [...excluded.values()], recovered: new Map() };
  if (damaged.length > 0) loaded.recovered = await indexUnlisted(repo, loaded, options.packs ?? (await repo.packNames()));
  return loaded;
}

/**
 * The index a restore reads through: a blob is found in a pack on disk of the right size (and
 * not in `avoid`) whenever one holds it (a later backup may have stored it again), and only
 * else where the index first put it, whose failure then names the pack. One listing of
 * data/, with a stat per pack.
 */
export async function readingIndex(repo: Repository, avoid?: ReadonlySet<string>): Promise<LoadedIndex> {
  return loadIndex(repo, { packs: await repo.listPacks(), avoid, setAside: 'last' });
}

/**
 * Read the header of every pack on disk that no readable index file lists, and add it to the
 * index in memory (the next backup writes an index file for it): how a damaged index file
 * heals. A pack whose header fails stays out, for check to name and repair to salvage.
 */
export async function indexUnlisted(repo: Repository, loaded: LoadedIndex, packs: ReadonlyMap<string, number>): Promise<Map<string, PackEntry[]>> {
  const skip = new Set(loaded.excluded.map((p) => p.id));
  const found = new Map<string, PackEntry[]>();
  for (const packId of packs.keys()) {
    if (loaded.index.hasPack(packId) || skip.has(packId)) continue;
    try {
      const entries = await repo.readPackHeader(packId);
      loaded.index.addPack(packId, entries);
      found.set(packId, entries);
    } catch {
      // Left alone here; check names it and repair salvages what it holds.
    }
  }
  return found;
}

/**
 * The entries index files give for these packs (the pack's own: where each blob lies in it),
 * for packs the index in memory does not hold as they are (left out, or read past a damaged
 * header). Reads the index files again: only for the few packs in trouble.
 */
export async function packEntriesFromIndex(repo: Repository, files: readonly string[], ids: ReadonlySet<string>): Promise<Map<string, PackEntry[]>> {
  const found = new Map<string, PackEntry[]>();
  if (ids.size === 0) return found;
  for (const file of files) {
    let doc: IndexFile;
    try {
      doc = await repo.loadIndexFile(file);
    } catch {
      continue; // named by loadIndex already
    }
    for (const pack of doc.packs) if (ids.has(pack.id) && !found.has(pack.id)) found.set(pack.id, pack.blobs);
  }
  return found;
}
