/**
 * What a backup's walk waits for: a folder's files still in the pool (PendingFile, FolderWait:
 * no promise per file) and nodes still being worked on (Later: a folder with files in the
 * pool, or a large file). Everything else is settled on the spot.
 */
import type { NodeMeta } from './nodes.js';
import type { TreeNode } from './tree.js';
import type { EntryStat } from './walk.js';

/**
 * A node still being worked on: a folder holding files still in the pool, or a large file.
 * Everything else is settled on the spot: an incremental run walks most of the tree without
 * allocating a promise per entry.
 */
export class Later {
  value: TreeNode | null = null;
  readonly done: Promise<void>;
  constructor(node: Promise<TreeNode | null>) {
    this.done = node.then((n) => {
      this.value = n;
    });
    // Its folder awaits `done` and so sees a failure. But when the walk stops first (a cancel,
    // a failed write), no folder ever will, and a large file's segments still fail afterwards:
    // observed here, that is not an unhandled rejection (which ends a Node process).
    this.done.catch(() => undefined);
  }
}

/**
 * A file whose contents are in the pool: its node is set when its batch is answered. No promise
 * per file: a folder of 18,000 small files held 18,000 promise chains at once, a large part of
 * a first backup's peak memory (docs/benchmarks.md). Its folder waits for all of them at once.
 */
export class PendingFile {
  node: TreeNode | null = null;
  constructor(
    readonly folder: FolderWait,
    readonly meta: NodeMeta,
    readonly changed: boolean,
    /** The file as the walk saw it: what its read is checked against. */
    readonly state: EntryStat,
  ) {
    folder.count++;
  }

  arrive(node: TreeNode | null): void {
    this.node = node;
    this.folder.arrived();
  }
}

/** The files of one folder still in the pool. */
export class FolderWait {
  count = 0;
  private wake: (() => void) | null = null;

  arrived(): void {
    if (--this.count === 0) this.wake?.();
  }

  /** Settles once every file counted so far has arrived. */
  all(): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve) => (this.wake = resolve));
  }
}

export type Outcome = TreeNode | null | Later | PendingFile;

/** The nodes of a folder's entries, once its files and subfolders are done. */
export async function settleAll(children: Outcome[], folder: FolderWait): Promise<(TreeNode | null)[]> {
  await folder.all();
  const later = children.filter((c): c is Later => c instanceof Later);
  if (later.length > 0) await Promise.all(later.map((l) => l.done));
  return children.map(nodeOf);
}
const nodeOf = (o: Outcome): TreeNode | null => (o instanceof Later ? o.value : o instanceof PendingFile ? o.node : o);
