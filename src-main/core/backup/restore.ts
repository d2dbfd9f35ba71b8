/**
 * Restore a whole snapshot or chosen paths, to where they came from or into another folder.
 * Every blob is decrypted and checked against its id before a byte of it is written. Each entry
 * but a folder is written under a temporary name, given its metadata and renamed into place
 * (restore-file.ts), so a name holds either nothing or the complete entry whenever the restore
 * stops, and a re-run that skips existing entries finishes the job: it removes the temporary
 * files a killed run left (restore-temps.ts), writes what is missing and sets every folder's
 * metadata again. Nothing already there is replaced unless the caller chose 'overwrite'.
 */
import { lstatSync, mkdirSync, unlinkSync, type Stats } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CoreError } from '../errors.js';
import type { Progress } from './backup.js';
import type { MasterIndex } from './index.js';
import { WorkerPool } from './pool.js';
import type { Repository } from './repository.js';
import type { SnapshotWithId } from './snapshot.js';
import type { TreeNode } from './tree.js';
import { displayName, fsPath } from './fs-names.js';
import type { RestoreFile } from './restore-file.js';
import { HardLinks, linkInPlace, type Member } from './restore-links.js';
import { applyMeta } from './restore-meta.js';
import { placeSpecial, specialError } from './restore-special.js';
import { RestoreTemps } from './restore-temps.js';

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
  /** FIFOs, sockets and device nodes. */
  special: number;
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

export async function restore(repo: Repository, index: MasterIndex, snapshot: SnapshotWithId, options: RestoreOptions): Promise<RestoreSummary> {
  const summary: RestoreSummary = { files: 0, dirs: 0, symlinks: 0, special: 0, bytes: 0, skipped: 0, errors: [] };
  const starts = await selectionStarts(repo, index, snapshot, options);
  const walk = () => walkSelection(repo, index, starts);
  const check = () => {
    if (options.signal?.aborted) throw new CoreError('CANCELLED', 'The restore was cancelled.');
  };

  // First pass: totals for the progress bar, and, when the caller asked to fail on an existing
  // file, every conflict, before anything is written. The snapshot is streamed, never held: a
  // folder that does not exist has no entries, so nothing below one is looked up. A whole
  // snapshot restored where none of its top-level entries exists (a new or empty folder) needs
  // no pass: nothing can conflict, and its summary has the totals.
  const fresh = (options.paths ?? []).length === 0 && starts.every((s) => lstatOrNull(s.target) === null);
  let filesTotal = fresh ? snapshot.summary.files : 0;
  let bytesTotal = fresh ? snapshot.summary.bytes : 0;
  let conflicts = 0;
  let example = '';
  const absent = new Set<string>();
  for await (const { node, target } of fresh ? [] : walk()) {
    check();
    if (node.type === 'file') {
      filesTotal++;
      bytesTotal += node.size;
    }
    if (options.onExisting !== 'fail') continue;
    const st = absent.has(dirname(target)) ? null : lstatOrNull(target);
    if (!st) {
      if (node.type === 'dir') absent.add(target);
    } else if (node.type !== 'dir' || !st.isDirectory()) {
      conflicts++;
      example ||= target;
    }
  }
  absent.clear();
  if (conflicts > 0) {
    throw new CoreError(
      'RESTORE_CONFLICT',
      `${conflicts} item(s) already exist at the target, for example ${example}. ` +
        'Choose to skip or to overwrite existing files, or restore into an empty folder.',
    );
  }

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

  // Second pass, parents before children: folders are made (owner-writable until their files
  // are in) as they come, files go to the pool in batches, other entries are made here; each
  // entry but a folder under a temporary name first (restore-file.ts).
  const blocked: string[] = [];
  const under = (p: string) => blocked.length > 0 && blocked.some((b) => p.startsWith(`${b}/`));
  const dirs: { target: string; node: TreeNode; made: boolean }[] = [];
  const temps = new RestoreTemps();
  const links = new HardLinks();
  for (const s of starts) temps.clean(dirname(s.target));
  // One lane runs on this thread: each of its tasks (~8 MiB of files) holds it ~20 ms.
  const pool = new WorkerPool(repo, options.threads, { inline: true });
  try {
    let batch: { file: RestoreFile; target: string; node: TreeNode }[] = [];
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
          const { target, node } = mine[i]!;
          links.written(node, target, !f.error && !f.existed);
          if (f.error) summary.errors.push({ path: target, message: f.error });
          else if (f.existed) {
            // Appeared after we looked: never replaced.
            if (options.onExisting === 'skip') summary.skipped++;
            else summary.errors.push({ path: target, message: 'a file appeared there during the restore and was left as it was' });
          } else {
            summary.files++;
            summary.bytes += f.bytes;
            bytesDone += f.bytes;
            for (const message of f.notKept ?? []) summary.errors.push({ path: target, message });
          }
          filesDone++;
        });
        emit(mine[mine.length - 1]!.target);
      });
      const tracked = p.finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
    };
    const drain = async () => {
      await flush();
      while (inFlight.size > 0) await Promise.race(inFlight);
    };
    const queueFile = async (node: TreeNode, target: string, replace: boolean) => {
      const file = restoreFile(repo, index, node, target, temps.next(dirname(target)), replace, absent.has(dirname(target)));
      batch.push({ file, target, node });
      batchBytes += node.size;
      if (batch.length >= BATCH_FILES || batchBytes >= BATCH_BYTES) await flush();
    };

    for await (const { node, target } of walk()) {
      check();
      if (under(target)) continue;
      const st = absent.has(dirname(target)) ? null : lstatOrNull(target);
      if (node.type === 'dir') {
        try {
          const entered = enterDir(target, st, options.onExisting, temps);
          if (entered === 'skipped') {
            summary.skipped++;
            blocked.push(target);
          } else {
            if (entered === 'made') absent.add(target); // made empty just now: nothing below it needs a lookup
            dirs.push({ target, node, made: entered === 'made' && absent.has(dirname(target)) });
          }
        } catch (e) {
          summary.errors.push({ path: target, message: errText(e) });
          blocked.push(target);
        }
        continue;
      }
      if (st && options.onExisting === 'skip') {
        summary.skipped++;
        links.existing(node, target);
        continue;
      }
      if (st?.isDirectory()) {
        summary.errors.push({ path: target, message: 'a folder is in the way of this file' });
        continue;
      }
      if (node.type !== 'file') {
        restoreSpecial(node, target, temps.next(dirname(target)), st !== null, absent.has(dirname(target)), summary);
        continue;
      }
      if (links.defer({ node, target, replace: st !== null })) continue;
      await queueFile(node, target, st !== null);
    }
    await drain();
    // Hard links last: each group's file is complete by now (or failed: then another is written).
    for (;;) {
      const { link, write } = links.take();
      for (const m of link) {
        check();
        const linked = linkMember(m, temps.next(dirname(m.target)), summary);
        if (linked === 'copy') await queueFile(m.node, m.target, m.replace);
        else if (linked) {
          bytesDone += m.node.size;
          filesDone++;
        }
      }
      for (const m of write) await queueFile(m.node, m.target, m.replace);
      await drain();
      if (link.length === 0 && write.length === 0) break;
    }
  } finally {
    temps.close();
    await pool.close();
  }
  setFolderMeta(dirs, summary);
  emit(null, true);
  return summary;
}

/**
 * A folder of the snapshot at `target` (`st`: what is there): 'made' anew, 'existing' (entered;
 * leftovers of stopped restores in it removed), or 'skipped' (a file is in the way and the
 * caller did not choose to overwrite it).
 */
function enterDir(target: string, st: Stats | null, onExisting: OnExisting, temps: RestoreTemps): 'made' | 'existing' | 'skipped' {
  if (st?.isDirectory()) {
    temps.clean(target);
    return 'existing';
  }
  if (st) {
    if (onExisting !== 'overwrite') return 'skipped';
    unlinkSync(fsPath(target));
  }
  makeDir(target);
  return 'made';
}

/** Folder metadata last, deepest first, so writing their contents did not change it. */
function setFolderMeta(dirs: { target: string; node: TreeNode; made: boolean }[], summary: RestoreSummary): void {
  for (const { target, node, made } of dirs.reverse()) {
    try {
      for (const message of applyMeta(target, node, made)) summary.errors.push({ path: target, message });
      summary.dirs++;
    } catch (e) {
      summary.errors.push({ path: target, message: errText(e) });
    }
  }
}

/** A new folder, owner-writable until its contents are in; its parents too when the target folder is new. */
function makeDir(target: string): void {
  try {
    mkdirSync(fsPath(target), { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    mkdirSync(fsPath(target), { recursive: true, mode: 0o700 });
  }
}

/** What a lane needs to write one file: where its chunks are, its metadata, where it goes. */
function restoreFile(repo: Repository, index: MasterIndex, node: TreeNode, target: string, tmp: string, replace: boolean, inNewFolder: boolean): RestoreFile {
  const blobs = (node.content ?? []).map((id) => {
    const loc = index.get(id, 'data');
    if (!loc) throw new CoreError('REPO_DAMAGED', `Data for ${displayName(target)} is missing from the repository. Run a check.`);
    return { id, pack: repo.packPath(loc.pack), offset: loc.offset, length: loc.length, rawLength: loc.rawLength, compressed: loc.compressed };
  });
  const { type, mode, uid, gid, mtime, xattrs, size } = node;
  return { target, tmp, replace, inNewFolder, node: { type, mode, uid, gid, mtime, xattrs, size }, blobs };
}

/** A symlink, FIFO, socket or device node, made and put in place here (restore-special.ts). */
function restoreSpecial(node: TreeNode, target: string, tmp: string, replace: boolean, inNewFolder: boolean, summary: RestoreSummary): void {
  try {
    const r = placeSpecial(node, tmp, target, replace, inNewFolder);
    if (!r.placed) {
      summary.errors.push({ path: target, message: 'something appeared there during the restore and was left as it was' });
      return;
    }
    if (node.type === 'symlink') summary.symlinks++;
    else summary.special++;
    for (const message of r.notKept) summary.errors.push({ path: target, message });
  } catch (e) {
    summary.errors.push({ path: target, message: specialError(node, e) ?? errText(e) });
  }
}

/** Link a hard link's name to its group's file; 'copy' where links cannot be made (the file is then written anew). */
function linkMember(m: Member & { anchor: string }, tmp: string, summary: RestoreSummary): boolean | 'copy' {
  try {
    if (!linkInPlace(m.anchor, m.target, m.replace, tmp)) {
      summary.errors.push({ path: m.target, message: 'a file appeared there during the restore and was left as it was' });
      return false;
    }
    summary.files++;
    summary.bytes += m.node.size;
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EPERM' || code === 'EXDEV' || code === 'EMLINK' || code === 'ENOTSUP') return 'copy';
    summary.errors.push({ path: m.target, message: errText(e) });
    return false;
  }
}

function lstatOrNull(p: string): Stats | null {
  try {
    return lstatSync(fsPath(p));
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

/** Where a restore starts: an item, and whether everything below it is restored too. */
interface Start extends Item {
  whole: boolean;
}

/**
 * The items a restore starts from: the snapshot's top-level entries, or each chosen path
 * (after its parent folders, which are made but not filled). Every chosen path is checked
 * here, before anything is written; a path chosen twice or inside another is restored once.
 */
async function selectionStarts(repo: Repository, index: MasterIndex, snapshot: SnapshotWithId, options: RestoreOptions): Promise<Start[]> {
  const root = await repo.loadTree(snapshot.tree, index, { cache: false });
  const topTarget = (name: string): string => {
    if (options.targetDir !== null) return join(options.targetDir, name);
    const original = snapshot.paths.find((p) => basename(p) === name);
    if (!original) throw new CoreError('REPO_DAMAGED', 'The snapshot does not say where one of its entries came from.');
    return original;
  };
  const chosen = (options.paths ?? []).map((p) => p.split('/').filter((s) => s.length > 0));
  if (chosen.length === 0) return root.nodes.map((node) => ({ node, target: topTarget(node.name), whole: true }));
  const inside = (a: string[], b: string[]) => a.length >= b.length && b.every((part, i) => a[i] === part);
  // Dropped: a path inside another chosen one, and the second of two equal ones.
  const wanted = chosen.filter((parts, i) => !chosen.some((other, j) => j !== i && inside(parts, other) && (other.length < parts.length || j < i)));
  const starts: Start[] = [];
  const seen = new Set<string>();
  for (const parts of wanted) {
    let nodes = root.nodes;
    let target = '';
    for (let i = 0; i < parts.length; i++) {
      const node = nodes.find((n) => n.name === parts[i]);
      if (!node) throw new CoreError('NOT_FOUND', `There is no "${parts.join('/')}" in this snapshot.`);
      target = i === 0 ? topTarget(node.name) : join(target, node.name);
      if (i === parts.length - 1) {
        starts.push({ node, target, whole: true });
        break;
      }
      if (node.type !== 'dir' || !node.subtree) throw new CoreError('NOT_FOUND', `There is no "${parts.join('/')}" in this snapshot.`);
      // Parent folders of a chosen path are created (owner-writable) but keep the snapshot's mode.
      if (!seen.has(target)) starts.push({ node, target, whole: false });
      seen.add(target);
      nodes = (await repo.loadTree(node.subtree, index, { cache: false })).nodes;
    }
  }
  return starts;
}

/** Every item under the starts, parents before children, one folder's tree loaded at a time. */
async function* walkSelection(repo: Repository, index: MasterIndex, starts: readonly Start[]): AsyncGenerator<Item> {
  const stack: Start[] = [...starts].reverse();
  while (stack.length > 0) {
    const item = stack.pop()!;
    yield item;
    const { node, target } = item;
    if (!item.whole || node.type !== 'dir' || !node.subtree) continue;
    const children = (await repo.loadTree(node.subtree, index, { cache: false })).nodes;
    for (let i = children.length - 1; i >= 0; i--) stack.push({ node: children[i]!, target: join(target, children[i]!.name), whole: true });
  }
}
