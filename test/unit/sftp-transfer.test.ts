/**
 * Reading a whole object over SFTP (src-main/core/backup/engine/storage/sftp-transfer.ts) when
 * the server, which is not trusted, reports a size. The integration tests read from a real sshd;
 * here a channel of our own answers, so that it can claim sizes no real server would.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Channel } from '../../src-main/core/backup/engine/storage/sftp-pool.js';
import { CHUNK, receiveRange, receiveRest, receiveToFile, WINDOW } from '../../src-main/core/backup/engine/storage/sftp-transfer.js';
import { removeTree, tempDir } from '../helpers/backup-fixtures.js';

/** A channel that serves `bytes`, as an SFTP server's reads would. */
function channelOver(bytes: Buffer) {
  const ch = {
    read: async (_handle: Buffer, buf: Buffer, off: number, len: number, position: number) => {
      const n = Math.max(0, Math.min(len, bytes.length - position));
      if (n > 0) bytes.copy(buf, off, position, position + n);
      return n;
    },
  } as unknown as Channel;
  return { ch };
}

const handle = Buffer.from('h');

describe('a whole-object read over SFTP', () => {
  it('returns the object itself when the server claims it is 1 TiB', async () => {
    const bytes = randomBytes(3 * CHUNK + 17);
    const { ch } = channelOver(bytes);
    const head = await receiveRange(ch, handle, 0, CHUNK);
    const whole = await receiveRest(ch, handle, head, 2 ** 40);
    expect(whole.equals(bytes)).toBe(true);
  });

  it('asks for at most one window at a time, so the claimed size never sets an allocation', async () => {
    const bytes = randomBytes(CHUNK + 5);
    const { ch } = channelOver(bytes);
    let largest = 0;
    const measured = {
      read: (h: Buffer, buf: Buffer, off: number, len: number, position: number) => {
        largest = Math.max(largest, buf.length);
        return ch.read(h, buf, off, len, position);
      },
    } as unknown as Channel;
    const head = await receiveRange(measured, handle, 0, CHUNK);
    const whole = await receiveRest(measured, handle, head, Number.MAX_SAFE_INTEGER);
    expect(whole.equals(bytes)).toBe(true);
    expect(largest).toBe(WINDOW);
  });

  it('returns exactly the stated size of an honest object, across windows', async () => {
    const bytes = randomBytes(CHUNK * 4);
    const { ch } = channelOver(bytes);
    const head = await receiveRange(ch, handle, 0, CHUNK);
    expect((await receiveRest(ch, handle, head, bytes.length)).equals(bytes)).toBe(true);
  });

  it('returns what there is when the object is shorter than its first chunk, or than its stated size', async () => {
    const small = randomBytes(100);
    const one = channelOver(small);
    const head = await receiveRange(one.ch, handle, 0, CHUNK);
    expect(await receiveRest(one.ch, handle, head, 5000)).toBe(head);
    expect(head.equals(small)).toBe(true);

    const bytes = randomBytes(CHUNK * 2);
    const two = channelOver(bytes);
    const first = await receiveRange(two.ch, handle, 0, CHUNK);
    expect((await receiveRest(two.ch, handle, first, CHUNK * 3)).equals(bytes)).toBe(true);
  });
});

describe('a whole object staged into a local file over SFTP', () => {
  const dir = tempDir('sftp-stage');
  afterAll(() => removeTree(dir));

  it('holds exactly the object, at every size around its requests, however many requests are in flight', async () => {
    for (const size of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 40 * CHUNK + 17]) {
      const bytes = randomBytes(size);
      const file = join(dir, `pack-${size}`);
      const fh = await open(file, 'w', 0o600);
      let end: number;
      try {
        end = await receiveToFile(channelOver(bytes).ch, handle, fh);
      } finally {
        await fh.close();
      }
      expect(end).toBe(size);
      expect(readFileSync(file).equals(bytes)).toBe(true);
    }
  });

  it('fails when a request fails midway, and no request is left writing once it has', async () => {
    const bytes = randomBytes(30 * CHUNK);
    let reads = 0;
    const failing = {
      read: async (h: Buffer, buf: Buffer, off: number, len: number, position: number) => {
        if (++reads === 10) throw new Error('connection lost');
        return channelOver(bytes).ch.read(h, buf, off, len, position);
      },
    } as unknown as Channel;
    const fh = await open(join(dir, 'cut'), 'w', 0o600);
    try {
      await expect(receiveToFile(failing, handle, fh)).rejects.toThrow('connection lost');
      const after = reads;
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(reads).toBe(after);
    } finally {
      await fh.close();
    }
  });
});
