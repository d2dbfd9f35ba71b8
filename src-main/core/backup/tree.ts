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

/**
 * A tree's bytes: `JSON.stringify({ nodes })` with the nodes sorted and their keys in a fixed
 * order, so equal folders give equal bytes. Written in batches of nodes into one buffer rather
 * than through one string of the whole document: a folder of 18,000 files is a 4 MiB tree, and
 * the whole-document way made ~15 MiB of strings and copies at once, at the moment a backup's
 * memory peaks (docs/benchmarks.md). The bytes are the same; the tests hold the two ways to that.
 */
export function encodeTree(nodes: readonly TreeNode[]): Buffer {
  const sorted = [...nodes].sort(byName);
  if (sorted.length === 0) return Buffer.from('{"nodes":[]}');
  const out = new TreeBytes(sorted.length);
  for (let from = 0; from < sorted.length; from += BATCH_NODES) {
    const to = Math.min(sorted.length, from + BATCH_NODES);
    // An array's JSON is its elements' JSON joined by commas, inside brackets.
    const json = JSON.stringify(sorted.slice(from, to).map(orderedNode));
    out.append(`${from === 0 ? '{"nodes":[' : ','}${json.slice(1, -1)}${to === sorted.length ? ']}' : ''}`, to);
  }
  return out.bytes();
}

/** Nodes turned into text at a time (~64 KiB of a typical folder's tree). */
const BATCH_NODES = 256;

const byName = (a: TreeNode, b: TreeNode) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

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

/**
 * A tree's UTF-8 bytes, appended in batches into one buffer. When a batch does not fit, the
 * buffer grows to half again what the nodes so far project for the whole folder, so a large
 * folder is written without a copy (and never holds two copies of itself) unless its later
 * nodes are much larger than its first. The room left over costs address space, not memory:
 * a large block is mapped afresh, and pages never written are never backed (native.ts).
 */
class TreeBytes {
  private buf = Buffer.alloc(0);
  private used = 0;

  constructor(private readonly nodes: number) {}

  /** Append `text`, which brings the nodes written to `done`. */
  append(text: string, done: number): void {
    const bytes = Buffer.byteLength(text);
    if (this.used + bytes > this.buf.length) {
      const projected = done < this.nodes ? Math.ceil(((this.used + bytes) / done) * this.nodes * 1.5) : 0;
      const bigger = Buffer.allocUnsafe(Math.max(this.used + bytes, projected));
      this.buf.copy(bigger, 0, 0, this.used);
      this.buf = bigger;
    }
    this.used += this.buf.write(text, this.used, 'utf8');
  }

  bytes(): Buffer {
    return this.buf.subarray(0, this.used);
  }
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
