import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BandwidthLimitedStorage, limitBandwidth } from '../../src-main/core/backup/engine/storage/bandwidth.js';
import { FolderStorage } from '../../src-main/core/backup/engine/storage/folder.js';
import type { StorageEvent } from '../../src-main/core/backup/engine/storage/storage.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { MemoryStorage } from '../helpers/memory-storage.js';

const scratch = mkdtempSync(join(tmpdir(), 'twofold-bandwidth-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** When `promise` settles, in the clock's milliseconds (null: not yet). */
function doneAt(clock: ManualClock, promise: Promise<unknown>): { at: number | null } {
  const seen: { at: number | null } = { at: null };
  void promise.then(() => (seen.at = clock.now()));
  return seen;
}

function limited(limits: { uploadBytesPerSecond?: number; downloadBytesPerSecond?: number }) {
  const clock = new ManualClock();
  const inner = new MemoryStorage();
  const storage = limitBandwidth(inner, limits, clock) as BandwidthLimitedStorage;
  const events: StorageEvent[] = [];
  storage.watch((e) => events.push(e));
  return { clock, inner, storage, events };
}

describe('a storage with a bandwidth limit', () => {
  it('is the storage itself when neither limit is set (absent or 0)', () => {
    const inner = new MemoryStorage();
    expect(limitBandwidth(inner, {})).toBe(inner);
    expect(limitBandwidth(inner, { uploadBytesPerSecond: 0, downloadBytesPerSecond: 0 })).toBe(inner);
    expect(limitBandwidth(inner, { uploadBytesPerSecond: 1000 })).toBeInstanceOf(BandwidthLimitedStorage);
  });

  it('sends uploads (writes, staged files by their size, replaces) no faster than the limit after a one-second burst', async () => {
    const { clock, inner, storage, events } = limited({ uploadBytesPerSecond: 1000 });
    const file = join(scratch, 'pack');
    writeFileSync(file, Buffer.alloc(2000, 7));
    const first = doneAt(clock, storage.write('keys/a', Buffer.alloc(1000, 1)));
    const second = doneAt(clock, storage.write('data/00/b', { file, size: 2000 }));
    const third = doneAt(clock, storage.replace('config', Buffer.alloc(500, 2)));
    await clock.advance(10_000);
    // The staged file is charged a second's worth at a time: the replace, made meanwhile, goes between its slices.
    expect([first.at, second.at, third.at]).toEqual([0, 2500, 1500]);
    expect(storage.uploaded).toBe(3500);
    expect(inner.objects.get('data/00/b')).toEqual(Buffer.alloc(2000, 7));
    expect(inner.objects.get('config')).toEqual(Buffer.alloc(500, 2));
    expect(events).toEqual([
      { type: 'limited', direction: 'upload', ms: 1000, bytesPerSecond: 1000 },
      { type: 'limited', direction: 'upload', ms: 1500, bytesPerSecond: 1000 },
      { type: 'limited', direction: 'upload', ms: 1500, bytesPerSecond: 1000 },
    ]);
  });

  it('charges a large upload a second at a time, so a small request made meanwhile waits about a second, not for all of it', async () => {
    const { clock, storage } = limited({ uploadBytesPerSecond: 1000 });
    const large = doneAt(clock, storage.write('data/00/large', Buffer.alloc(6000)));
    await clock.advance(1500);
    const lock = doneAt(clock, storage.write('locks/x', Buffer.alloc(100)));
    await clock.advance(10_000);
    // 6,100 bytes at 1,000 a second after a burst of 1,000: 5.1 s in all, the lock's 100 bytes 0.6 s after it asked.
    expect(lock.at).toBe(2100);
    expect(large.at).toBe(5100);
  });

  it('receives downloads (whole objects once they came, ranges before) no faster than the limit, and leaves uploads alone', async () => {
    const { clock, inner, storage } = limited({ downloadBytesPerSecond: 500 });
    inner.objects.set('data/00/p', Buffer.alloc(1500, 3));
    const up = doneAt(clock, storage.write('keys/k', Buffer.alloc(5000)));
    const whole = storage.read('data/00/p');
    const wholeAt = doneAt(clock, whole);
    await clock.advance(2000);
    // 1,500 bytes at 500 a second after a burst of 500.
    expect([up.at, wholeAt.at]).toEqual([0, 2000]);
    expect(await whole).toEqual(Buffer.alloc(1500, 3));
    const range = storage.read('data/00/p', { offset: 1000, length: 250 });
    const rangeAt = doneAt(clock, range);
    await clock.advance(10_000);
    // The bucket is empty once the whole object is through: the range's 250 bytes wait 0.5 s, before they are asked for.
    expect(rangeAt.at).toBe(2500);
    expect(await range).toEqual(Buffer.alloc(250, 3));
    expect(storage.downloaded).toBe(1750);
    expect(storage.uploaded).toBe(5000);
  });

  it('counts a range read past the end by the bytes that came', async () => {
    const { clock, inner, storage } = limited({ downloadBytesPerSecond: 1000 });
    inner.objects.set('index/i', Buffer.alloc(100));
    const short = storage.read('index/i', { offset: 50, length: 400 });
    await clock.advance(1000);
    expect((await short).length).toBe(50);
    expect(storage.downloaded).toBe(50);
  });

  it('keeps a folder’s staging folder and local files only in the directions it does not limit', () => {
    const folder = new FolderStorage(join(scratch, 'repo'));
    const up = limitBandwidth(folder, { uploadBytesPerSecond: 1000 });
    const down = limitBandwidth(folder, { downloadBytesPerSecond: 1000 });
    expect(up.stagingDir).toBeUndefined();
    expect(up.localPath?.('config')).toBe(join(scratch, 'repo', 'config'));
    expect(down.stagingDir?.()).toBe(join(scratch, 'repo', 'tmp'));
    expect(down.localPath).toBeUndefined();
    expect([up.kind, up.location, up.appendOnly]).toEqual(['folder', folder.location, false]);
  });
});
