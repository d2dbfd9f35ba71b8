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
