/**
 * A download written to its local file (engine/storage/file-sink.ts): pieces of any size arrive
 * in order, byte for byte, as a new file only its owner reads; a body that fails midway fails
 * the write; a file already there is never written over.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { streamToFile } from '../../src-main/core/backup/engine/storage/file-sink.js';
import { removeTree, tempDir } from '../helpers/backup-fixtures.js';

let dir: string;
beforeEach(() => {
  dir = tempDir('file-sink');
});
afterEach(() => removeTree(dir));

async function* pieces(bytes: Buffer, sizes: number[]): AsyncGenerator<Uint8Array> {
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const n = sizes[i % sizes.length]!;
    yield bytes.subarray(at, at + n);
    at += n;
  }
}

describe('a download written to a local file', () => {
  it('writes pieces of every size, across its 1 MiB writes, in order and byte for byte, readable by its owner only', async () => {
    const bytes = randomBytes(3 * 1024 * 1024 + 4321);
    const file = join(dir, 'pack');
    await streamToFile(pieces(bytes, [16_384, 1, 65_536, 1024 * 1024 + 7, 3]), file);
    expect(readFileSync(file).equals(bytes)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('writes an empty body as an empty file', async () => {
    const file = join(dir, 'empty');
    await streamToFile([], file);
    expect(readFileSync(file)).toHaveLength(0);
  });

  it('fails with the body when the body fails midway', async () => {
    async function* broken(): AsyncGenerator<Uint8Array> {
      yield randomBytes(2 * 1024 * 1024);
      throw new Error('connection reset');
    }
    await expect(streamToFile(broken(), join(dir, 'cut'))).rejects.toThrow('connection reset');
  });

  it('never writes over a file that is there already', async () => {
    const file = join(dir, 'there');
    writeFileSync(file, 'kept');
    await expect(streamToFile([Buffer.from('new')], file)).rejects.toMatchObject({ code: 'EEXIST' });
    expect(readFileSync(file, 'utf8')).toBe('kept');
  });

  it('takes a response stream by its events, in order and byte for byte, whether pieces come faster than writes or one by one', async () => {
    const bytes = randomBytes(5 * 1024 * 1024 + 99);
    const fast = join(dir, 'fast');
    await streamToFile(Readable.from(pieces(bytes, [16_384, 1, 65_536, 1024 * 1024 + 7, 3])), fast);
    expect(readFileSync(fast).equals(bytes)).toBe(true);
    expect(statSync(fast).mode & 0o777).toBe(0o600);
    async function* slow(): AsyncGenerator<Uint8Array> {
      for await (const piece of pieces(bytes, [700_000])) {
        await new Promise((resolve) => setTimeout(resolve, 2));
        yield piece;
      }
    }
    const paced = join(dir, 'paced');
    await streamToFile(Readable.from(slow()), paced);
    expect(readFileSync(paced).equals(bytes)).toBe(true);
  });

  it('writes an empty response stream as an empty file, and fails with a stream that fails midway', async () => {
    const empty = join(dir, 'empty-stream');
    await streamToFile(Readable.from([]), empty);
    expect(readFileSync(empty)).toHaveLength(0);
    async function* broken(): AsyncGenerator<Uint8Array> {
      yield randomBytes(3 * 1024 * 1024);
      throw new Error('connection reset');
    }
    await expect(streamToFile(Readable.from(broken()), join(dir, 'cut-stream'))).rejects.toThrow('connection reset');
  });
});
