/**
 * Content-defined chunking, FastCDC-style (Xia et al., 2016): a gear rolling hash over the last
 * 32 bytes, no cut before CHUNK_MIN, a harder mask before CHUNK_AVG and an easier one after it
 * ("normalized chunking"), and a forced cut at CHUNK_MAX. The gear table is derived from the
 * repository's chunker key, so the boundaries (and so the chunk sizes an observer sees) differ
 * per repository. Pure: the same key and bytes always give the same cuts.
 */
import { createHmac } from 'node:crypto';
import { CHUNK_AVG, CHUNK_MAX, CHUNK_MIN } from './format.js';

/** 20 one bits (expected 1 MiB between cuts) before the average point, 19 after. */
const MASK_HARD = 0xfffff000 | 0;
const MASK_EASY = 0xffffe000 | 0;

export interface ChunkerParams {
  min: number;
  avg: number;
  max: number;
}

export const DEFAULT_PARAMS: ChunkerParams = { min: CHUNK_MIN, avg: CHUNK_AVG, max: CHUNK_MAX };

/** 256 pseudo-random 32-bit words: HMAC-SHA-256(key, "gear" || i) in counter mode. */
export function gearTable(chunkerKey: Buffer): Int32Array {
  const table = new Int32Array(256);
  for (let block = 0; block < 32; block++) {
    const words = createHmac('sha256', chunkerKey).update(`twofold-repo/v1/gear/${block}`).digest();
    for (let w = 0; w < 8; w++) table[block * 8 + w] = words.readInt32LE(w * 4);
  }
  return table;
}

/**
 * The length of the next chunk of `data[start, end)`, or -1 when more bytes are needed to
 * decide (only when `final` is false and fewer than `max` bytes are available).
 */
export function nextCut(gear: Int32Array, data: Uint8Array, start: number, end: number, final: boolean, params: ChunkerParams = DEFAULT_PARAMS): number {
  const available = end - start;
  if (available <= params.min) return final ? available : -1;
  // Absolute positions, one increment per byte: the hot loop of every backup.
  const limit = start + Math.min(available, params.max);
  const normal = Math.min(limit, start + params.avg);
  let h = 0;
  let p = start + params.min;
  while (p < normal) {
    h = ((h << 1) + gear[data[p++]!]!) | 0;
    if ((h & MASK_HARD) === 0) return p - start;
  }
  while (p < limit) {
    h = ((h << 1) + gear[data[p++]!]!) | 0;
    if ((h & MASK_EASY) === 0) return p - start;
  }
  if (limit - start === params.max || final) return limit - start;
  return -1;
}

/** Every cut of a whole buffer: the chunk lengths, in order. For tests and small inputs. */
export function chunkAll(gear: Int32Array, data: Uint8Array, params: ChunkerParams = DEFAULT_PARAMS): number[] {
  const sizes: number[] = [];
  let at = 0;
  while (at < data.length) {
    const n = nextCut(gear, data, at, data.length, true, params);
    sizes.push(n);
    at += n;
  }
  return sizes;
}
