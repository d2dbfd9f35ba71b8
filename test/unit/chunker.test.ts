/**
 * The chunker (FastCDC-style, keyed): cuts depend only on the key and the bytes, stay within
 * bounds, average about 1 MiB, survive an insertion (boundaries re-synchronise), and differ
 * between repositories.
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { chunkAll, gearTable, nextCut, type ChunkerParams } from '../../src-main/core/backup/engine/chunker.js';
import { CHUNK_MAX, CHUNK_MIN } from '../../src-main/core/backup/engine/format.js';
import { nextCutNative } from '../../src-main/core/backup/engine/native.js';

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

describe('the native chunker (native/chunker.c), which backups run', () => {
  const gear = gearTable(keyA);

  /** Every cut of `input` by `cut`, read the way a backup reads: windows of `window` bytes. */
  const cutsBy = (cut: typeof nextCut, input: Buffer, window: number, params?: ChunkerParams) => {
    const sizes: number[] = [];
    let head = 0;
    let end = Math.min(window, input.length);
    for (;;) {
      const n = cut(gear, input, head, end, end === input.length, params);
      if (n === 0) return sizes;
      if (n === -1) {
        end = Math.min(end + window, input.length);
        continue;
      }
      sizes.push(n);
      head += n;
    }
  };

  it('cuts exactly where the JavaScript specification does, on random and on repetitive data', () => {
    for (const input of [data(11, 24 * 1024 * 1024), Buffer.alloc(9 * 1024 * 1024, 0x5a), Buffer.concat([data(12, 3_000_001), Buffer.alloc(5_000_000)])]) {
      for (const window of [CHUNK_MAX + 1024 * 1024, 700_000]) {
        const expected = cutsBy(nextCut, input, window);
        expect(cutsBy(nextCutNative, input, window)).toEqual(expected);
        expect(expected.reduce((a, b) => a + b, 0)).toBe(input.length);
      }
    }
  });

  it('follows other bounds the same way (small chunks, a slice in the middle of a buffer)', () => {
    const input = data(13, 2 * 1024 * 1024);
    const params = { min: 2048, avg: 8192, max: 65536 };
    expect(cutsBy(nextCutNative, input, 100_000, params)).toEqual(cutsBy(nextCut, input, 100_000, params));
    for (const start of [0, 1, 4097, 1_000_000]) {
      for (const final of [false, true]) {
        expect(nextCutNative(gear, input, start, input.length, final, params)).toBe(nextCut(gear, input, start, input.length, final, params));
      }
    }
  });

  it('asks for more bytes, and ends, exactly as the specification does', () => {
    const part = data(14, CHUNK_MIN - 1);
    expect(nextCutNative(gear, part, 0, part.length, false)).toBe(-1);
    expect(nextCutNative(gear, part, 0, part.length, true)).toBe(part.length);
    expect(nextCutNative(gear, Buffer.alloc(0), 0, 0, true)).toBe(0);
  });

  it('refuses arguments that would read outside the buffer, with a clear error', () => {
    const buf = Buffer.alloc(1000);
    expect(() => nextCutNative(gear, buf, 0, 1001, true)).toThrow(/start <= end <= data.length/);
    expect(() => nextCutNative(gear, buf, 10, 5, true)).toThrow(/start <= end <= data.length/);
    expect(() => nextCutNative(new Int32Array(255), buf, 0, 10, true)).toThrow(/Int32Array of 256/);
    expect(() => nextCutNative(gear, buf, 0, 10, true, { min: 10, avg: 5, max: 20 })).toThrow(/min <= avg <= max/);
    expect(() => nextCutNative(gear, buf, 0, 10, true, { min: 10, avg: 20, max: Infinity })).toThrow(/whole numbers of bytes/);
    expect(() => nextCutNative(gear, buf, 0.5, 10, true)).toThrow(/whole numbers of bytes/);
    expect(() => nextCutNative(gear, buf, Number.NaN, 10, true)).toThrow(/whole numbers of bytes/);
  });
});
