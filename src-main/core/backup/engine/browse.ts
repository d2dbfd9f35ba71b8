/**
 * Reading snapshots without restoring them: list one folder, find files by name pattern across
 * snapshots, and diff two snapshots. Diff skips any subtree whose id is the same on both sides:
 * equal ids mean equal content, so it costs only what changed.
 */
import picomatch from 'picomatch';
import { CoreError } from '../../platform/errors.js';
import type { MasterIndex } from './index.js';
import type { Repository } from './repository.js';
import type { SnapshotWithId } from './snapshot.js';
import type { TreeNode } from './tree.js';

export interface EntryView {
  name: string;
  path: string;
  type: TreeNode['type'];
  size: number;
  mode: number;
  /** Milliseconds since the epoch. */
  mtime: number;
  linkTarget: string | null;
}

function view(node: TreeNode, path: string): EntryView {
  return {
    name: node.name,
    path,
    type: node.type,
    size: node.size,
    mode: node.mode,
    mtime: Number(BigInt(node.mtime) / 1_000_000n),
    linkTarget: node.linkTarget ?? null,
  };
}

function parts(path: string): string[] {
  return path.split('/').filter((p) => p.length > 0);
}

/** The entries of the folder at `path` ('' or '/' is the snapshot's top level). */
export async function listFolder(repo: Repository, index: MasterIndex, snapshot: SnapshotWithId, path: string): Promise<EntryView[]> {
  let nodes = (await repo.loadTree(snapshot.tree, index)).nodes;
  const walked: string[] = [];
  for (const part of parts(path)) {
    const node = nodes.find((n) => n.name === part);
    if (!node || node.type !== 'dir' || !node.subtree) throw new CoreError('NOT_FOUND', 'There is no such folder in this snapshot.');
    walked.push(part);
    nodes = (await repo.loadTree(node.subtree, index)).nodes;
  }
  const prefix = walked.join('/');
  return nodes.map((n) => view(n, prefix ? `${prefix}/${n.name}` : n.name));
}

export interface FoundEntry extends EntryView {
  snapshotId: string;
  snapshotTime: string;
}

/**
 * Entries whose path matches `pattern` (a glob; without a slash it matches the name alone),
 * in every snapshot given, newest first, up to `limit`.
 */
export async function findEntries(
  repo: Repository,
  index: MasterIndex,
  snapshots: readonly SnapshotWithId[],
  pattern: string,
  limit: number,
): Promise<FoundEntry[]> {
  const byName = !pattern.includes('/');
  const match = picomatch(pattern, { dot: true, nocase: true });
  const found: FoundEntry[] = [];
  const visit = async (treeId: string, prefix: string, s: SnapshotWithId): Promise<void> => {
    for (const n of (await repo.loadTree(treeId, index)).nodes) {
      if (found.length >= limit) return;
      const path = prefix ? `${prefix}/${n.name}` : n.name;
      if (match(byName ? n.name : path)) found.push({ ...view(n, path), snapshotId: s.id, snapshotTime: s.time });
      if (n.type === 'dir' && n.subtree) await visit(n.subtree, path, s);
    }
  };
  for (const s of [...snapshots].sort((a, b) => b.time.localeCompare(a.time))) {
    if (found.length >= limit) break;
    await visit(s.tree, '', s);
  }
  return found;
}

export interface SnapshotDiff {
  added: string[];
  removed: string[];
  modified: string[];
  /** True when a list stopped at `limit`. */
  truncated: boolean;
}

export async function diffSnapshots(repo: Repository, index: MasterIndex, from: SnapshotWithId, to: SnapshotWithId, limit: number): Promise<SnapshotDiff> {
  const out: SnapshotDiff = { added: [], removed: [], modified: [], truncated: false };
  const push = (list: string[], path: string) => {
    if (list.length < limit) list.push(path);
    else out.truncated = true;
  };
  const all = async (treeId: string | undefined, prefix: string, list: string[]) => {
    if (!treeId) return;
    for (const n of (await repo.loadTree(treeId, index)).nodes) {
      const path = `${prefix}/${n.name}`;
      push(list, n.type === 'dir' ? `${path}/` : path);
      if (n.type === 'dir') await all(n.subtree, path, list);
    }
  };
  const walk = async (a: string | undefined, b: string | undefined, prefix: string): Promise<void> => {
    if (a === b) return;
    const left = new Map(a ? (await repo.loadTree(a, index)).nodes.map((n) => [n.name, n]) : []);
    const right = new Map(b ? (await repo.loadTree(b, index)).nodes.map((n) => [n.name, n]) : []);
    for (const [name, r] of right) {
      const l = left.get(name);
      const path = `${prefix}/${name}`;
      if (!l || l.type !== r.type) {
        if (l) {
          push(out.removed, l.type === 'dir' ? `${path}/` : path);
          if (l.type === 'dir') await all(l.subtree, path, out.removed);
        }
        push(out.added, r.type === 'dir' ? `${path}/` : path);
        if (r.type === 'dir') await all(r.subtree, path, out.added);
      } else if (r.type === 'dir') {
        await walk(l.subtree, r.subtree, path);
      } else if (l.size !== r.size || l.mode !== r.mode || l.linkTarget !== r.linkTarget || (l.content ?? []).join() !== (r.content ?? []).join()) {
        push(out.modified, path);
      }
    }
    for (const [name, l] of left) {
      if (right.has(name)) continue;
      const path = `${prefix}/${name}`;
      push(out.removed, l.type === 'dir' ? `${path}/` : path);
      if (l.type === 'dir') await all(l.subtree, path, out.removed);
    }
  };
  await walk(from.tree, to.tree, '');
  return out;
}
