/**
 * A backup's progress: files and bytes done, the totals it is measured against (the parent
 * snapshot's, or a first backup's own count on a scan thread, scan.ts), rate and ETA, reported
 * at most every 200 ms and once at the end.
 */
import type { Worker } from 'node:worker_threads';
import type { Progress } from './backup-types.js';
import type { ScanRequest, ScanTotals } from './scan.js';
import { startThread, THREAD_YOUNG_GENERATION_MB } from './threads.js';

/** Progress before any work: nothing done, totals not yet known. */
export function emptyProgress(): Progress {
  return { filesDone: 0, filesTotal: null, bytesDone: 0, bytesTotal: null, currentFile: null, bytesPerSecond: 0, etaSeconds: null };
}

export class ProgressMeter {
  readonly progress: Progress = emptyProgress();
  private last = 0;
  private scanThread: Worker | null = null;

  constructor(
    private readonly started: number,
    private readonly onProgress: ((p: Progress) => void) | undefined,
  ) {}

  fileDone(bytes: number): void {
    this.progress.filesDone++;
    this.addBytes(bytes);
  }

  addBytes(bytes: number): void {
    this.progress.bytesDone += bytes;
    this.emit(false);
  }

  emit(final: boolean): void {
    if (!this.onProgress) return;
    const t = Date.now();
    if (!final && t - this.last < 200) return;
    this.last = t;
    const p = this.progress;
    const elapsed = Math.max(0.001, (t - this.started) / 1000);
    p.bytesPerSecond = Math.round(p.bytesDone / elapsed);
    p.etaSeconds =
      final ? 0 : p.bytesTotal !== null && p.bytesPerSecond > 0 ? Math.max(0, Math.round((p.bytesTotal - p.bytesDone) / p.bytesPerSecond)) : null;
    if (final) p.currentFile = null;
    this.onProgress({ ...p });
  }

  /** Counts files and bytes for the ETA of a first backup, on a thread of its own (scan.ts). */
  scanTotals(sources: string[], excludes: string[]): void {
    const request: ScanRequest = { role: 'twofold-scan', sources, excludes };
    const thread = startThread('scan', { workerData: request, resourceLimits: { maxYoungGenerationSizeMb: THREAD_YOUNG_GENERATION_MB } });
    this.scanThread = thread;
    thread.once('message', (totals: ScanTotals) => {
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
    await this.scanThread?.terminate();
  }
}
