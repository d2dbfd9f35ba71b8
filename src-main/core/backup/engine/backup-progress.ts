/**
 * A backup's progress: files and bytes done, the totals it is measured against (the parent
 * snapshot's, or a first backup's own count on a scan thread, scan.ts), rate and ETA, the bytes
 * of packs uploaded and their rate over the last ten seconds, and what the run waits on (the
 * storage retrying a request, the bandwidth limit: the storage's `watch`). Reported at most every
 * 200 ms, at once when what it waits on changes, and once at the end.
 */
import type { Worker } from 'node:worker_threads';
import type { Progress } from './backup-types.js';
import { waiting } from './messages.js';
import type { Storage, StorageEvent } from './storage/storage.js';
import type { ScanRequest, ScanTotals } from './scan.js';
import { endThread, startThread, THREAD_YOUNG_GENERATION_MB } from './threads.js';

/** Progress before any work: nothing done, totals not yet known. */
export function emptyProgress(): Progress {
  return {
    filesDone: 0,
    filesTotal: null,
    bytesDone: 0,
    bytesTotal: null,
    currentFile: null,
    bytesPerSecond: 0,
    etaSeconds: null,
    bytesUploaded: 0,
    uploadBytesPerSecond: 0,
    waitingOn: null,
  };
}

/** The upload rate is measured over at least this long (a pack of 16 MiB can take seconds to go up). */
const RATE_WINDOW_MS = 10_000;
/** A bandwidth limit's wait is shown this long after the last one, so the line does not flicker between packs. */
const LIMIT_SHOWN_MS = 1_500;

/** `bytesUploaded` at moments, kept for the last RATE_WINDOW_MS and the one sample before it. */
class UploadRate {
  private samples: { at: number; total: number }[];

  constructor(started: number) {
    this.samples = [{ at: started, total: 0 }];
  }

  add(at: number, total: number): void {
    this.samples.push({ at, total });
    // Drop samples while the next one is old enough to measure from.
    while (this.samples.length > 2 && this.samples[1]!.at <= at - RATE_WINDOW_MS) this.samples.shift();
  }

  /** Bytes a second from the newest sample at least RATE_WINDOW_MS old (or the start) until `now`. */
  perSecond(now: number, total: number): number {
    let from = this.samples[0]!;
    for (const s of this.samples) if (s.at <= now - RATE_WINDOW_MS) from = s;
    const seconds = (now - from.at) / 1000;
    return seconds > 0 ? Math.round((total - from.total) / seconds) : 0;
  }
}

export class ProgressMeter {
  readonly progress: Progress = emptyProgress();
  private last = 0;
  private scanThread: Worker | null = null;
  /** [0] is 1 once the backup is done: the scan stops before its next folder (scan.ts). */
  private readonly scanStop = new Int32Array(new SharedArrayBuffer(4));
  private readonly rate: UploadRate;
  /** Requests of the storage being retried; the wait is shown while there are any. */
  private retrying = 0;
  private retryCause: Extract<StorageEvent, { type: 'retrying' }>['cause'] = 'network';
  /** The last bandwidth-limit wait: until when, which way and at what rate. */
  private limited: { until: number; direction: 'upload' | 'download'; bytesPerSecond: number } | null = null;
  private readonly unwatch: (() => void) | undefined;

  constructor(
    private readonly started: number,
    private readonly onProgress: ((p: Progress) => void) | undefined,
    storage?: Storage,
  ) {
    this.rate = new UploadRate(started);
    this.unwatch = onProgress ? storage?.watch?.((e) => this.storageEvent(e)) : undefined;
  }

  /** Bytes of a pack now stored in the repository. */
  uploaded(bytes: number): void {
    this.progress.bytesUploaded += bytes;
    this.rate.add(Date.now(), this.progress.bytesUploaded);
    this.emit(false);
  }

  private storageEvent(e: StorageEvent): void {
    const before = this.waitingCode();
    if (e.type === 'retrying') {
      // One request's attempts after the first: counted once, on its second.
      if (e.attempt === 2) this.retrying++;
      this.retryCause = e.cause;
    } else if (e.type === 'retried') {
      this.retrying = Math.max(0, this.retrying - 1);
    } else {
      this.limited = { until: Date.now() + e.ms + LIMIT_SHOWN_MS, direction: e.direction, bytesPerSecond: e.bytesPerSecond };
    }
    // A change of what it waits on is shown at once: a retry may be over before the next report.
    this.emit(this.waitingCode() !== before, false);
  }

  private waitingCode(): string | null {
    if (this.retrying > 0) return 'STORAGE_RETRY';
    if (this.limited && Date.now() < this.limited.until) return this.limited.direction;
    return null;
  }

  private waitingOn(): Progress['waitingOn'] {
    if (this.retrying > 0) return { code: 'STORAGE_RETRY', message: waiting.storageRetry(this.retryCause) };
    const l = this.limited;
    if (!l || Date.now() >= l.until) return null;
    return l.direction === 'upload'
      ? { code: 'UPLOAD_LIMIT', message: waiting.uploadLimit(l.bytesPerSecond) }
      : { code: 'DOWNLOAD_LIMIT', message: waiting.downloadLimit(l.bytesPerSecond) };
  }

  fileDone(bytes: number): void {
    this.progress.filesDone++;
    this.addBytes(bytes);
  }

  addBytes(bytes: number): void {
    this.progress.bytesDone += bytes;
    this.emit(false);
  }

  /** `now`: report even within 200 ms of the last report (the end, or a change of what it waits on). */
  emit(now: boolean, final = now): void {
    if (!this.onProgress) return;
    const t = Date.now();
    if (!now && t - this.last < 200) return;
    this.last = t;
    const p = this.progress;
    const elapsed = Math.max(0.001, (t - this.started) / 1000);
    p.bytesPerSecond = Math.round(p.bytesDone / elapsed);
    p.etaSeconds = final ? 0 : p.bytesTotal !== null && p.bytesPerSecond > 0 ? Math.max(0, Math.round((p.bytesTotal - p.bytesDone) / p.bytesPerSecond)) : null;
    p.uploadBytesPerSecond = this.rate.perSecond(t, p.bytesUploaded);
    p.waitingOn = final ? null : this.waitingOn();
    if (final) p.currentFile = null;
    this.onProgress({ ...p, waitingOn: p.waitingOn && { ...p.waitingOn } });
  }

  /** Counts files and bytes for the ETA of a first backup, on a thread of its own (scan.ts). */
  scanTotals(sources: string[], excludes: string[]): void {
    const request: ScanRequest = { role: 'twofold-scan', sources, excludes, stop: this.scanStop };
    const thread = startThread('scan', { workerData: request, resourceLimits: { maxYoungGenerationSizeMb: THREAD_YOUNG_GENERATION_MB } });
    this.scanThread = thread;
    thread.once('message', (totals: ScanTotals) => {
      // A scan stopped early counts part of the tree: no total at all is better.
      if (Atomics.load(this.scanStop, 0) !== 0) return;
      this.progress.filesTotal = totals.files;
      this.progress.bytesTotal = totals.bytes;
    });
    // Totals only feed the ETA: a scan that fails leaves them unknown.
    thread.once('error', () => undefined);
    thread.once('exit', () => {
      if (this.scanThread === thread) this.scanThread = null;
    });
  }

  async close(): Promise<void> {
    this.unwatch?.();
    Atomics.store(this.scanStop, 0, 1);
    if (this.scanThread) await endThread(this.scanThread, () => undefined);
  }
}
