/**
 * Hard links within a restore. Files of a snapshot that were one file (the same device and inode,
 * more than one link, docs/repository-format.md §8) come back as one file under all the names
 * restored: the first is written, the others are linked to it once it is complete. When the
 * restore skips existing files, an existing file at one of the names that is the snapshot's (same
 * size and modification time, as a backup would judge it) is the one the others are linked to,
 * so a re-run after a killed restore links what the killed run had not.
 */
import { linkSync, lstatSync, renameSync, rmSync } from 'node:fs';
import { fsPath } from './fs-names.js';
import type { TreeNode } from './tree.js';

export interface Member {
  node: TreeNode;
  target: string;
  /** Something is at `target` that the caller chose to overwrite. */
  replace: boolean;
}

interface Group {
  /** A complete file of the group, under its restored name. */
  anchor: string | null;
  /** One of the group is being written. */
  pending: boolean;
  waiting: Member[];
}

const keyOf = (node: TreeNode): string | null =>
  node.type === 'file' && node.links !== undefined && node.device !== undefined ? `${node.device}:${node.inode}` : null;

export class HardLinks {
  private readonly groups = new Map<string, Group>();

  private group(node: TreeNode): Group | null {
    const key = keyOf(node);
    if (key === null) return null;
    let g = this.groups.get(key);
    if (!g) this.groups.set(key, (g = { anchor: null, pending: false, waiting: [] }));
    return g;
  }

  /**
   * Whether this file waits to be linked rather than written: another of its group is complete or
   * being written. Otherwise the caller writes it, and tells `written` how that went.
   */
  defer(member: Member): boolean {
    const g = this.group(member.node);
    if (!g) return false;
    if (g.anchor !== null || g.pending) {
      g.waiting.push(member);
      return true;
    }
    g.pending = true;
    return false;
  }

  written(node: TreeNode, target: string, ok: boolean): void {
    const g = this.group(node);
    if (!g) return;
    g.pending = false;
    if (ok && g.anchor === null) g.anchor = target;
  }

  /** A file already at `target` (kept, as the caller skips existing files): the group's, if it is the snapshot's. */
  existing(node: TreeNode, target: string): void {
    const g = this.group(node);
    if (!g || g.anchor !== null || g.pending) return;
    try {
      const st = lstatSync(fsPath(target), { bigint: true });
      if (st.isFile() && st.size === BigInt(node.size) && st.mtimeNs === BigInt(node.mtime)) g.anchor = target;
    } catch {
      // gone since: the next of the group is written instead
    }
  }

  /**
   * The members to link now (their group has a complete file), and, of each group that has none
   * (its written file failed), one member to write next; the rest of such a group waits for it.
   */
  take(): { link: (Member & { anchor: string })[]; write: Member[] } {
    const link: (Member & { anchor: string })[] = [];
    const write: Member[] = [];
    for (const g of this.groups.values()) {
      if (g.waiting.length === 0 || g.pending) continue;
      if (g.anchor !== null) {
        for (const m of g.waiting.splice(0)) link.push({ ...m, anchor: g.anchor });
      } else {
        g.pending = true;
        write.push(g.waiting.shift()!);
      }
    }
    return { link, write };
  }
}

/**
 * Link `target` to the complete file `anchor`: never over anything (false when something is
 * there), or, when `replace`, through a temporary name renamed over what is there.
 */
export function linkInPlace(anchor: string, target: string, replace: boolean, tmp: string): boolean {
  if (!replace) {
    try {
      linkSync(fsPath(anchor), fsPath(target));
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    }
  }
  linkSync(fsPath(anchor), fsPath(tmp));
  try {
    renameSync(fsPath(tmp), fsPath(target));
  } catch (e) {
    rmSync(fsPath(tmp), { force: true });
    throw e;
  }
  return true;
}
