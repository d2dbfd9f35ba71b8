/**
 * Restore a whole snapshot or chosen paths, to where they came from or into another folder.
 * Every blob is decrypted and checked against its id before a byte of it is written. New files
 * are created with O_EXCL, so nothing already there is ever replaced unless the caller chose
 * 'overwrite'; replacing goes through a temp file and a rename, so a replaced file is never
 * half-written. (A restore killed midway can leave a partly written new file; re-run it.)
 */
import { lstatSync, mkdirSync, chmodSync, utimesSync, lutimesSync, symlinkSync, unlinkSync, lchownSync, type Stats } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CoreError } from '../errors.js';
import type { Progress } from './backup.js';
import type { MasterIndex } from './index.js';
import { WorkerPool } from './pool.js';
import type { Repository } from './repository.js';
import type { SnapshotWithId } from './snapshot.js';
import type { TreeNode } from './tree.js';
import type { RestoreFile } from './worker.js';

export type OnExisting = 'skip' | 'overwrite' | 'fail';

export interface RestoreOptions {
  /** Paths inside the snapshot ("docs/report.pdf", first part is a source's folder name); all when empty. */
  paths?: string[];
  /** Where to: `null` for the original places, or a folder that receives the snapshot's top-level entries. */
  targetDir: string | null;
  onExisting: OnExisting;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  threads?: number;
}

export interface RestoreSummary {
  files: number;
  dirs: number;
  symlinks: number;
  bytes: number;
  skipped: number;
  errors: { path: string; message: string }[];
}

interface Item {
  node: TreeNode;
  target: string;
}

const BATCH_FILES = 64;
const BATCH_BYTES = 8 * 1024 * 1024;

/** Nanosecond string -> seconds for utimes (which takes fractional seconds). */
export function nanosToSeconds(ns: string): number {
  const n = BigInt(ns);
  return Number(n / 1_000_000_000n) + Number(n % 1_000_000_000n) / 1e9;
}

export async function restore(repo: Repository, index: MasterIndex, snapshot: SnapshotWithId, options: RestoreOptions): Promise<RestoreSummary> {
  const summary: RestoreSummary = { files: 0, dirs: 0, symlinks: 0, bytes: 0, skipped: 0, errors: [] };
  const items = await selectItems(repo, index, snapshot, options);
  const check = () => {
    if (options.signal?.aborted) throw new CoreError('CANCELLED', 'The restore was cancelled.');
  };

  // What is already at the targets. A folder that does not exist has no entries, so nothing
  // below one is looked up: restoring into a new folder costs no lookups at all.
  const existing = new Map<string, Stats>();
  const missing = new Set<string>();
  for (const item of items) {
    if (missing.has(dirname(item.target))) {
      if (item.node.type === 'dir') missing.add(item.target);
      continue;
    }
    const st = lstatOrNull(item.target);
    if (st) existing.set(item.target, st);
    else if (item.node.type === 'dir') missing.add(item.target);
  }
  const conflict = (item: Item) => {
    const st = existing.get(item.target);
    return st !== undefined && (item.node.type !== 'dir' || !st.isDirectory());
  };

  // Refuse before writing anything when the caller asked to fail on an existing file.
  if (options.onExisting === 'fail') {
    const conflicts = items.filter(conflict);
    if (conflicts.length > 0) {
      throw new CoreError(
        'RESTORE_CONFLICT',
        `${conflicts.length} item(s) already exist at the target, for example ${conflicts[0]!.target}. ` +
          'Choose to skip or to overwrite existing files, or restore into an empty folder.',
      );
    }
  }

  const bytesTotal = items.reduce((a, i) => a + (i.node.type === 'file' ? i.node.size : 0), 0);
  const filesTotal = items.filter((i) => i.node.type === 'file').length;
  const started = Date.now();
  let filesDone = 0;
  let bytesDone = 0;
  let last = 0;
  const emit = (current: string | null, final = false) => {
    const t = Date.now();
    if (!options.onProgress || (!final && t - last < 200)) return;
    last = t;
    const rate = Math.round(bytesDone / Math.max(0.001, (t - started) / 1000));
    options.onProgress({
      filesDone,
      filesTotal,
      bytesDone,
      bytesTotal,
      currentFile: final ? null : current,
      bytesPerSecond: rate,
      etaSeconds: final ? 0 : rate > 0 ? Math.round((bytesTotal - bytesDone) / rate) : null,
    });
  };

  // Folders first (owner-writable until their files are in), skipping any subtree we may not enter.
  const blocked: string[] = [];
  const under = (p: string) => blocked.length > 0 && blocked.some((b) => p.startsWith(`${b}/`));
  const dirs: Item[] = [];
  for (const item of items) {
    if (item.node.type !== 'dir' || under(item.target)) continue;
    const st = existing.get(item.target);
    try {
      if (st && !st.isDirectory()) {
        if (options.onExisting !== 'overwrite') {
          summary.skipped++;
          blocked.push(item.target);
          continue;
        }
        unlinkSync(item.target);
      }
      if (!st || !st.isDirectory()) {
        try {
          mkdirSync(item.target, { mode: 0o700 });
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
          mkdirSync(item.target, { recursive: true, mode: 0o700 }); // the target folder itself is new
        }
      }
      dirs.push(item);
    } catch (e) {
      summary.errors.push({ path: item.target, message: errText(e) });
      blocked.push(item.target);
    }
  }

  const pool = new WorkerPool(repo, options.threads);
  try {
    let batch: { file: RestoreFile; item: Item }[] = [];
    let batchBytes = 0;
    const inFlight = new Set<Promise<void>>();
    const flush = async () => {
      if (batch.length === 0) return;
      const mine = batch;
      batch = [];
      batchBytes = 0;
      while (inFlight.size >= pool.threads * 2) await Promise.race(inFlight);
      check();
      const p = pool.restore({ kind: 'restore', files: mine.map((m) => m.file) }).then((r) => {
        r.files.forEach((f, i) => {
          const { item } = mine[i]!;
          if (f.error) summary.errors.push({ path: item.target, message: f.error });
          else if (f.existed) {
            // Appeared after we looked: never replaced.
            if (options.onExisting === 'skip') summary.skipped++;
            else summary.errors.push({ path: item.target, message: 'a file appeared there during the restore and was left as it was' });
          } else {
            summary.files++;
            summary.bytes += f.bytes;
            bytesDone += f.bytes;
          }
          filesDone++;
        });
        emit(mine[mine.length - 1]!.item.target);
      });
      const tracked = p.finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
    };

    for (const item of items) {
      check();
      const { node, target } = item;
      if (node.type === 'dir' || under(target)) continue;
      const st = existing.get(target);
      if (st && options.onExisting === 'skip') {
        summary.skipped++;
        continue;
      }
      if (node.type === 'symlink') {
        try {
          if (st) unlinkSync(target);
          symlinkSync(node.linkTarget ?? '', target);
          const t = nanosToSeconds(node.mtime);
          lutimesSync(target, t, t);
          summary.symlinks++;
        } catch (e) {
          summary.errors.push({ path: target, message: errText(e) });
        }
        continue;
      }
      if (st?.isDirectory()) {
        summary.errors.push({ path: target, message: 'a folder is in the way of this file' });
        continue;
      }
      const blobs = (node.content ?? []).map((id) => {
        const loc = index.get(id);
        if (!loc) throw new CoreError('REPO_DAMAGED', `Data for ${target} is missing from the repository. Run a check.`);
        return { id, pack: repo.packPath(loc.pack), offset: loc.offset, length: loc.length, rawLength: loc.rawLength, compressed: loc.compressed };
      });
      const t = nanosToSeconds(node.mtime);
      // Replacing an existing file goes through a temp name and a rename, so it is never half-written.
      const file: RestoreFile = { target, tmp: st ? tempPath(target) : null, mode: node.mode, atimeSec: t, mtimeSec: t, blobs };
      batch.push({ file, item });
      batchBytes += node.size;
      if (batch.length >= BATCH_FILES || batchBytes >= BATCH_BYTES) await flush();
    }
    await flush();
    while (inFlight.size > 0) await Promise.race(inFlight);
  } finally {
    await pool.close();
  }

  // Folder modes and times last, deepest first, so writing their contents did not change them.
  for (const item of dirs.reverse()) {
    try {
      chmodSync(item.target, item.node.mode & 0o7777);
      const t = nanosToSeconds(item.node.mtime);
      utimesSync(item.target, t, t);
      summary.dirs++;
    } catch (e) {
      summary.errors.push({ path: item.target, message: errText(e) });
    }
  }
  const uid = process.getuid?.();
  const gid = process.getgid?.();
  if (uid === 0) {
    for (const item of items) {
      if (item.node.uid === uid && item.node.gid === gid) continue;
      try {
        lchownSync(item.target, item.node.uid, item.node.gid);
      } catch {
        // Ownership is best effort: the content and modes are what restore promises.
      }
    }
  }
  emit(null, true);
  return summary;
}

let tempCounter = 0;
function tempPath(target: string): string {
  return join(dirname(target), `.${basename(target).slice(0, 40)}.twofold-${process.pid}-${tempCounter++}.part`);
}

function lstatOrNull(p: string): Stats | null {
  try {
    return lstatSync(p);
  } catch {
    return null;
  }
}

function errText(e: unknown): string {
  if (e instanceof CoreError) return e.message;
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return code ? `cannot be written (${code})` : 'cannot be written';
}

/** Top-level targets and, under them, every node of each selected path, parents before children. */
async function selectItems(repo: Repository, index: MasterIndex, snapshot: SnapshotWithId, options: RestoreOptions): Promise<Item[]> {
  const root = await repo.loadTree(snapshot.tree, index, { cache: false });
  const topTarget = (name: string): string => {
    if (options.targetDir !== null) return join(options.targetDir, name);
    const original = snapshot.paths.find((p) => basename(p) === name);
    if (!original) throw new CoreError('REPO_DAMAGED', 'The snapshot does not say where one of its entries came from.');
    return original;
  };
  const items: Item[] = [];
  const addAll = async (node: TreeNode, target: string) => {
    items.push({ node, target });
    if (node.type === 'dir' && node.subtree) {
      for (const child of (await repo.loadTree(node.subtree, index, { cache: false })).nodes) await addAll(child, join(target, child.name));
    }
  };
  const wanted = (options.paths ?? []).map((p) => p.split('/').filter((s) => s.length > 0));
  if (wanted.length === 0) {
    for (const node of root.nodes) await addAll(node, topTarget(node.name));
    return items;
  }
  for (const parts of wanted) {
    let nodes = root.nodes;
    let target = '';
    let node: TreeNode | undefined;
    for (let i = 0; i < parts.length; i++) {
      node = nodes.find((n) => n.name === parts[i]);
      if (!node) throw new CoreError('NOT_FOUND', `There is no "${parts.join('/')}" in this snapshot.`);
      target = i === 0 ? topTarget(node.name) : join(target, node.name);
      if (i < parts.length - 1) {
        if (node.type !== 'dir' || !node.subtree) throw new CoreError('NOT_FOUND', `There is no "${parts.join('/')}" in this snapshot.`);
        // Parent folders of a chosen path are created (owner-writable) but keep the snapshot's mode.
        items.push({ node: { ...node, subtree: undefined }, target });
        nodes = (await repo.loadTree(node.subtree, index, { cache: false })).nodes;
      }
    }
    await addAll(node!, target);
  }
  // A path chosen twice, or inside another chosen path, is restored once.
  const seen = new Set<string>();
  return items.filter((i) => (seen.has(i.target) ? false : (seen.add(i.target), true)));
}
