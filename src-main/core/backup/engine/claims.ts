/**
 * Which chunks a backup's worker threads still have to store, shared between them without a
 * round trip to the engine: a fixed-size open-addressing table of 64-bit fingerprints (the
 * first 8 bytes of a blob id) in a SharedArrayBuffer. A worker that hashes a chunk claims its
 * fingerprint with one compare-and-swap; only the thread that wins stores the chunk.
 *
 * The table is a hint, never the truth: the engine checks every id a worker skipped against
 * the index and the blobs stored in this run (full 32-byte ids), and has a chunk stored after
 * all if a claim was wrong (backup.ts). So the table may be lossy both ways, which keeps it
 * lock-free and simple: when its probes are exhausted a claim succeeds (the chunk is stored,
 * perhaps twice: a duplicate the index and prune already allow), and a fingerprint collision
 * (two ids with the same first 8 bytes) is caught by that check.
 */

/** Slots probed before a claim gives up and stores the chunk anyway. */
const MAX_PROBES = 32;

export class ClaimTable {
  /** Slots, then one more word: how many slots are taken. */
  private readonly words: BigInt64Array;
  private readonly mask: number;

  private constructor(readonly buffer: SharedArrayBuffer) {
    this.words = new BigInt64Array(buffer);
    this.mask = this.words.length - 2;
  }

  /** A table of at least `expected * 2` slots (a power of two), so it stays at most half full. */
  static create(expected: number): ClaimTable {
    let slots = 1 << 16;
    while (slots < expected * 2) slots *= 2;
    return new ClaimTable(new SharedArrayBuffer((slots + 1) * 8));
  }

  /** The same table, seen from another thread (its buffer arrived in a message). */
  static from(buffer: SharedArrayBuffer): ClaimTable {
    return new ClaimTable(buffer);
  }

  get capacity(): number {
    return this.mask + 1;
  }

  get size(): number {
    return Number(Atomics.load(this.words, this.mask + 1));
  }

  /**
   * Record the id's fingerprint. True when this call recorded it (the caller stores the chunk)
   * or the table had no room near it; false when it was already there.
   */
  claim(id: Uint8Array): boolean {
    const fp = fingerprint(id);
    const start = Number(fp & BigInt(this.mask));
    for (let i = 0; i < MAX_PROBES; i++) {
      const slot = (start + i) & this.mask;
      const seen = Atomics.load(this.words, slot);
      if (seen === fp) return false;
      if (seen !== 0n) continue;
      const before = Atomics.compareExchange(this.words, slot, 0n, fp);
      if (before === 0n) {
        Atomics.add(this.words, this.mask + 1, 1n);
        return true;
      }
      if (before === fp) return false; // another thread took this slot for the same id
    }
    return true;
  }
}

/** The first 8 bytes of an id (uniform: ids are HMACs), never 0, which marks an empty slot. */
export function fingerprint(id: Uint8Array): bigint {
  const fp = new DataView(id.buffer, id.byteOffset, 8).getBigInt64(0, true);
  return fp === 0n ? 1n : fp;
}
