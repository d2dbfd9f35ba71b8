/**
 * Tree nodes as a backup builds them from what lstat (walk.ts) and the extended attributes say,
 * and the comparison an incremental backup makes with its parent snapshot's nodes.
 */
import { nameFromBytes } from './fs-names.js';
import type { NodeType, TreeNode, Xattr } from './tree.js';
import type { EntryStat } from './walk.js';

/** What every node of an entry carries, whatever its type. */
export interface NodeMeta {
  name: string;
  mode: number;
  mtime: string;
  ctime: string;
  inode: string;
  uid: number;
  gid: number;
  links: number | undefined;
  device: string | undefined;
  rdev: string | undefined;
  xattrs: Xattr[] | undefined;
}

export function nodeMeta(name: string, st: EntryStat, xattrs: Xattr[] | undefined): NodeMeta {
  return {
    name,
    mode: st.mode,
    mtime: st.mtimeNs,
    ctime: st.ctimeNs,
    inode: st.inode,
    uid: st.uid,
    gid: st.gid,
    // Hard links are kept only where there are some: a non-folder with more than one link.
    links: st.device !== '' ? st.links : undefined,
    device: st.device !== '' ? st.device : undefined,
    rdev: st.rdev !== '' ? st.rdev : undefined,
    xattrs,
  };
}

/** Extended attributes as the addon reads them ([name, value, ...] bytes), sorted by name. */
export function xattrsFrom(flat: readonly Uint8Array[]): Xattr[] | undefined {
  if (flat.length === 0) return undefined;
  const out: Xattr[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const value = flat[i + 1]!;
    out.push({ name: nameFromBytes(flat[i]!), value: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/*
 * Nodes are written out key by key, one literal per type, never spread from their metadata:
 * V8 gave each spread copy a hidden class of its own, ~370 bytes more per node, 6-7 MiB for a
 * folder of 18,000 files held until its tree is stored (docs/benchmarks.md). The keys that most
 * nodes lack are there all the same (undefined, which a tree does not store), so that every node
 * of a type has one shape.
 */
export function fileNode(m: NodeMeta, size: number, content: string[]): TreeNode {
  return {
    name: m.name,
    type: 'file',
    mode: m.mode,
    mtime: m.mtime,
    ctime: m.ctime,
    inode: m.inode,
    uid: m.uid,
    gid: m.gid,
    size,
    links: m.links,
    device: m.device,
    rdev: undefined,
    content,
    subtree: undefined,
    linkTarget: undefined,
    xattrs: m.xattrs,
  };
}

export function dirNode(m: NodeMeta, subtree: string): TreeNode {
  return {
    name: m.name,
    type: 'dir',
    mode: m.mode,
    mtime: m.mtime,
    ctime: m.ctime,
    inode: m.inode,
    uid: m.uid,
    gid: m.gid,
    size: 0,
    links: undefined,
    device: undefined,
    rdev: undefined,
    content: undefined,
    subtree,
    linkTarget: undefined,
    xattrs: m.xattrs,
  };
}

export function symlinkNode(m: NodeMeta, linkTarget: string): TreeNode {
  return {
    name: m.name,
    type: 'symlink',
    mode: m.mode,
    mtime: m.mtime,
    ctime: m.ctime,
    inode: m.inode,
    uid: m.uid,
    gid: m.gid,
    size: 0,
    links: m.links,
    device: m.device,
    rdev: undefined,
    content: undefined,
    subtree: undefined,
    linkTarget,
    xattrs: m.xattrs,
  };
}

/** A FIFO, a socket or a device node: its metadata is all there is to keep. */
export function specialNode(m: NodeMeta, type: Exclude<NodeType, 'file' | 'dir' | 'symlink'>): TreeNode {
  return {
    name: m.name,
    type,
    mode: m.mode,
    mtime: m.mtime,
    ctime: m.ctime,
    inode: m.inode,
    uid: m.uid,
    gid: m.gid,
    size: 0,
    links: m.links,
    device: m.device,
    rdev: m.rdev,
    content: undefined,
    subtree: undefined,
    linkTarget: undefined,
    xattrs: m.xattrs,
  };
}

/** Equal node lists (both sorted by name, as trees and our walk keep them). */
export function sameNodes(a: readonly TreeNode[], b: readonly TreeNode[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (
      x.name !== y.name ||
      x.type !== y.type ||
      x.mode !== y.mode ||
      x.mtime !== y.mtime ||
      x.ctime !== y.ctime ||
      x.inode !== y.inode ||
      x.uid !== y.uid ||
      x.gid !== y.gid ||
      x.size !== y.size ||
      x.links !== y.links ||
      x.device !== y.device ||
      x.rdev !== y.rdev ||
      x.subtree !== y.subtree ||
      x.linkTarget !== y.linkTarget ||
      !sameXattrs(x.xattrs, y.xattrs)
    ) {
      return false;
    }
    const cx = x.content;
    const cy = y.content;
    // An unchanged file carries its parent's very array: identity settles it without a loop.
    if (cx !== cy && (cx === undefined || cy === undefined || cx.length !== cy.length || cx.some((c, j) => c !== cy[j]))) return false;
  }
  return true;
}

function sameXattrs(a: Xattr[] | undefined, b: Xattr[] | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  return a.every((x, i) => x.name === b[i]!.name && x.value === b[i]!.value);
}
