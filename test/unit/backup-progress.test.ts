import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Progress } from '../../src-main/core/backup/engine/backup-types.js';
import { ProgressMeter } from '../../src-main/core/backup/engine/backup-progress.js';
import { StorageListeners, type Storage, type StorageEvent } from '../../src-main/core/backup/engine/storage/storage.js';
import { MemoryStorage } from '../helpers/memory-storage.js';

const MiB = 1024 * 1024;

/** A storage whose watchers the test tells what happens. */
function watched(): { storage: Storage; tell: (e: StorageEvent) => void } {
  const listeners = new StorageListeners();
  const storage = Object.assign(new MemoryStorage(), { watch: (l: (e: StorageEvent) => void) => listeners.add(l) });
  return { storage, tell: (e) => listeners.emit(e) };
}

describe('a backup’s progress meter', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => vi.useRealTimers());

  it('says at once that it waits for the storage while requests are retried, until the last one is over', () => {
    const seen: Progress[] = [];
    const { storage, tell } = watched();
    const meter = new ProgressMeter(Date.now(), (p) => seen.push(p), storage);
    tell({ type: 'retrying', cause: 'network', attempt: 2, attempts: 5 });
    expect(seen.at(-1)!.waitingOn).toEqual({ code: 'STORAGE_RETRY', message: 'Waiting for the storage (retrying after a network error)' });
    // A second request retried, and the first tried a third time, after a timeout this once.
    tell({ type: 'retrying', cause: 'network', attempt: 2, attempts: 5 });
    tell({ type: 'retrying', cause: 'timeout', attempt: 3, attempts: 5 });
    vi.advanceTimersByTime(300);
    meter.addBytes(1);
    expect(seen.at(-1)!.waitingOn).toEqual({ code: 'STORAGE_RETRY', message: 'Waiting for the storage (retrying after it stopped answering)' });
    tell({ type: 'retried', ok: true });
    vi.advanceTimersByTime(300);
    meter.addBytes(1);
    expect(seen.at(-1)!.waitingOn?.code).toBe('STORAGE_RETRY');
    const before = seen.length;
    tell({ type: 'retried', ok: false });
    expect(seen.length).toBe(before + 1);
    expect(seen.at(-1)!.waitingOn).toBeNull();
  });

  it('says it runs at the upload limit while the limit holds it, and not long after', () => {
    const seen: Progress[] = [];
    const { storage, tell } = watched();
    const meter = new ProgressMeter(Date.now(), (p) => seen.push(p), storage);
    tell({ type: 'limited', direction: 'upload', ms: 1000, bytesPerSecond: 2 * MiB });
    expect(seen.at(-1)!.waitingOn).toEqual({ code: 'UPLOAD_LIMIT', message: 'Uploading at your upload limit (2.0 MiB/s)' });
    vi.advanceTimersByTime(2000);
    meter.addBytes(1);
    expect(seen.at(-1)!.waitingOn?.code).toBe('UPLOAD_LIMIT');
    vi.advanceTimersByTime(600);
    meter.addBytes(1);
    expect(seen.at(-1)!.waitingOn).toBeNull();
    tell({ type: 'limited', direction: 'download', ms: 500, bytesPerSecond: 512 * 1024 });
    expect(seen.at(-1)!.waitingOn).toEqual({ code: 'DOWNLOAD_LIMIT', message: 'Downloading at your download limit (512 KiB/s)' });
    meter.emit(true);
    expect(seen.at(-1)!.waitingOn).toBeNull();
  });

  it('counts the bytes uploaded and gives their rate over the last ten seconds', () => {
    const seen: Progress[] = [];
    const meter = new ProgressMeter(Date.now(), (p) => seen.push(p));
    // 16 MiB packs every 2 s for 20 s: 8 MiB a second.
    for (let i = 0; i < 10; i++) {
      vi.advanceTimersByTime(2000);
      meter.uploaded(16 * MiB);
    }
    expect(seen.at(-1)!.bytesUploaded).toBe(160 * MiB);
    expect(seen.at(-1)!.uploadBytesPerSecond).toBe(8 * MiB);
    // Then a pack that takes 10 s to go up: over the last ten seconds, nothing arrived.
    vi.advanceTimersByTime(10_000);
    meter.emit(false);
    expect(seen.at(-1)!.uploadBytesPerSecond).toBe(0);
    vi.advanceTimersByTime(500);
    meter.uploaded(16 * MiB);
    // 16 MiB over the 10.5 s since the sample before the window.
    expect(seen.at(-1)!.uploadBytesPerSecond).toBe(Math.round((16 * MiB) / 10.5));
    expect(seen.at(-1)!.bytesUploaded).toBe(176 * MiB);
  });

  it('stops listening to the storage when it is closed', async () => {
    const seen: Progress[] = [];
    const { storage, tell } = watched();
    const meter = new ProgressMeter(Date.now(), (p) => seen.push(p), storage);
    await meter.close();
    tell({ type: 'retrying', cause: 'server', attempt: 2, attempts: 5 });
    expect(seen).toEqual([]);
  });
});
