/**
 * Restore a whole snapshot or chosen paths, to where they came from or into another folder.
 * Every blob is decrypted and checked against its id before a byte of it is written. New files
 * are created with O_EXCL, so nothing already there is ever replaced unless the caller chose
 * 'overwrite'; replacing goes through a temp file and a rename, so a replaced file is never
 * half-written. (A restore killed midway can leave a partly written new file; re-run it.)
 *
 * Damage is reported and passed by: a folder whose listing (tree) cannot be read, a file whose
 * data is missing or fails its check, are each named in the summary with the pack, and
 * everything else is restored. Only a root that cannot be read, a cancel or a full disk stop it.
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
import type { RestoreBlob, RestoreFile } from './worker.js';
import { APPEARED_DURING_RESTORE, damage, stopped, writeProblem } from './messages.js';
import { RestoreBatches } from './restore-batches.js';

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

/** A folder whose listing cannot be read: it is made, but what it held cannot be restored. */
interface Lost {
  lost: true;
  target: string;
  message: string;
}

/** Nanosecond string -> seconds for utimes (which takes fractional seconds). */
export function nanosToSeconds(ns: string): number {
  const n = BigInt(ns);
  return Number(n / 1_000_000_000n) + Number(n % 1_000_000_000n) / 1e9;
}

export async function restore(repo: Repository, index: MasterIndex, snapshot: SnapshotWithId, options: RestoreOptions): Promise<RestoreSummary> {
  const summary: RestoreSummary = { files: 0, dirs: 0, symlinks: 0, bytes: 0, skipped: 0, errors: [] };
  const starts = await selectionStarts(repo, index, snapshot, options, summary.errors);
  const walk = () => walkSelection(repo, index, starts);
  let batches: RestoreBatches | null = null;
  const check = () => {
    if (options.signal?.aborted) throw stopped.cancelled('restore');
    if (batches?.fatal) throw batches.fatal;
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
  for await (const item of fresh ? [] : walk()) {
    check();
    if ('lost' in item) continue; // named by the second pass
    const { node, target } = item;
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

  // Ownership is restored only as root, and best effort: content and modes are what restore promises.
  const asRoot = process.getuid?.() === 0;
  const chown = (target: string, node: TreeNode) => {
    if (!asRoot || (node.uid === 0 && node.gid === (process.getgid?.() ?? 0))) return;
    try {
      lchownSync(target, node.uid, node.gid);
    } catch {
      // best effort
    }
  };

  // Second pass, parents before children: folders are made (owner-writable until their files
  // are in) as they come, files go to the pool in batches, symlinks are made here.
  const blocked: string[] = [];
  const under = (p: string) => blocked.length > 0 && blocked.some((b) => p.startsWith(`${b}/`));
  const dirs: { target: string; node: TreeNode }[] = [];
  // One lane runs on this thread: each of its tasks (~8 MiB of files) holds it ~20 ms.
  const pool = new WorkerPool(repo, options.threads, { inline: true });
  batches = new RestoreBatches(pool, {
    result: ({ target, node }, f) => {
      if (f.error) summary.errors.push({ path: target, message: f.error });
      else if (f.existed) {
        // Appeared after we looked: never replaced.
        if (options.onExisting === 'skip') summary.skipped++;
        else summary.errors.push({ path: target, message: APPEARED_DURING_RESTORE });
      } else {
        summary.files++;
        summary.bytes += f.bytes;
        bytesDone += f.bytes;
        chown(target, node);
      }
      filesDone++;
    },
    batchDone: (last) => emit(last.target),
  });
  try {
    for await (const item of walk()) {
      check();
      if ('lost' in item) {
        if (!under(item.target)) summary.errors.push({ path: `${item.target}/`, message: item.message });
        continue;
      }
      const { node, target } = item;
      if (under(target)) continue;
      const st = absent.has(dirname(target)) ? null : lstatOrNull(target);
      if (node.type === 'dir') {
        try {
          if (st && !st.isDirectory()) {
            if (options.onExisting !== 'overwrite') {
              summary.skipped++;
              blocked.push(target);
              continue;
            }
            unlinkSync(target);
          }
          if (!st || !st.isDirectory()) {
            try {
              mkdirSync(target, { mode: 0o700 });
            } catch (e) {
              if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
              mkdirSync(target, { recursive: true, mode: 0o700 }); // the target folder itself is new
            }
            absent.add(target); // made empty just now: nothing below it needs a lookup
          }
          dirs.push({ target, node });
        } catch (e) {
          summary.errors.push({ path: target, message: errText(e) });
          blocked.push(target);
        }
        continue;
      }
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
          chown(target, node);
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
      const blobs = blobsOf(repo, index, node);
      if (!blobs) {
        summary.errors.push({ path: target, message: damage.dataNotIndexed().message });
        continue;
      }
      const t = nanosToSeconds(node.mtime);
      // Replacing an existing file goes through a temp name and a rename, so it is never half-written.
      const file: RestoreFile = { target, tmp: st ? tempPath(target) : null, mode: node.mode, atimeSec: t, mtimeSec: t, blobs };
      await batches.add({ file, target, node });
    }
    await batches.flush();
  } finally {
    // Every task answers before the pool closes: none is left to fail unheard.
    await batches.drain();
    await pool.close();
  }
  check();

  // Folder modes and times last, deepest first, so writing their contents did not change them.
  for (const { target, node } of dirs.reverse()) {
    try {
      chmodSync(target, node.mode & 0o7777);
      const t = nanosToSeconds(node.mtime);
      utimesSync(target, t, t);
      chown(target, node);
      summary.dirs++;
    } catch (e) {
      summary.errors.push({ path: target, message: errText(e) });
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

const errText = writeProblem;

/** Where each chunk of a file lies, or null when some chunk is in no index (its data is lost). */
function blobsOf(repo: Repository, index: MasterIndex, node: TreeNode): RestoreBlob[] | null {
  const blobs: RestoreBlob[] = [];
  for (const id of node.content ?? []) {
    const loc = index.get(id, 'data');
    if (!loc) return null;
    blobs.push({ id, pack: repo.packPath(loc.pack), offset: loc.offset, length: loc.length, rawLength: loc.rawLength, compressed: loc.compressed });
  }
  return blobs;
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
async function selectionStarts(
  repo: Repository,
  index: MasterIndex,
  snapshot: SnapshotWithId,
  options: RestoreOptions,
  errors: RestoreSummary['errors'],
): Promise<Start[]> {
  // Without its top folder a snapshot has nothing to restore: that alone stops the restore.
  const root = await repo.loadTree(snapshot.tree, index, { cache: false });
  const topTarget = (name: string): string => {
    if (options.targetDir !== null) return join(options.targetDir, name);
    const original = snapshot.paths.find((p) => basename(p) === name);
    if (!original) throw damage.snapshotOrigin();
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
      try {
        nodes = (await repo.loadTree(node.subtree, index, { cache: false })).nodes;
      } catch (e) {
        if (!(e instanceof CoreError) || e.code !== 'REPO_DAMAGED') throw e;
        // This chosen path cannot be reached; the others still can.
        errors.push({ path: `${target}/`, message: lostListing(e) });
        break;
      }
    }
  }
  return starts;
}

/** What a folder whose listing cannot be read tells the summary. */
function lostListing(e: CoreError): string {
  return `its listing cannot be read, so nothing in it can be restored: ${e.message}`;
}

/**
 * Every item under the starts, parents before children, one folder's tree loaded at a time. A
 * folder whose tree is damaged comes as itself and then as Lost: the walk goes on past it. Any
 * other failure (the repository's disk stopped answering) ends the walk.
 */
async function* walkSelection(repo: Repository, index: MasterIndex, starts: readonly Start[]): AsyncGenerator<Item | Lost> {
  const stack: Start[] = [...starts].reverse();
  while (stack.length > 0) {
    const item = stack.pop()!;
    yield item;
    const { node, target } = item;
    if (!item.whole || node.type !== 'dir' || !node.subtree) continue;
    let children: TreeNode[];
    try {
      children = (await repo.loadTree(node.subtree, index, { cache: false })).nodes;
    } catch (e) {
      if (!(e instanceof CoreError) || e.code !== 'REPO_DAMAGED') throw e;
      yield { lost: true, target, message: lostListing(e) };
      continue;
    }
    for (let i = children.length - 1; i >= 0; i--) stack.push({ node: children[i]!, target: join(target, children[i]!.name), whole: true });
  }
}
