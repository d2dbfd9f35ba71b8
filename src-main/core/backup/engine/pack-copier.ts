/**
 * New packs made of sealed blobs copied as they are, for prune and repair: gathered up to the
 * pack size (format.ts) and each written whole, crash-safely (repository.ts savePack). The
 * caller verifies every blob before it hands it over: damage is never copied forward.
 */
import { PACK_TARGET_BYTES, type BlobType } from './format.js';
import type { PackEntry } from './pack.js';
import type { Repository } from './repository.js';

export interface CopiedBlob {
  id: string;
  type: BlobType;
  compressed: boolean;
  rawLength: number;
}

export class PackCopier {
  private blobs: Buffer[] = [];
  private entries: PackEntry[] = [];
  private size = 0;
  /** The packs written so far, with their entries. */
  readonly written = new Map<string, PackEntry[]>();
  /** Their bytes on disk. */
  bytes = 0;

  constructor(private readonly repo: Repository) {}

  async add(blob: CopiedBlob, sealed: Buffer): Promise<void> {
    this.entries.push({ id: blob.id, type: blob.type, compressed: blob.compressed, rawLength: blob.rawLength, length: sealed.length, offset: this.size });
    this.blobs.push(sealed);
    this.size += sealed.length;
    if (this.size >= PACK_TARGET_BYTES) await this.flush();
  }

  /** Write what is gathered as one pack (nothing when empty). */
  async flush(): Promise<void> {
    if (this.entries.length === 0) return;
    const { id, bytes } = await this.repo.savePack(this.blobs, this.entries);
    this.written.set(id, this.entries);
    this.bytes += bytes;
    this.blobs = [];
    this.entries = [];
    this.size = 0;
  }
}
