/**
 * The first backup's totals, for its progress bar and ETA: files and bytes under the sources,
 * counted on a thread of its own (a plain synchronous walk, lstat only), so the count costs
 * the backup's main thread nothing while both cores chunk and seal.
 */
import { lstatSync, readdirSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { makeExcluder } from './excludes.js';

export interface ScanRequest {
  role: 'twofold-scan';
  sources: string[];
  excludes: string[];
}

export interface ScanTotals {
  files: number;
  bytes: number;
}

/** Count regular files and their bytes, skipping what the excludes name and what cannot be read. */
export function countTree(sources: readonly string[], excludes: readonly string[]): ScanTotals {
  const excluded = makeExcluder(excludes);
  const totals: ScanTotals = { files: 0, bytes: 0 };
  const visit = (path: string): void => {
    let names: string[];
    try {
      names = readdirSync(path);
    } catch {
      return;
    }
    for (const name of names) {
      const child = `${path}/${name}`;
      if (excluded(child, name)) continue;
      try {
        const st = lstatSync(child);
        if (st.isFile()) {
          totals.files++;
          totals.bytes += st.size;
        } else if (st.isDirectory()) visit(child);
      } catch {
        // vanished or unreadable: the backup itself reports it
      }
    }
  };
  for (const source of sources) {
    try {
      const st = lstatSync(source);
      if (st.isFile()) {
        totals.files++;
        totals.bytes += st.size;
      } else if (st.isDirectory()) visit(source);
    } catch {
      // reported by the backup
    }
  }
  return totals;
}

const request = workerData as ScanRequest | undefined;
if (parentPort && request?.role === 'twofold-scan') parentPort.postMessage(countTree(request.sources, request.excludes));
