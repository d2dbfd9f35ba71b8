/**
 * Restore a whole snapshot or chosen paths, to where they came from or into another folder.
 * Every blob is decrypted and checked against its id before a byte of it is written. Each entry
 * but a folder is written under a temporary name, given its metadata and renamed into place
 * (restore-file.ts), so a name holds either nothing or the complete entry whenever the restore
 * stops, and a re-run that skips existing entries finishes the job: it removes the temporary
 * files a killed run left (restore-temps.ts), writes what is missing and sets every folder's
 * metadata again. Nothing already there is replaced unless the caller chose 'overwrite'.
 *
 * Damage is reported and passed by: a folder whose listing (tree) cannot be read, a file whose
 * data is missing or fails its check, are each named in the summary with the pack, and
 * everything else is restored. Only a root that cannot be read, a cancel or a full disk stop it.
 */
import { lstatSync, mkdirSync, unlinkSync, type Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import { CoreError } from '../../platform/errors.js';
import type { Progress } from './backup.js';
import { NO_TRANSFER } from './backup-types.js';
import type { MasterIndex } from './index.js';
import { WorkerPool } from './pool.js';
import type { Repository } from './repository.js';
import type { SnapshotWithId } from './snapshot.js';
import type { TreeNode } from './tree.js';
import { fsPath } from './fs-names.js';
import type { RestoreFile } from './restore-file.js';
import { HardLinks, linkInPlace, type Member } from './restore-links.js';
import { applyMeta } from './restore-meta.js';
import { placeSpecial, specialError } from './restore-special.js';
import { RestoreTemps } from './restore-temps.js';
import { originalPlace } from './snapshot-paths.js';
import { APPEARED_DURING_RESTORE, damage, stopped, writeProblem } from './messages.js';
import { RestoreBatches } from './restore-batches.js';
import { readAhead } from './read-ahead.js';
import { blobsOf, PackPrefetch } from './restore-prefetch.js';
import type { RestoreBlob } from './worker.js';
import type { RestoreSummary } from '../../../../src-shared/contract-backup.js';

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

/** The wire shape, declared once in the contract (src-shared): a restore returns exactly this. */
export type { RestoreSummary } from '../../../../src-shared/contract-backup.js';

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

export async function restore(repo: Repository, index: MasterIndex, snapshot: SnapshotWithId, options: RestoreOptions): Promise<RestoreSummary> {
  const summary: RestoreSummary = { files: 0, dirs: 0, symlinks: 0, special: 0, bytes: 0, skipped: 0, errors: [] };
  const starts = await selectionStarts(repo, index, snapshot, options, summary.errors);
  const walk = () => walkSelection(repo, index, starts);
  let batches: RestoreBatches | null = null;
  const check = () => {
    if (options.signal?.aborted) throw stopped.cancelled('restore');
    if (batches?.fatal) throw batches.fatal;
  };

  const fresh = (options.paths ?? []).length === 0 && starts.every((s) => lstatOrNull(s.target) === null);
  const { filesTotal, bytesTotal } = await firstPass(fresh ? null : walk(), fresh ? snapshot.summary : { files: 0, bytes: 0 }, options, check);
  const absent = new Set<string>();
  const counts = { filesDone: 0, bytesDone: 0 };
  const emit = progressEmitter(options, counts, filesTotal, bytesTotal);

  // Second pass, parents before children: folders are made (owner-writable until their files
  // are in) as they come, files go to the pool in batches, other entries are made here; each
  // entry but a folder under a temporary name first (restore-file.ts).
  const blocked: string[] = [];
  const under = (p: string) => blocked.length > 0 && blocked.some((b) => p.startsWith(`${b}/`));
  const dirs: { target: string; node: TreeNode; made: boolean }[] = [];
  const temps = new RestoreTemps();
  const links = new HardLinks();
  for (const s of starts) temps.clean(dirname(s.target));
  const pool = new WorkerPool(repo, options.threads, { inline: inlineLane(repo) });
  const prefetch = PackPrefetch.for(repo, index);
  batches = new RestoreBatches(pool, {
    result: ({ target, node }, f) => {
      prefetch?.letGo(node);
      links.written(node, target, !f.error && !f.existed);
      if (f.error) summary.errors.push({ path: target, message: f.error });
      else if (f.existed) {
        // Appeared after we looked: never replaced.
        if (options.onExisting === 'skip') summary.skipped++;
        else summary.errors.push({ path: target, message: APPEARED_DURING_RESTORE });
      } else {
        summary.files++;
        summary.bytes += f.bytes;
        counts.bytesDone += f.bytes;
        for (const message of f.notKept ?? []) summary.errors.push({ path: target, message });
      }
      counts.filesDone++;
    },
    batchDone: (last) => emit(last.target),
  });
  const queued = batches;
  const drain = async () => {
    await queued.flush();
    await queued.drain();
    check();
  };
  const queueFile = async (node: TreeNode, target: string, replace: boolean) => {
    const blobs = await blobsOf(repo, index, node, prefetch);
    if (!blobs) {
      summary.errors.push({ path: target, message: damage.dataNotIndexed().message });
      links.written(node, target, false);
      return;
    }
    const file = restoreFile(node, target, blobs, temps.next(dirname(target)), replace, absent.has(dirname(target)));
    check();
    await queued.add({ file, target, node });
  };
  try {
    const walk = walkSelection(repo, index, starts, prefetch);
    for await (const item of prefetch ? readAhead(walk, WALK_AHEAD_ITEMS) : walk) {
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
    await restoreLinks(links, { temps, summary, counts, check, queueFile, drain });
  } finally {
    prefetch?.stop();
    // Every task answers before the pool closes: none is left to fail unheard.
    await queued.drain();
    temps.close();
    await pool.close();
  }
  check();
  setFolderMeta(dirs, summary);
  emit(null, true);
  return summary;
}

/** Hard links last: each group's file is complete by now (or failed: then another is written). */
async function restoreLinks(
  links: HardLinks,
  run: {
    temps: RestoreTemps;
    summary: RestoreSummary;
    counts: { filesDone: number; bytesDone: number };
    check: () => void;
    queueFile: (node: TreeNode, target: string, replace: boolean) => Promise<void>;
    drain: () => Promise<void>;
  },
): Promise<void> {
  for (;;) {
    const { link, write } = links.take();
    for (const m of link) {
      run.check();
      const linked = linkMember(m, run.temps.next(dirname(m.target)), run.summary);
      if (linked === 'copy') await run.queueFile(m.node, m.target, m.replace);
      else if (linked) {
        run.counts.bytesDone += m.node.size;
        run.counts.filesDone++;
      }
    }
    for (const m of write) await run.queueFile(m.node, m.target, m.replace);
    await run.drain();
    if (link.length === 0 && write.length === 0) break;
  }
}

/**
 * First pass: totals for the progress bar, and, when the caller asked to fail on an existing
 * file, every conflict, before anything is written. The snapshot is streamed, never held: a
 * folder that does not exist has no entries, so nothing below one is looked up. A whole
 * snapshot restored where none of its top-level entries exists (a new or empty folder) needs
 * no pass (`walk` null): nothing can conflict, and its summary has the totals.
 */
async function firstPass(
  walk: AsyncIterable<Item | Lost> | null,
  known: { files: number; bytes: number },
  options: RestoreOptions,
  check: () => void,
): Promise<{ filesTotal: number; bytesTotal: number }> {
  let filesTotal = known.files;
  let bytesTotal = known.bytes;
  let conflicts = 0;
  let example = '';
  const absent = new Set<string>();
  for await (const item of walk ?? []) {
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
  if (conflicts > 0) {
    throw new CoreError(
      'RESTORE_CONFLICT',
      `${conflicts} item(s) already exist at the target, for example ${example}. ` +
        'Choose to skip or to overwrite existing files, or restore into an empty folder.',
    );
  }
  return { filesTotal, bytesTotal };
}

/** Progress, at most every 200 ms and once at the end. */
function progressEmitter(options: RestoreOptions, counts: { filesDone: number; bytesDone: number }, filesTotal: number, bytesTotal: number) {
  const started = Date.now();
  let last = 0;
  return (current: string | null, final = false): void => {
    const t = Date.now();
    if (!options.onProgress || (!final && t - last < 200)) return;
    last = t;
    const { filesDone, bytesDone } = counts;
    const rate = Math.round(bytesDone / Math.max(0.001, (t - started) / 1000));
    options.onProgress({
      filesDone,
      filesTotal,
      bytesDone,
      bytesTotal,
      currentFile: final ? null : current,
      bytesPerSecond: rate,
      etaSeconds: final ? 0 : rate > 0 ? Math.round((bytesTotal - bytesDone) / rate) : null,
      ...NO_TRANSFER,
    });
  };
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
function restoreFile(node: TreeNode, target: string, blobs: RestoreBlob[], tmp: string, replace: boolean, inNewFolder: boolean): RestoreFile {
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

const errText = writeProblem;

/**
 * From a folder one lane runs on this thread: each of its tasks (~8 MiB of files) holds it ~20 ms.
 * From a remote repository every lane is a worker thread: this thread's event loop receives the
 * packs, and a lane on it left their sockets unread while it wrote files.
 */
function inlineLane(repo: Repository): boolean {
  return repo.storage.localPath !== undefined;
}

/**
 * How far a remote restore's walk may run ahead (so that the prefetch learns of packs before the
 * restore needs them) of the files being written: items (files and
 * folders, already in memory as their trees' nodes), enough to keep every connection fetching.
 */
const WALK_AHEAD_ITEMS = 4096;

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
    return originalPlace(snapshot, name);
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
async function* walkSelection(
  repo: Repository,
  index: MasterIndex,
  starts: readonly Start[],
  prefetch: PackPrefetch | null = null,
): AsyncGenerator<Item | Lost> {
  prefetch?.folder(starts.map((s) => s.node));
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
    prefetch?.folder(children);
    for (let i = children.length - 1; i >= 0; i--) stack.push({ node: children[i]!, target: join(target, children[i]!.name), whole: true });
  }
}
