/**
 * A restored entry's metadata, set in the one order that keeps every part of it: the owner
 * first (changing it clears setuid, setgid and file capabilities), then the extended
 * attributes (POSIX ACLs among them; set while the entry is still writable to us), then the
 * mode (setuid and setgid included), then the times: the modification time to the nanosecond,
 * before 1970 too, and the access time set to it, as restic does by default
 * (docs/repository-format.md §8). Runs on the restore's own thread (folders, symlinks, special
 * files) and on the pool's lanes (files, through their descriptors).
 */
import { chmodSync, fchmodSync, fchownSync, futimesSync, lchownSync, lutimesSync } from 'node:fs';
import { fsPath, nameBytes, isWellFormed, displayName } from './fs-names.js';
import { setTimes, setXattr } from './native.js';
import type { TreeNode } from './tree.js';

/** What of a node its metadata is. */
export type NodeMetaToSet = Pick<TreeNode, 'type' | 'mode' | 'uid' | 'gid' | 'mtime' | 'xattrs'>;

const myUid = process.geteuid?.();
const myGid = process.getegid?.();

/**
 * Whose the entry is to be, as this process may make it: root gives any owner; anyone else can
 * only keep a file their own and give it one of their groups (what `cp -a` and restic do); on
 * Windows nothing. Null: leave the owner as created, as when an entry made in a folder this
 * restore made (which has no setgid bit yet) already has the node's owner and group: the
 * process's own. That saves a call per file where it matters most, restoring one's own files.
 */
function ownerFor(node: NodeMetaToSet, inNewFolder: boolean): [number, number] | null {
  if (myUid === undefined) return null;
  if (inNewFolder && node.uid === myUid && node.gid === myGid) return null;
  if (myUid === 0) return [node.uid, node.gid];
  return node.uid === myUid ? [-1, node.gid] : null;
}

/** Nanoseconds (a decimal string) as seconds for Node's utimes, where the addon is missing. */
export function nanosToSeconds(ns: string): number {
  const n = BigInt(ns);
  return Number(n / 1_000_000_000n) + Number(n % 1_000_000_000n) / 1e9;
}

/**
 * Set `node`'s metadata on an open file (`target` a descriptor) or on a path (escaped bytes
 * allowed; a symlink itself, never what it points to). `inNewFolder`: the entry was made in a
 * folder this restore made. Returns what could not be kept, in words for the summary; throws when
 * the mode or the times cannot be set, which a restore promises.
 */
export function applyMeta(target: number | string, node: NodeMetaToSet, inNewFolder: boolean): string[] {
  const notKept: string[] = [];
  const path = typeof target === 'string' ? fsPath(target) : null;
  const owner = ownerFor(node, inNewFolder);
  if (owner) {
    try {
      if (path === null) fchownSync(target as number, owner[0], owner[1]);
      else lchownSync(path, owner[0], owner[1]);
    } catch (e) {
      // Only root's failure is news: anyone else may not give a file away (nor was asked to).
      if (myUid === 0) notKept.push(`owner not restored (${codeOf(e)})`);
    }
  }
  const failed = setXattrs(path ?? (target as number), node);
  if (failed) notKept.push(failed);
  if (node.type !== 'symlink') {
    if (path === null) fchmodSync(target as number, node.mode & 0o7777);
    else chmodSync(path, node.mode & 0o7777);
  }
  setTime(path ?? (target as number), node);
  return notKept;
}

/** Every extended attribute of the node; a message naming those that could not be set, or null. */
function setXattrs(target: number | string | Buffer, node: NodeMetaToSet): string | null {
  const failed: string[] = [];
  let code = '';
  for (const x of node.xattrs ?? []) {
    try {
      setXattr(target, isWellFormed(x.name) ? x.name : nameBytes(x.name), Buffer.from(x.value, 'base64'));
    } catch (e) {
      failed.push(displayName(x.name));
      code ||= codeOf(e);
    }
  }
  if (failed.length === 0) return null;
  return `extended attribute${failed.length > 1 ? 's' : ''} ${failed.join(', ')} not restored (${code})`;
}

function setTime(target: number | string | Buffer, node: NodeMetaToSet): void {
  const ns = BigInt(node.mtime);
  if (setTimes) return setTimes(target, ns, ns);
  const t = nanosToSeconds(node.mtime);
  if (typeof target === 'number') futimesSync(target, t, t);
  else lutimesSync(target, t, t);
}

function codeOf(e: unknown): string {
  return (e as NodeJS.ErrnoException)?.code ?? 'error';
}
