/**
 * zstd on libuv's pool (native/zstd-async.c): what it writes is plain zstd, which the
 * repository's reader (zstd-napi) and the zstd library's own format accept; it runs many
 * compressions at once without mixing their outputs, and a bad call fails with a clear error
 * rather than writing out of bounds.
 */
import { randomBytes } from 'node:crypto';
import { decompress } from 'zstd-napi';
import { describe, expect, it } from 'vitest';
import { compressBound } from 'zstd-napi/binding.js';
import { compressAsync } from '../../src-main/core/backup/engine/native.js';
import { ZSTD_LEVEL } from '../../src-main/core/backup/engine/format.js';

/** Compressible bytes of about `size`: a log-like text that differs by `seed`. */
const text = (size: number, seed: number) => {
  const block = Array.from({ length: 200 }, (_, i) => `line ${(i * seed) % 997} of a log file\n`).join('');
  return Buffer.from(block.repeat(Math.ceil(size / block.length)).slice(0, size));
};

describe('asynchronous zstd', () => {
  it("compresses into the caller's buffer, and zstd-napi gives the same bytes back", async () => {
    const input = text(1024 * 1024, 7);
    const out = Buffer.alloc(compressBound(input.length));
    const length = await compressAsync(input, out, ZSTD_LEVEL);
    expect(length).toBeGreaterThan(0);
    expect(length).toBeLessThan(input.length / 4);
    expect(decompress(out.subarray(0, length))).toEqual(input);
  });

  it('keeps many compressions at once apart, each in its own part of one buffer', async () => {
    const inputs = Array.from({ length: 24 }, (_, i) => (i % 3 === 0 ? randomBytes(100_000 + i) : text(50_000 + i * 1000, i + 2)));
    const bounds = inputs.map((b) => compressBound(b.length));
    const arena = Buffer.alloc(bounds.reduce((a, b) => a + b, 0));
    let at = 0;
    const outs = inputs.map((_, i) => arena.subarray(at, (at += bounds[i]!)));
    const lengths = await Promise.all(inputs.map((b, i) => compressAsync(b, outs[i]!, ZSTD_LEVEL)));
    lengths.forEach((n, i) => expect(decompress(outs[i]!.subarray(0, n))).toEqual(inputs[i]));
  });

  it("fits incompressible bytes in zstd's bound, as zstd-napi computes it", async () => {
    const input = randomBytes(1024 * 1024);
    const out = Buffer.alloc(compressBound(input.length));
    const length = await compressAsync(input, out, ZSTD_LEVEL);
    expect(length).toBeGreaterThan(input.length);
    expect(length).toBeLessThanOrEqual(out.length);
    expect(decompress(out.subarray(0, length))).toEqual(input);
  });

  it('rejects, writing nothing past the end, when the output buffer is too small', async () => {
    const guard = Buffer.alloc(64, 0xee);
    const small = Buffer.alloc(100);
    const holder = Buffer.concat([small, guard]);
    await expect(compressAsync(randomBytes(10_000), holder.subarray(0, 100), ZSTD_LEVEL)).rejects.toMatchObject({
      code: 'ZSTD_FAILED',
      message: expect.stringMatching(/too small/),
    });
    expect(holder.subarray(100)).toEqual(guard);
  });

  it('refuses what is not a byte array, with a clear error', () => {
    expect(() => compressAsync('text' as unknown as Uint8Array, Buffer.alloc(100), 1)).toThrow(/two Uint8Arrays and a number/);
    expect(() => compressAsync(new Float64Array(4) as unknown as Uint8Array, Buffer.alloc(100), 1)).toThrow(/two Uint8Arrays and a number/);
  });
});
