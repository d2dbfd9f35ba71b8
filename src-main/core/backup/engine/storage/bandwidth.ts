/**
 * An upload and a download limit around any Storage, keeping its contract (storage.ts): one token
 * bucket per direction (token-bucket.ts), shared by every request in flight, with a burst of one
 * second's worth. Uploads are the bytes of `write` and `replace` (a staged file by its size: the
 * file is passed on, never read here); downloads the bytes `read` returns. A limit that is absent
 * or 0 is no limit.
 *
 * A storage that can pace its own transfers (`paceWith`: S3, whose request and response bodies
 * then go through the buckets 64 KiB at a time; SFTP, each 128 KiB request) is limited on the
 * wire, a staged file streamed from disk request by request. Any other (a folder) is limited per
 * request: a transfer is charged in slices of at most one second's worth before it is passed on,
 * so a small request (a lock refresh) made while a large pack is charged waits about a second
 * behind it, not for the whole pack, and a read of a whole object is charged once it arrived (the
 * next request waits for it). Every wait is reported to the storage's watchers ('limited'), so a
 * job's progress can say it runs at the limit.
 */
import { systemClock, TokenBucket, type Clock } from './token-bucket.js';
import { StorageListeners, type Storage, type StorageListener, type StorageObject, type StagedFile } from './storage.js';

export interface BandwidthLimits {
  /** Bytes per second out to the storage; absent or 0: no limit. */
  uploadBytesPerSecond?: number;
  /** Bytes per second in from the storage; absent or 0: no limit. */
  downloadBytesPerSecond?: number;
}

type Direction = 'upload' | 'download';

function bucket(rate: number | undefined, clock: Clock): TokenBucket | null {
  return rate !== undefined && Number.isFinite(rate) && rate > 0 ? new TokenBucket(rate, clock) : null;
}

export class BandwidthLimitedStorage implements Storage {
  private readonly up: TokenBucket | null;
  private readonly down: TokenBucket | null;
  private readonly listeners = new StorageListeners();
  /** Bytes charged so far, each way (what the limit let through). */
  uploaded = 0;
  downloaded = 0;
  readonly stagingDir?: () => string;
  readonly localPath?: (name: string) => string;
  /** The inner storage paces its own bytes on the wire: requests are not charged here. */
  private readonly onWire: boolean;

  constructor(
    readonly inner: Storage,
    limits: BandwidthLimits,
    clock: Clock = systemClock,
  ) {
    this.up = bucket(limits.uploadBytesPerSecond, clock);
    this.down = bucket(limits.downloadBytesPerSecond, clock);
    // A folder's own staging folder and its files would let the engine write and read the
    // repository's disk past the limit: with a limit that way, the engine stages locally and reads through `read`.
    if (inner.stagingDir && !this.up) this.stagingDir = () => inner.stagingDir!();
    if (inner.localPath && !this.down) this.localPath = (name) => inner.localPath!(name);
    this.onWire = inner.paceWith !== undefined;
    inner.paceWith?.({ up: (n) => this.charge('upload', n), down: (n) => this.charge('download', n) });
  }

  get kind(): Storage['kind'] {
    return this.inner.kind;
  }

  get location(): string {
    return this.inner.location;
  }

  get appendOnly(): boolean {
    return this.inner.appendOnly;
  }

  get connections(): number | undefined {
    return this.inner.connections;
  }

  prepare(): Promise<void> {
    return this.inner.prepare();
  }

  stat(name: string): Promise<StorageObject | null> {
    return this.inner.stat(name);
  }

  list(dir: string): Promise<StorageObject[]> {
    return this.inner.list(dir);
  }

  async read(name: string, range?: { offset: number; length: number }): Promise<Buffer> {
    // A range's size is known ahead: charged before, like an upload. A whole object's once it arrived.
    if (this.onWire) return this.inner.read(name, range);
    if (range) await this.charge('download', range.length);
    const bytes = await this.inner.read(name, range);
    if (!range) await this.charge('download', bytes.length);
    else this.downloaded -= range.length - bytes.length; // a short read (past the end) moved less
    return bytes;
  }

  async write(name: string, data: Buffer | StagedFile): Promise<void> {
    if (!this.onWire) await this.charge('upload', Buffer.isBuffer(data) ? data.length : data.size);
    await this.inner.write(name, data);
  }

  async replace(name: string, data: Buffer): Promise<void> {
    if (!this.onWire) await this.charge('upload', data.length);
    await this.inner.replace(name, data);
  }

  delete(name: string): Promise<void> {
    return this.inner.delete(name);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  freeBytes(): Promise<number | null> {
    return this.inner.freeBytes?.() ?? Promise.resolve(null);
  }

  watch(listener: StorageListener): () => void {
    const own = this.listeners.add(listener);
    const inner = this.inner.watch?.(listener);
    return () => {
      own();
      inner?.();
    };
  }

  /** Waits until the limit of `direction` lets `bytes` through, a second's worth at a time. */
  private async charge(direction: Direction, bytes: number): Promise<void> {
    if (direction === 'upload') this.uploaded += bytes;
    else this.downloaded += bytes;
    const limit = direction === 'upload' ? this.up : this.down;
    if (!limit) return;
    let left = bytes;
    while (left > 0) {
      const slice = Math.min(left, limit.burst);
      left -= slice;
      // Told before the wait, so a job shows it while it waits.
      const ms = limit.waitFor(slice);
      if (ms > 0) this.listeners.emit({ type: 'limited', direction, ms, bytesPerSecond: limit.rate });
      await limit.take(slice);
    }
  }
}

/**
 * `storage` with an upload and a download limit (the user's setting for a repository); with
 * neither, `storage` itself. A storage that paces its own wire (S3, SFTP) is given the limit's buckets:
 * use only what this returns from then on. `clock` is for tests.
 */
export function limitBandwidth(storage: Storage, limits: BandwidthLimits, clock: Clock = systemClock): Storage {
  const on = (rate: number | undefined) => rate !== undefined && Number.isFinite(rate) && rate > 0;
  if (!on(limits.uploadBytesPerSecond) && !on(limits.downloadBytesPerSecond)) return storage;
  return new BandwidthLimitedStorage(storage, limits, clock);
}
