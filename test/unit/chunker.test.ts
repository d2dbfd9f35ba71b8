/**
 * The chunker (FastCDC-style, keyed): cuts depend only on the key and the bytes, stay within
 * bounds, average about 1 MiB, survive an insertion (boundaries re-synchronise), and differ
 * between repositories.
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { chunkAll, gearTable, nextCut } from '../../src-main/core/backup/chunker.js';
import { CHUNK_MAX, CHUNK_MIN } from '../../src-main/core/backup/format.js';

const keyA = Buffer.alloc(32, 1);
const keyB = Buffer.alloc(32, 2);
const data = (seed: number, size: number) => createCipheriv('aes-256-ctr', Buffer.alloc(32, seed), Buffer.alloc(16)).update(Buffer.alloc(size));
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe('the chunker', () => {
  const gear = gearTable(keyA);
  const input = data(7, 64 * 1024 * 1024);
  const sizes = chunkAll(gear, input);

  it('covers the input exactly, every chunk between the minimum and the maximum (but the last)', () => {
    expect(sum(sizes)).toBe(input.length);
    for (const s of sizes.slice(0, -1)) {
      expect(s).toBeGreaterThanOrEqual(CHUNK_MIN);
      expect(s).toBeLessThanOrEqual(CHUNK_MAX);
    }
  });

  it('averages about 1 MiB on random data', () => {
    const avg = input.length / sizes.length;
    expect(avg).toBeGreaterThan(0.75 * 1024 * 1024);
    expect(avg).toBeLessThan(1.35 * 1024 * 1024);
  });

  it('is deterministic for a key, and keyed: another repository cuts elsewhere', () => {
    expect(chunkAll(gearTable(keyA), input)).toEqual(sizes);
    expect(chunkAll(gearTable(keyB), input)).not.toEqual(sizes);
  });

  it('re-synchronises after bytes are inserted at the start: all but the first cut or two stay', () => {
    const shifted = Buffer.concat([randomBytes(1234), input]);
    const cutsOf = (s: number[], offset: number) => {
      const out = new Set<number>();
      let at = 0;
      for (const n of s) out.add((at += n) - offset);
      return out;
    };
    const before = cutsOf(sizes, 0);
    const after = cutsOf(chunkAll(gear, shifted), 1234);
    const lost = [...before].filter((c) => !after.has(c));
    expect(lost.length).toBeLessThanOrEqual(2);
  });

  it('asks for more bytes rather than cutting early, until the input is final', () => {
    const part = input.subarray(0, CHUNK_MIN - 1);
    expect(nextCut(gear, part, 0, part.length, false)).toBe(-1);
    expect(nextCut(gear, part, 0, part.length, true)).toBe(part.length);
    expect(nextCut(gear, Buffer.alloc(0), 0, 0, true)).toBe(0);
  });

  it('cuts repetitive data the same way every time, so repeated content dedups', () => {
    const zeros = Buffer.alloc(3 * CHUNK_MAX);
    const z = chunkAll(gear, zeros);
    expect(sum(z)).toBe(zeros.length);
    expect(new Set(z.slice(0, -1)).size).toBe(1);
  });

  it('derives a full, key-dependent gear table', () => {
    const t = gearTable(keyA);
    expect(t).toHaveLength(256);
    expect(new Set(t).size).toBe(256);
    expect(gearTable(keyA)).toEqual(t);
  });
});
