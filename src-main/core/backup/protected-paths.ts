/**
 * Where the backup services may write (docs/security.md, "Nothing below step-up destroys what a
 * step-up protects"): a restore never writes into a repository (connected here or not) or into
 * the app's data folder, and a repository is never made or connected inside one of them. A
 * restore writes a snapshot's entries at places derived from the target; each is checked
 * against every protected folder after resolving symlinks, in both directions: a destination
 * inside a protected folder is refused, and so is one that contains a protected folder when the
 * snapshot holds something at the protected folder's place (restoring it would merge into it or
 * collide with the folders on the way to it).
 */
import { existsSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import { absolutePathProblem, isInsidePath } from '../../../src-shared/paths.js';
import { HOST_PATH_STYLE } from './engine/path-style.js';
import { originalPlace } from './engine/snapshot-paths.js';
import { CoreError } from '../platform/errors.js';
import type { MasterIndex } from './engine/index.js';
import type { Repository } from './engine/repository.js';
import type { SnapshotWithId } from './engine/snapshot.js';
import type { TreeNode } from './engine/tree.js';
import { BACKUP_MESSAGES } from './messages.js';

export interface ProtectedFolder {
  path: string;
  /** Named in the refusal: `the repository “Home”`, `the app's data folder`. */
  label: string;
}

/** `path` with symlinks resolved as far as it exists; the rest (not yet created) appended as is. */
export function resolvePath(path: string): string {
  let existing = path;
  const rest: string[] = [];
  while (!existsSync(existing)) {
    const parent = dirname(existing);
    if (parent === existing) break;
    rest.unshift(basename(existing));
    existing = parent;
  }
  let real = existing;
  try {
    real = realpathSync(existing);
  } catch {
    // Unreadable: compare the path as given.
  }
  return rest.length ? join(real, ...rest) : real;
}

/** True when `inner` is `outer` or lies below it (without regard to case on Windows, as Windows compares). */
export function isInside(inner: string, outer: string): boolean {
  return isInsidePath(inner, outer, HOST_PATH_STYLE);
}

/** A folder that holds a Twofold repository, whether or not this app has it connected. */
function looksLikeRepository(folder: string): boolean {
  try {
    return statSync(join(folder, 'config')).isFile() && statSync(join(folder, 'keys')).isDirectory() && statSync(join(folder, 'snapshots')).isDirectory();
  } catch {
    return false;
  }
}

/** The nearest folder at or above `path` that holds a repository, if any. */
function enclosingRepository(path: string): string | null {
  for (let dir = path; ; dir = dirname(dir)) {
    if (looksLikeRepository(dir)) return dir;
    if (dirname(dir) === dir) return null;
  }
}

function refused(what: string): CoreError {
  return new CoreError('RESTORE_REFUSED', BACKUP_MESSAGES.restoreInto(what));
}

/** A repository is never made or connected inside a protected folder, nor around one. */
export function assertRepositoryPathAllowed(path: string, protectedFolders: readonly ProtectedFolder[]): void {
  const real = resolvePath(path);
  for (const folder of protectedFolders) {
    const p = resolvePath(folder.path);
    if (isInside(real, p) || isInside(p, real)) {
      throw new CoreError('BAD_INPUT', BACKUP_MESSAGES.overlaps(folder.label, folder.path));
    }
  }
  const enclosing = enclosingRepository(dirname(real));
  if (enclosing) throw new CoreError('BAD_INPUT', BACKUP_MESSAGES.insideRepository(enclosing));
}

interface Start {
  /** The entry's path inside the snapshot, as names. */
  parts: string[];
  /** Where the restore writes it. */
  dest: string;
}

/** The places a restore writes its selected entries to: the same mapping restore.ts makes. */
function restoreStarts(root: readonly TreeNode[], snapshot: SnapshotWithId, paths: readonly string[], targetDir: string | null): Start[] {
  const top = (name: string): string => {
    if (targetDir !== null) return join(targetDir, name);
    return originalPlace(snapshot, name);
  };
  if (paths.length === 0) return root.map((node) => ({ parts: [node.name], dest: top(node.name) }));
  return paths.map((p) => {
    const parts = p.split('/').filter((s) => s.length > 0);
    if (parts.length === 0) throw new CoreError('NOT_FOUND', BACKUP_MESSAGES.noSuchPath);
    return { parts, dest: join(top(parts[0]!), ...parts.slice(1)) };
  });
}

/** The node at `parts` below the snapshot's root, or null when the snapshot has nothing there. */
async function nodeAt(repo: Repository, index: MasterIndex, root: readonly TreeNode[], parts: readonly string[]): Promise<TreeNode | null> {
  let nodes = root;
  let node: TreeNode | null = null;
  for (const [i, part] of parts.entries()) {
    node = nodes.find((n) => n.name === part) ?? null;
    if (!node) return null;
    if (i === parts.length - 1) return node;
    if (node.type !== 'dir' || !node.subtree) return node;
    nodes = (await repo.loadTree(node.subtree, index)).nodes;
  }
  return node;
}

/**
 * Refuse a restore that would write into a protected folder. `parts` of a folder lying under a
 * destination are looked up in the snapshot: anything there (a folder merges into it, a file or
 * link collides with the folders on its way) refuses the restore.
 */
export async function assertRestoreAllowed(
  repo: Repository,
  index: MasterIndex,
  snapshot: SnapshotWithId,
  options: { paths: readonly string[]; targetDir: string | null },
  protectedFolders: readonly ProtectedFolder[],
): Promise<void> {
  const root = (await repo.loadTree(snapshot.tree, index)).nodes;
  const folders = protectedFolders.map((f) => ({ ...f, real: resolvePath(f.path) }));
  for (const start of restoreStarts(root, snapshot, options.paths, options.targetDir)) {
    const dest = resolvePath(start.dest);
    for (const folder of folders) {
      if (isInside(dest, folder.real)) throw refused(`${folder.label} (${folder.path})`);
    }
    const enclosing = enclosingRepository(dest);
    if (enclosing) throw refused(`the repository at ${enclosing}`);
    for (const folder of folders) {
      if (!isInside(folder.real, dest)) continue;
      const below = relative(dest, folder.real)
        .split(sep)
        .filter((s) => s.length > 0);
      for (let depth = 1; depth <= below.length; depth++) {
        const node = await nodeAt(repo, index, root, [...start.parts, ...below.slice(0, depth)]);
        if (!node) break;
        if (node.type !== 'dir' || depth === below.length) throw refused(`${folder.label} (${folder.path})`);
      }
    }
  }
}

/** A full path of this machine's own family: a Windows path on Linux (or the reverse) is refused. */
export function requireAbsolute(path: string): void {
  const problem = absolutePathProblem(path, HOST_PATH_STYLE);
  if (problem) throw new CoreError('BAD_INPUT', problem);
}
