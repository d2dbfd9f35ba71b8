/**
 * The index: which pack holds each blob, where, and how long it is. Stored as index files
 * (sealed, zstd-compressed JSON); in memory as one map from blob id to location. A blob may be
 * listed twice (an interrupted prune, or two backups at once); any copy will do.
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
    if (typeof p !== 'object' || p === null || Array.isArray(p) || !isHex64(p.id) || !Array.isArray(p.blobs)) throw new Error('an index pack has an unknown shape');
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

export interface BlobLocation {
  pack: string;
  type: BlobType;
  offset: number;
  length: number;
  rawLength: number;
  compressed: boolean;
}

export class MasterIndex {
  readonly blobs = new Map<string, BlobLocation>();
  /** Pack id -> its blobs' ids, for prune and check. */
  readonly packs = new Map<string, string[]>();

  has(id: string): boolean {
    return this.blobs.has(id);
  }

  get(id: string): BlobLocation | undefined {
    return this.blobs.get(id);
  }

  addPack(packId: string, entries: readonly PackEntry[]): void {
    const ids: string[] = [];
    for (const e of entries) {
      const id = e.id;
      ids.push(id);
      if (!this.blobs.has(id)) {
        this.blobs.set(id, { pack: packId, type: e.type, offset: e.offset, length: e.length, rawLength: e.rawLength, compressed: e.compressed });
      }
    }
    this.packs.set(packId, ids);
  }

  addFile(file: IndexFile): void {
    for (const p of file.packs) {
      const ids: string[] = [];
      for (const b of p.blobs) {
        ids.push(b.id);
        if (!this.blobs.has(b.id)) {
          this.blobs.set(b.id, { pack: p.id, type: b.type, offset: b.offset, length: b.length, rawLength: b.rawLength, compressed: b.compressed });
        }
      }
      this.packs.set(p.id, ids);
    }
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
