/**
 * Tree objects: one JSON document per directory, stored as a tree blob. Nodes are sorted by
 * name (UTF-16 code unit order, as JavaScript sorts), so the same directory state always encodes
 * to the same bytes and so to the same id: an unchanged directory is never stored twice.
 */
import { z } from 'zod';

const Hex64 = z.string().regex(/^[0-9a-f]{64}$/);
/** Nanoseconds since the Unix epoch as a decimal string: JSON numbers cannot hold them exactly. */
const Nanos = z.string().regex(/^-?\d{1,22}$/);

export const TreeNodeSchema = z.object({
  name: z.string().min(1).max(4096).refine((n) => n !== '.' && n !== '..' && !n.includes('/') && !n.includes('\0')),
  type: z.enum(['file', 'dir', 'symlink']),
  mode: z.number().int().nonnegative(),
  mtime: Nanos,
  ctime: Nanos,
  inode: z.string().regex(/^\d{1,22}$/),
  uid: z.number().int().nonnegative(),
  gid: z.number().int().nonnegative(),
  size: z.number().int().nonnegative(),
  content: z.array(Hex64).optional(),
  subtree: Hex64.optional(),
  linkTarget: z.string().optional(),
});
export type TreeNode = z.infer<typeof TreeNodeSchema>;

export const TreeSchema = z.object({ nodes: z.array(TreeNodeSchema) });
export type Tree = z.infer<typeof TreeSchema>;

export function encodeTree(nodes: TreeNode[]): Buffer {
  const sorted = [...nodes].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return Buffer.from(JSON.stringify({ nodes: sorted.map(orderedNode) }), 'utf8');
}

/** Fixed key order, so equal nodes give equal bytes. */
function orderedNode(n: TreeNode): TreeNode {
  const out: TreeNode = {
    name: n.name,
    type: n.type,
    mode: n.mode,
    mtime: n.mtime,
    ctime: n.ctime,
    inode: n.inode,
    uid: n.uid,
    gid: n.gid,
    size: n.size,
  };
  if (n.content) out.content = n.content;
  if (n.subtree) out.subtree = n.subtree;
  if (n.linkTarget !== undefined) out.linkTarget = n.linkTarget;
  return out;
}

/** 64 lower-case hex digits; a loop, as this runs for every chunk id of every tree read. */
function isHex64(v: unknown): boolean {
  if (typeof v !== 'string' || v.length !== 64) return false;
  for (let i = 0; i < 64; i++) {
    const c = v.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}
const NANOS = /^-?\d{1,22}$/;
const DIGITS = /^\d{1,22}$/;
const TYPES = new Set(['file', 'dir', 'symlink']);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * Parse a tree blob. This is TreeSchema written out by hand: an incremental backup decodes every
 * tree of its parent snapshot, and this check is several times faster than the generic one while
 * accepting exactly the same documents (the tests hold the two to that).
 */
export function decodeTree(plain: Buffer): Tree {
  const doc: unknown = JSON.parse(plain.toString('utf8'));
  const nodes = (doc as { nodes?: unknown } | null)?.nodes;
  if (typeof doc !== 'object' || doc === null || !Array.isArray(nodes)) throw new Error('not a tree');
  for (const n of nodes as Record<string, unknown>[]) {
    const ok =
      typeof n === 'object' &&
      n !== null &&
      typeof n.name === 'string' &&
      n.name.length > 0 &&
      n.name.length <= 4096 &&
      n.name !== '.' &&
      n.name !== '..' &&
      !n.name.includes('/') &&
      !n.name.includes('\0') &&
      TYPES.has(n.type as string) &&
      isCount(n.mode) &&
      typeof n.mtime === 'string' &&
      NANOS.test(n.mtime) &&
      typeof n.ctime === 'string' &&
      NANOS.test(n.ctime) &&
      typeof n.inode === 'string' &&
      DIGITS.test(n.inode) &&
      isCount(n.uid) &&
      isCount(n.gid) &&
      isCount(n.size) &&
      (n.content === undefined || (Array.isArray(n.content) && n.content.every(isHex64))) &&
      (n.subtree === undefined || isHex64(n.subtree)) &&
      (n.linkTarget === undefined || typeof n.linkTarget === 'string');
    if (!ok) throw new Error('a tree node has an unknown shape');
  }
  return doc as Tree;
}
