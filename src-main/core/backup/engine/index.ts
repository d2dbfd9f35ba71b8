/**
 * The index: which pack holds each blob, where, and how long it is. Stored as index files
 * (sealed, zstd-compressed JSON); in memory as one map from blob (type and id) to location. A
 * blob is its type and its id together: a file whose bytes equal a folder's tree encoding has
 * that tree's id, and both must be found. A blob may be listed twice (an interrupted prune, or
 * two backups at once); any copy will do.
 */
import { z } from 'zod';
import type { BlobType } from './format.js';
import type { PackEntry } from './pack.js';

const Hex64 = z.string().regex(/^[0-9a-f]{64}$/);

export const IndexFileSchema = z.object({
  version: z.literal(1),
  /** Index files this one replaces (written by prune); they may be deleted once this one is. */
  supersedes: z.array(Hex64),
  packs: z.array(
    z.object({
      id: Hex64,
      blobs: z.array(
        z.object({
          id: Hex64,
          type: z.enum(['data', 'tree']),
          offset: z.number().int().nonnegative(),
          length: z.number().int().positive(),
          rawLength: z.number().int().nonnegative(),
          compressed: z.boolean(),
        }),
      ),
    }),
  ),
});
export type IndexFile = z.infer<typeof IndexFileSchema>;

const HEX64 = /^[0-9a-f]{64}$/;
const BLOB_TYPES = new Set(['data', 'tree']);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isHex64 = (v: unknown): v is string => typeof v === 'string' && v.length === 64 && HEX64.test(v);

/**
 * Check a parsed index file. This is IndexFileSchema written out by hand: every backup, restore
 * and check reads every index file first, and this is several times faster than the generic
 * check while accepting exactly the same documents (the tests hold the two to that). Throws on
 * any other shape.
 */
export function decodeIndexFile(doc: unknown): IndexFile {
  const d = doc as Partial<Record<keyof IndexFile, unknown>> | null;
  if (typeof d !== 'object' || d === null || Array.isArray(d) || d.version !== 1) throw new Error('not an index file');
  if (!Array.isArray(d.supersedes) || !d.supersedes.every(isHex64) || !Array.isArray(d.packs)) throw new Error('not an index file');
  for (const p of d.packs as Record<string, unknown>[]) {
    if (typeof p !== 'object' || p === null || Array.isArray(p) || !isHex64(p.id) || !Array.isArray(p.blobs))
      throw new Error('an index pack has an unknown shape');
    for (const b of p.blobs as Record<string, unknown>[]) {
      const ok =
        typeof b === 'object' &&
        b !== null &&
        !Array.isArray(b) &&
        isHex64(b.id) &&
        BLOB_TYPES.has(b.type as string) &&
        isCount(b.offset) &&
        isCount(b.length) &&
        b.length > 0 &&
        isCount(b.rawLength) &&
        typeof b.compressed === 'boolean';
      if (!ok) throw new Error('an index entry has an unknown shape');
    }
  }
  return d as IndexFile;
}

/** One string for a blob's type and id, for sets (the same id may name a tree and a data blob). */
export function blobKey(b: { id: string; type: BlobType }): string {
  return `${b.type}:${b.id}`;
}

export interface BlobLocation {
  pack: string;
  type: BlobType;
  offset: number;
  length: number;
  rawLength: number;
  compressed: boolean;
}

const ID_BYTES = 32;
/** What the index keeps of a blob: a pack header's entry, or an index file's. */
type Located = Pick<PackEntry, 'id' | 'type' | 'offset' | 'length' | 'rawLength' | 'compressed'>;
const MALFORMED = -2;
const FLAG_TREE = 1;
const FLAG_COMPRESSED = 2;

/**
 * The index in memory: every blob's location, in flat typed arrays with an open-addressing hash
 * table over the binary ids (blob ids are HMAC outputs, so their first bytes are already a
 * uniform hash). About 70 bytes a blob, against ~250 for a Map of hex strings to objects: the
 * index is the one structure of a backup that grows with the repository (restic packs its
 * in-memory index for the same reason). The first location added for a blob is the one used.
 */
export class MasterIndex {
  private count = 0;
  private ids = Buffer.alloc(0);
  private packOf = new Int32Array(0);
  private offsets = new Float64Array(0);
  private lengths = new Uint32Array(0);
  private rawLengths = new Uint32Array(0);
  private flags = new Uint8Array(0);
  /** Hash slots: 0 is empty, otherwise entry number + 1. Always at most half full. */
  private slots = new Int32Array(16);
  private readonly packIdList: string[] = [];
  private readonly packNumbers = new Map<string, number>();
  /** Per pack, the entry numbers of the blobs it lists (a duplicate points at the first entry of its id). */
  private readonly packBlobs: Int32Array[] = [];
  /** Where a hex id is decoded for lookups. */
  private readonly probe = Buffer.alloc(ID_BYTES);

  get blobCount(): number {
    return this.count;
  }

  get packCount(): number {
    return this.packIdList.length;
  }

  has(id: string, type: BlobType): boolean {
    return this.find(id, type) >= 0;
  }

  get(id: string, type: BlobType): BlobLocation | undefined {
    const e = this.find(id, type);
    if (e < 0) return undefined;
    const f = this.flags[e]!;
    return {
      pack: this.packIdList[this.packOf[e]!]!,
      type: f & FLAG_TREE ? 'tree' : 'data',
      offset: this.offsets[e]!,
      length: this.lengths[e]!,
      rawLength: this.rawLengths[e]!,
      compressed: (f & FLAG_COMPRESSED) !== 0,
    };
  }

  hasPack(packId: string): boolean {
    return this.packNumbers.has(packId);
  }

  packIds(): string[] {
    return [...this.packIdList];
  }

  /** The blobs a pack lists (its header's order), or [] for a pack not in the index. */
  blobsOfPack(packId: string): { id: string; type: BlobType }[] {
    const n = this.packNumbers.get(packId);
    if (n === undefined) return [];
    return Array.from(this.packBlobs[n]!, (e) => ({
      id: this.ids.toString('hex', e * ID_BYTES, (e + 1) * ID_BYTES),
      type: this.flags[e]! & FLAG_TREE ? ('tree' as const) : ('data' as const),
    }));
  }

  /** Call `fn` with the raw 32 bytes of every data blob's id (a view, valid only during the call). */
  forEachDataId(fn: (id: Buffer) => void): void {
    for (let e = 0; e < this.count; e++) {
      if (!(this.flags[e]! & FLAG_TREE)) fn(this.ids.subarray(e * ID_BYTES, (e + 1) * ID_BYTES));
    }
  }

  addPack(packId: string, entries: readonly Located[]): void {
    const pack = this.packNumber(packId);
    const listed = new Int32Array(entries.length);
    entries.forEach((e, i) => {
      listed[i] = this.add(e.id, pack, e.type, e.offset, e.length, e.rawLength, e.compressed);
    });
    this.packBlobs[pack] = listed;
  }

  addFile(file: IndexFile): void {
    for (const p of file.packs) this.addPack(p.id, p.blobs);
  }

  private packNumber(packId: string): number {
    let n = this.packNumbers.get(packId);
    if (n === undefined) {
      n = this.packIdList.length;
      this.packIdList.push(packId);
      this.packNumbers.set(packId, n);
      this.packBlobs.push(new Int32Array(0));
    }
    return n;
  }

  /** Add a location; returns the entry number of the id (an existing one if already known). */
  private add(id: string, pack: number, type: BlobType, offset: number, length: number, rawLength: number, compressed: boolean): number {
    const existing = this.find(id, type);
    if (existing === MALFORMED) throw new Error('a blob id must be 64 hex digits');
    if (existing >= 0) return existing;
    if (this.count === this.packOf.length) this.grow();
    if ((this.count + 1) * 2 > this.slots.length) this.rehash(this.slots.length * 2);
    const e = this.count++;
    this.probe.copy(this.ids, e * ID_BYTES); // find() left the id decoded in probe
    this.packOf[e] = pack;
    this.offsets[e] = offset;
    this.lengths[e] = length;
    this.rawLengths[e] = rawLength;
    this.flags[e] = (type === 'tree' ? FLAG_TREE : 0) | (compressed ? FLAG_COMPRESSED : 0);
    this.place(e);
    return e;
  }

  /** The entry number of a blob, -1 when absent, MALFORMED when the id is not 64 hex digits. Leaves the id decoded in `probe`. */
  private find(id: string, type: BlobType): number {
    if (typeof id !== 'string' || id.length !== ID_BYTES * 2 || this.probe.write(id, 'hex') !== ID_BYTES) return MALFORMED;
    const tree = type === 'tree' ? FLAG_TREE : 0;
    const mask = this.slots.length - 1;
    for (let s = this.probe.readUInt32LE(0) & mask; ; s = (s + 1) & mask) {
      const slot = this.slots[s]!;
      if (slot === 0) return -1;
      const e = slot - 1;
      if ((this.flags[e]! & FLAG_TREE) === tree && this.ids.compare(this.probe, 0, ID_BYTES, e * ID_BYTES, (e + 1) * ID_BYTES) === 0) return e;
    }
  }

  private place(e: number): void {
    const mask = this.slots.length - 1;
    let s = this.ids.readUInt32LE(e * ID_BYTES) & mask;
    while (this.slots[s] !== 0) s = (s + 1) & mask;
    this.slots[s] = e + 1;
  }

  private rehash(size: number): void {
    this.slots = new Int32Array(size);
    for (let e = 0; e < this.count; e++) this.place(e);
  }

  private grow(): void {
    const capacity = Math.max(1024, this.packOf.length * 2);
    const ids = Buffer.alloc(capacity * ID_BYTES);
    this.ids.copy(ids);
    this.ids = ids;
    const widen = <T extends Int32Array | Float64Array | Uint32Array | Uint8Array>(old: T, make: (n: number) => T): T => {
      const next = make(capacity);
      next.set(old as never);
      return next;
    };
    this.packOf = widen(this.packOf, (n) => new Int32Array(n));
    this.offsets = widen(this.offsets, (n) => new Float64Array(n));
    this.lengths = widen(this.lengths, (n) => new Uint32Array(n));
    this.rawLengths = widen(this.rawLengths, (n) => new Uint32Array(n));
    this.flags = widen(this.flags, (n) => new Uint8Array(n));
  }
}

/** An index file listing `packs` (pack id -> its header entries). */
export function indexFileFor(packs: ReadonlyMap<string, readonly PackEntry[]>, supersedes: string[] = []): IndexFile {
  return {
    version: 1,
    supersedes,
    packs: [...packs].map(([id, entries]) => ({
      id,
      blobs: entries.map((e) => ({
        id: e.id,
        type: e.type,
        offset: e.offset,
        length: e.length,
        rawLength: e.rawLength,
        compressed: e.compressed,
      })),
    })),
  };
}
