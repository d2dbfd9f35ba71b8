/**
 * The parent snapshot of an incremental backup (the newest of this host with the same sources),
 * and the small comparisons the walk makes against its nodes.
 */
import { hostname, userInfo } from 'node:os';
import { resolve } from 'node:path';
import { toSnapshotPath, type PathStyle } from '../../../../src-shared/paths.js';
import { HOST_PATH_STYLE } from './path-style.js';
import type { RepoProblem, Repository } from './repository.js';
import type { SnapshotWithId } from './snapshot.js';
import type { TreeNode } from './tree.js';
import type { EntryStat } from './walk.js';

/** The snapshot an incremental backup compares against: the newest of this host with the same sources. */
export async function findParent(repo: Repository, sources: readonly string[], damage: RepoProblem[] = []): Promise<SnapshotWithId | null> {
  const key = sourcesKey(
    sources.map((s) => toSnapshotPath(resolve(s), HOST_PATH_STYLE)),
    HOST_PATH_STYLE,
  );
  const host = hostname();
  const { snapshots: all, damaged } = await repo.loadSnapshots();
  damage.push(...damaged);
  for (let i = all.length - 1; i >= 0; i--) {
    const s = all[i]!;
    if (s.host === host && (s.pathStyle ?? 'posix') === HOST_PATH_STYLE && sourcesKey(s.paths, HOST_PATH_STYLE) === key) return s;
  }
  return null;
}

/** A set of snapshot paths as one comparable string: sorted, and without case on Windows. */
function sourcesKey(paths: readonly string[], style: PathStyle): string {
  return JSON.stringify(paths.map((p) => sameNameKey(p, style)).sort());
}

/** What two names or paths compare as on `style`'s file systems (src-shared/paths.ts). */
export function sameNameKey(name: string, style: PathStyle): string {
  return style === 'win32' ? name.toLowerCase() : name;
}

/** The same hard-link facts: link count and file system, kept only for more than one link. */
export function sameLinks(prev: TreeNode, st: EntryStat): boolean {
  return st.device === '' ? prev.links === undefined && prev.device === undefined : prev.links === st.links && prev.device === st.device;
}

export function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return '';
  }
}
