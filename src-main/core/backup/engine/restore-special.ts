/**
 * Restoring what is neither a file nor a folder: symlinks, FIFOs, sockets and device nodes. Each
 * is made under a temporary name, given its metadata, and renamed into place (restore-file.ts),
 * so a killed restore never leaves one half made under its own name. A socket is restored as the
 * file it was (no program listens on it); device nodes need root, as mknod does.
 */
import { rmSync, symlinkSync } from 'node:fs';
import { fsPath } from './fs-names.js';
import { makeNode } from './native.js';
import { placeEntry } from './restore-file.js';
import { applyMeta } from './restore-meta.js';
import type { TreeNode } from './tree.js';

const TYPE_BITS: Record<string, number> = { fifo: 0o010000, socket: 0o140000, chardev: 0o020000, blockdev: 0o060000 };

export type Placed = { placed: true; notKept: string[] } | { placed: false };

/**
 * Make `node` at `tmp`, set its metadata, and move it to `target` (over what is there when
 * `replace`). `{ placed: false }`: something appeared at `target` meanwhile and was left alone.
 * Throws what a person should read (see `specialError`) when it cannot be made.
 */
export function placeSpecial(node: TreeNode, tmp: string, target: string, replace: boolean, inNewFolder: boolean): Placed {
  const at = fsPath(tmp);
  if (node.type === 'symlink') symlinkSync(fsPath(node.linkTarget ?? ''), at);
  else makeNode(at, TYPE_BITS[node.type]! | 0o600, BigInt(node.rdev ?? '0'));
  try {
    const notKept = applyMeta(tmp, node, inNewFolder);
    if (!placeEntry(tmp, target, replace)) {
      rmSync(at, { force: true });
      return { placed: false };
    }
    return { placed: true, notKept };
  } catch (e) {
    rmSync(at, { force: true });
    throw e;
  }
}

/** Why a special entry could not be made, for the summary. */
export function specialError(node: TreeNode, e: unknown): string | null {
  const code = (e as NodeJS.ErrnoException)?.code;
  if ((node.type === 'chardev' || node.type === 'blockdev') && code === 'EPERM') return 'a device node: only root can restore it';
  if (code === 'ENOTSUP') return `${node.type === 'socket' ? 'a socket' : 'a special file'}: this system cannot make one`;
  return null;
}
