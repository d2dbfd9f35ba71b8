/**
 * The in-memory index (index.ts): a packed hash table of blob locations. It must answer exactly
 * as a plain Map of every id to its first location would, however many blobs it holds.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MasterIndex, type BlobLocation } from '../../src-main/core/backup/index.js';
import type { PackEntry } from '../../src-main/core/backup/pack.js';

const hex = () => randomBytes(32).toString('hex');

function entry(id: string, i: number): PackEntry {
  return { id, type: i % 7 === 0 ? 'tree' : 'data', compressed: i % 3 !== 0, length: 100 + i, rawLength: 300 + i * 2, offset: i * 1000 };
}

describe('the in-memory index', () => {
  it('finds every blob of thousands, in many packs, at its first location', () => {
    const index = new MasterIndex();
    const reference = new Map<string, BlobLocation>();
    const packs = new Map<string, string[]>();
    const all: string[] = [];
    for (let p = 0; p < 40; p++) {
      const packId = hex();
      const entries: PackEntry[] = [];
      for (let b = 0; b < 250; b++) {
        // Every tenth blob repeats one seen before: the index keeps its first location.
        const id = b % 10 === 9 && all.length > 0 ? all[(p * 31 + b) % all.length]! : hex();
        const e = entry(id, p * 250 + b);
        entries.push(e);
        if (!reference.has(id)) {
          reference.set(id, { pack: packId, type: e.type, offset: e.offset, length: e.length, rawLength: e.rawLength, compressed: e.compressed });
          all.push(id);
        }
      }
      index.addPack(packId, entries);
      packs.set(packId, entries.map((e) => e.id));
    }
    expect(index.blobCount).toBe(reference.size);
    expect(index.packCount).toBe(40);
    for (const [id, location] of reference) {
      expect(index.has(id)).toBe(true);
      expect(index.get(id)).toEqual(location);
    }
    for (let i = 0; i < 1000; i++) {
      const absent = hex();
      expect(index.has(absent)).toBe(false);
      expect(index.get(absent)).toBeUndefined();
    }
    expect(index.packIds()).toEqual([...packs.keys()]);
    for (const [packId, ids] of packs) {
      expect(index.hasPack(packId)).toBe(true);
      // Duplicates included: a pack lists what its header lists.
      expect(index.blobsOfPack(packId)).toEqual(ids);
    }
    expect(index.hasPack(hex())).toBe(false);
    expect(index.blobsOfPack(hex())).toEqual([]);
  });

  it('reads index files to the same result as pack headers', () => {
    const packId = hex();
    const entries = [entry(hex(), 1), entry(hex(), 7), entry(hex(), 12)];
    const fromHeader = new MasterIndex();
    fromHeader.addPack(packId, entries);
    const fromFile = new MasterIndex();
    fromFile.addFile({ version: 1, supersedes: [], packs: [{ id: packId, blobs: entries.map(({ id, type, offset, length, rawLength, compressed }) => ({ id, type, offset, length, rawLength, compressed })) }] });
    for (const e of entries) expect(fromFile.get(e.id)).toEqual(fromHeader.get(e.id));
    expect(fromFile.blobsOfPack(packId)).toEqual(fromHeader.blobsOfPack(packId));
  });

  it('keeps large offsets and lengths exactly', () => {
    const index = new MasterIndex();
    const id = hex();
    index.addPack(hex(), [{ id, type: 'data', compressed: false, length: 2 ** 32 - 1, rawLength: 2 ** 31, offset: 2 ** 40 + 3 }]);
    expect(index.get(id)).toMatchObject({ length: 2 ** 32 - 1, rawLength: 2 ** 31, offset: 2 ** 40 + 3 });
  });

  it('answers "not here" for an id that is not 64 hex digits, and refuses to store one', () => {
    const index = new MasterIndex();
    for (const bad of ['', 'abc', 'z'.repeat(64), 'A'.repeat(63), `${'a'.repeat(64)}0`]) {
      expect(index.has(bad)).toBe(false);
      expect(index.get(bad)).toBeUndefined();
    }
    expect(() => index.addPack(hex(), [entry('x'.repeat(64), 1)])).toThrow('64 hex digits');
  });
});
