/**
 * The claim table (claims.ts): the first claim of an id wins, every later one (from any thread)
 * loses; when there is no room near an id a claim wins without recording it (the chunk is then
 * stored, perhaps twice, never lost).
 */
import { Worker } from 'node:worker_threads';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ClaimTable, fingerprint } from '../../src-main/core/backup/engine/claims.js';

const id = (n: number) => createHash('sha256').update(`blob ${n}`).digest();

/** An id whose fingerprint is exactly `fp` (its first 8 bytes, little-endian). */
function idWithFingerprint(fp: bigint, tail: number): Buffer {
  const b = Buffer.alloc(32, tail);
  b.writeBigInt64LE(fp, 0);
  return b;
}

describe('ClaimTable', () => {
  it('lets the first claim of an id win and every later one lose, through any view of the buffer', () => {
    const table = ClaimTable.create(10);
    const other = ClaimTable.from(table.buffer);
    expect(table.claim(id(1))).toBe(true);
    expect(table.claim(id(1))).toBe(false);
    expect(other.claim(id(1))).toBe(false);
    expect(other.claim(id(2))).toBe(true);
    expect(table.claim(id(2))).toBe(false);
    expect(table.size).toBe(2);
  });

  it('has a power-of-two capacity of at least twice what it expects, and at least 65536 slots', () => {
    expect(ClaimTable.create(0).capacity).toBe(65_536);
    expect(ClaimTable.create(40_000).capacity).toBe(131_072);
    expect(ClaimTable.create(100_000).capacity).toBe(262_144);
  });

  it('fingerprints an id by its first 8 bytes, little-endian, with 0 (the empty slot) taken as 1', () => {
    expect(fingerprint(idWithFingerprint(0x0102030405060708n, 0xff))).toBe(0x0102030405060708n);
    expect(fingerprint(idWithFingerprint(-5n, 0))).toBe(-5n);
    expect(fingerprint(Buffer.alloc(32))).toBe(1n);
  });

  it('lets a claim win without recording it when 32 slots in a row are taken', () => {
    const table = ClaimTable.create(0);
    // Same low 16 bits: all start probing at the same slot.
    const crowd = Array.from({ length: 33 }, (_, k) => idWithFingerprint(BigInt(k + 1) << 16n, k));
    for (const c of crowd.slice(0, 32)) expect(table.claim(c)).toBe(true);
    expect(table.size).toBe(32);
    expect(table.claim(crowd[32]!)).toBe(true);
    expect(table.claim(crowd[32]!)).toBe(true);
    expect(table.size).toBe(32);
    for (const c of crowd.slice(0, 32)) expect(table.claim(c)).toBe(false);
  });

  it('gives each id to exactly one of two threads claiming the same ids at once', async () => {
    const table = ClaimTable.create(20_000);
    const ids = Array.from({ length: 20_000 }, (_, n) => id(n));
    const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
    const claims = JSON.stringify(new URL('../../src-main/core/backup/engine/claims.ts', import.meta.url).href);
    const code = `
      const { parentPort, workerData } = await import('node:worker_threads');
      const api = await import(${tsx});
      api.register();
      const { ClaimTable } = await import(${claims});
      const table = ClaimTable.from(workerData.buffer);
      const ids = workerData.ids;
      const won = [];
      for (let i = 0; i < ids.length; i++) if (table.claim(ids[i])) won.push(i);
      parentPort.postMessage(won);`;
    const run = () =>
      new Promise<number[]>((resolve, reject) => {
        const w = new Worker(`(async () => {${code}})()`, { eval: true, workerData: { buffer: table.buffer, ids } });
        w.once('message', (won: number[]) => {
          resolve(won);
          void w.terminate();
        });
        w.once('error', reject);
      });
    const [a, b] = await Promise.all([run(), run()]);
    expect(a.length + b.length).toBe(ids.length);
    expect(new Set([...a, ...b]).size).toBe(ids.length);
    expect(table.size).toBe(ids.length);
  });
});
