/**
 * Tree objects: one JSON document per directory, stored as a tree blob. Nodes are sorted by
 * name (UTF-16 code unit order, as JavaScript sorts), so the same directory state always encodes
 * to the same bytes and so to the same id: an unchanged directory is never stored twice.
 *
 * In memory a name, a symlink target or an extended attribute's name that is not valid UTF-8 is
 * a string with escaped bytes (fs-names.ts); on disk it is the readable text (`name`,
 * `linkTarget`) plus the exact bytes in base64 (`rawName`, `rawLinkTarget`), which JSON can
 * carry whatever they are (docs/repository-format.md §8).
 */
import { isUtf8 } from 'node:buffer';
import { z } from 'zod';
import { displayName, isWellFormed, nameBytes, nameFromBytes } from './fs-names.js';

export const NODE_TYPES = ['file', 'dir', 'symlink', 'fifo', 'socket', 'chardev', 'blockdev'] as const;
export type NodeType = (typeof NODE_TYPES)[number];

/** One extended attribute: its name (escaped bytes where not UTF-8) and its value in base64. */
export interface Xattr {
  name: string;
  value: string;
}

/** A tree node as the engine holds it (names with escaped bytes, no raw fields). */
export interface TreeNode {
  name: string;
  type: NodeType;
  mode: number;
  mtime: string;
  ctime: string;
  inode: string;
  uid: number;
  gid: number;
  size: number;
  /** The link count of a non-folder with more than one link (hard links), and its file system. */
  links?: number;
  device?: string;
  /** The device a character or block device node stands for (st_rdev). */
  rdev?: string;
  content?: string[];
  subtree?: string;
  linkTarget?: string;
  /** Sorted by name; absent when there are none. */
  xattrs?: Xattr[];
}

export interface Tree {
  nodes: TreeNode[];
}

const Hex64 = z.string().regex(/^[0-9a-f]{64}$/);
/** Nanoseconds since the Unix epoch as a decimal string: JSON numbers cannot hold them exactly. */
const Nanos = z.string().regex(/^-?\d{1,22}$/);
const Digits = z.string().regex(/^\d{1,22}$/);
/** Standard base64 with padding, as Node writes it. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const Base64 = z.string().regex(BASE64);
const goodName = (n: string) => n !== '.' && n !== '..' && !n.includes('/') && !n.includes('\0') && isWellFormed(n);
/** Raw bytes are stored only where the text cannot hold them: never for valid UTF-8. */
const rawBytes = (b64: string, max: number, isName: boolean) => {
  const b = Buffer.from(b64, 'base64');
  return b.length > 0 && b.length <= max && !isUtf8(b) && !b.includes(0) && (!isName || !b.includes(0x2f));
};

/** A tree node exactly as stored (docs/repository-format.md §8). */
export const TreeNodeSchema = z
  .object({
    name: z.string().min(1).max(4096).refine(goodName),
    rawName: Base64.refine((b) => rawBytes(b, 4096, true)).optional(),
    type: z.enum(NODE_TYPES),
    mode: z.number().int().nonnegative(),
    mtime: Nanos,
    ctime: Nanos,
    inode: Digits,
    uid: z.number().int().nonnegative(),
    gid: z.number().int().nonnegative(),
    size: z.number().int().nonnegative(),
    links: z.number().int().min(2).optional(),
    device: Digits.optional(),
    rdev: Digits.optional(),
    content: z.array(Hex64).optional(),
    subtree: Hex64.optional(),
    linkTarget: z
      .string()
      .refine((t) => isWellFormed(t) && !t.includes('\0'))
      .optional(),
    rawLinkTarget: Base64.refine((b) => rawBytes(b, 65_536, false)).optional(),
    xattrs: z
      .array(
        z.object({
          name: z
            .string()
            .min(1)
            .max(255)
            .refine((n) => isWellFormed(n) && !n.includes('\0')),
          rawName: Base64.refine((b) => rawBytes(b, 255, false)).optional(),
          value: Base64,
        }),
      )
      .min(1)
      .optional(),
  })
  .refine((n) => n.rawLinkTarget === undefined || n.linkTarget !== undefined);

export const TreeSchema = z.object({ nodes: z.array(TreeNodeSchema) });

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

const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** A stored node's fields: the in-memory node's, plus raw bytes where its text cannot hold them. */
type StoredNode = Omit<TreeNode, 'xattrs'> & { rawName?: string; rawLinkTarget?: string; xattrs?: StoredXattr[] };
type StoredXattr = Xattr & { rawName?: string };

/** Fixed key order, so equal nodes give equal bytes; names that are not UTF-8 stored as bytes. */
function orderedNode(n: TreeNode): StoredNode {
  const raw = !isWellFormed(n.name);
  const out = { name: raw ? displayName(n.name) : n.name } as StoredNode;
  if (raw) out.rawName = nameBytes(n.name).toString('base64');
  out.type = n.type;
  out.mode = n.mode;
  out.mtime = n.mtime;
  out.ctime = n.ctime;
  out.inode = n.inode;
  out.uid = n.uid;
  out.gid = n.gid;
  out.size = n.size;
  if (n.links !== undefined) out.links = n.links;
  if (n.device !== undefined) out.device = n.device;
  if (n.rdev !== undefined) out.rdev = n.rdev;
  if (n.content) out.content = n.content;
  if (n.subtree) out.subtree = n.subtree;
  if (n.linkTarget !== undefined) {
    const rawTarget = !isWellFormed(n.linkTarget);
    out.linkTarget = rawTarget ? displayName(n.linkTarget) : n.linkTarget;
    if (rawTarget) out.rawLinkTarget = nameBytes(n.linkTarget).toString('base64');
  }
  if (n.xattrs && n.xattrs.length > 0) out.xattrs = [...n.xattrs].sort(byName).map(storedXattr);
  return out;
}

function storedXattr(x: Xattr): StoredXattr {
  if (isWellFormed(x.name)) return { name: x.name, value: x.value };
  return { name: displayName(x.name), rawName: nameBytes(x.name).toString('base64'), value: x.value };
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
const TYPES = new Set<string>(NODE_TYPES);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isText = (v: unknown, max: number): v is string => typeof v === 'string' && v.length > 0 && v.length <= max && isWellFormed(v) && !v.includes('\0');
const isDigits = (v: unknown) => v === undefined || (typeof v === 'string' && DIGITS.test(v));
/** Stored raw bytes (§8): base64 of bytes that are not UTF-8; their escaped string, or null. */
function rawText(v: unknown, max: number, isName: boolean): string | null {
  if (typeof v !== 'string' || !BASE64.test(v) || !rawBytes(v, max, isName)) return null;
  return nameFromBytes(Buffer.from(v, 'base64'));
}

/**
 * Parse a tree blob. This is TreeSchema written out by hand: an incremental backup decodes every
 * tree of its parent snapshot, and this check is several times faster than the generic one while
 * accepting exactly the same documents (the tests hold the two to that). Raw bytes become the
 * escaped strings the engine works with (fs-names.ts).
 */
export function decodeTree(plain: Buffer): Tree {
  const doc: unknown = JSON.parse(plain.toString('utf8'));
  const nodes = (doc as { nodes?: unknown } | null)?.nodes;
  if (typeof doc !== 'object' || doc === null || !Array.isArray(nodes)) throw new Error('not a tree');
  for (const n of nodes as Record<string, unknown>[]) {
    const ok =
      typeof n === 'object' &&
      n !== null &&
      isText(n.name, 4096) &&
      n.name !== '.' &&
      n.name !== '..' &&
      !n.name.includes('/') &&
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
      (n.linkTarget === undefined || (typeof n.linkTarget === 'string' && isWellFormed(n.linkTarget) && !n.linkTarget.includes('\0'))) &&
      (n.links === undefined || (isCount(n.links) && n.links >= 2)) &&
      isDigits(n.device) &&
      isDigits(n.rdev) &&
      (n.rawName === undefined || unescapeRaw(n, 'rawName', 'name', 4096, true)) &&
      (n.rawLinkTarget === undefined || (n.linkTarget !== undefined && unescapeRaw(n, 'rawLinkTarget', 'linkTarget', 65_536, false))) &&
      (n.xattrs === undefined || goodXattrs(n.xattrs));
    if (!ok) throw new Error('a tree node has an unknown shape');
  }
  return doc as Tree;
}

/** Replace a stored text field by the exact bytes its raw field holds (as escaped bytes). */
function unescapeRaw(n: Record<string, unknown>, raw: string, text: string, max: number, isName: boolean): boolean {
  const exact = rawText(n[raw], max, isName);
  if (exact === null) return false;
  n[text] = exact;
  delete n[raw];
  return true;
}

function goodXattrs(v: unknown): boolean {
  if (!Array.isArray(v) || v.length === 0) return false;
  return v.every(
    (x: Record<string, unknown>) =>
      typeof x === 'object' &&
      x !== null &&
      isText(x.name, 255) &&
      typeof x.value === 'string' &&
      BASE64.test(x.value) &&
      (x.rawName === undefined || unescapeRaw(x, 'rawName', 'name', 255, false)),
  );
}
