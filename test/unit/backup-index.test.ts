/**
 * The in-memory index (index.ts): a packed hash table of blob locations. It must answer exactly
 * as a plain Map of every blob (type and id) to its first location would, however many blobs
 * it holds.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { blobKey, MasterIndex, type BlobLocation } from '../../src-main/core/backup/engine/index.js';
import type { BlobType } from '../../src-main/core/backup/engine/format.js';
import type { PackEntry } from '../../src-main/core/backup/engine/pack.js';

const hex = () => randomBytes(32).toString('hex');

function entry(id: string, i: number, type: BlobType = i % 7 === 0 ? 'tree' : 'data'): PackEntry {
  return { id, type, compressed: i % 3 !== 0, length: 100 + i, rawLength: 300 + i * 2, offset: i * 1000 };
}

describe('the in-memory index', () => {
  it('finds every blob of thousands, in many packs, at its first location', () => {
    const index = new MasterIndex();
    const reference = new Map<string, BlobLocation>();
    const packs = new Map<string, { id: string; type: BlobType }[]>();
    const all: { id: string; type: BlobType }[] = [];
    for (let p = 0; p < 40; p++) {
      const packId = hex();
      const entries: PackEntry[] = [];
      for (let b = 0; b < 250; b++) {
        // Every tenth blob repeats one seen before: the index keeps its first location.
        const again = b % 10 === 9 && all.length > 0 ? all[(p * 31 + b) % all.length]! : null;
        const e = again ? entry(again.id, p * 250 + b, again.type) : entry(hex(), p * 250 + b);
        entries.push(e);
        if (!reference.has(blobKey(e))) {
          reference.set(blobKey(e), { pack: packId, type: e.type, offset: e.offset, length: e.length, rawLength: e.rawLength, compressed: e.compressed });
          all.push({ id: e.id, type: e.type });
        }
      }
      index.addPack(packId, entries);
      packs.set(
        packId,
        entries.map(({ id, type }) => ({ id, type })),
      );
    }
    expect(index.blobCount).toBe(reference.size);
    expect(index.packCount).toBe(40);
    for (const { id, type } of all) {
      expect(index.has(id, type)).toBe(true);
      expect(index.get(id, type)).toEqual(reference.get(blobKey({ id, type })));
      // The same id as the other type is another blob, which none of these is.
      const other = type === 'tree' ? 'data' : 'tree';
      expect(index.has(id, other)).toBe(false);
    }
    for (let i = 0; i < 1000; i++) {
      const absent = hex();
      expect(index.has(absent, 'data')).toBe(false);
      expect(index.get(absent, 'tree')).toBeUndefined();
    }
    expect(index.packIds()).toEqual([...packs.keys()]);
    for (const [packId, blobs] of packs) {
      expect(index.hasPack(packId)).toBe(true);
      // Duplicates included: a pack lists what its header lists.
      expect(index.blobsOfPack(packId)).toEqual(blobs);
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
    fromFile.addFile({
      version: 1,
      supersedes: [],
      packs: [
        { id: packId, blobs: entries.map(({ id, type, offset, length, rawLength, compressed }) => ({ id, type, offset, length, rawLength, compressed })) },
      ],
    });
    for (const e of entries) expect(fromFile.get(e.id, e.type)).toEqual(fromHeader.get(e.id, e.type));
    expect(fromFile.blobsOfPack(packId)).toEqual(fromHeader.blobsOfPack(packId));
  });

  it('keeps large offsets and lengths exactly', () => {
    const index = new MasterIndex();
    const id = hex();
    index.addPack(hex(), [{ id, type: 'data', compressed: false, length: 2 ** 32 - 1, rawLength: 2 ** 31, offset: 2 ** 40 + 3 }]);
    expect(index.get(id, 'data')).toMatchObject({ length: 2 ** 32 - 1, rawLength: 2 ** 31, offset: 2 ** 40 + 3 });
  });

  it('keeps a tree and a data blob with the same id apart, each at its own location', () => {
    const index = new MasterIndex();
    const id = hex();
    const [treePack, dataPack] = [hex(), hex()];
    index.addPack(treePack, [entry(id, 1, 'tree')]);
    index.addPack(dataPack, [entry(id, 2, 'data')]);
    expect(index.blobCount).toBe(2);
    expect(index.get(id, 'tree')).toMatchObject({ pack: treePack, type: 'tree', offset: 1000 });
    expect(index.get(id, 'data')).toMatchObject({ pack: dataPack, type: 'data', offset: 2000 });
    expect(index.blobsOfPack(dataPack)).toEqual([{ id, type: 'data' }]);
    let dataIds = 0;
    index.forEachDataId((raw) => {
      expect(raw.toString('hex')).toBe(id);
      dataIds++;
    });
    expect(dataIds).toBe(1);
  });

  it('answers "not here" for an id that is not 64 hex digits, and refuses to store one', () => {
    const index = new MasterIndex();
    for (const bad of ['', 'abc', 'z'.repeat(64), 'A'.repeat(63), `${'a'.repeat(64)}0`]) {
      expect(index.has(bad, 'data')).toBe(false);
      expect(index.get(bad, 'tree')).toBeUndefined();
    }
    expect(() => index.addPack(hex(), [entry('x'.repeat(64), 1)])).toThrow('64 hex digits');
  });
});
