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

export function decodeTree(plain: Buffer): Tree {
  return TreeSchema.parse(JSON.parse(plain.toString('utf8')));
}
