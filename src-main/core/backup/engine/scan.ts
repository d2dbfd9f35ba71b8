/**
 * The first backup's totals, for its progress bar and ETA: files and bytes under the sources,
 * counted on a thread of its own (a plain synchronous walk, listing folders as the backup
 * does), so the count costs the backup's main thread nothing while both cores chunk and seal.
 */
import { lstatSync, type Stats } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { makeExcluder } from './excludes.js';
import { kindAt, listFolder, sizeAt } from './walk.js';

export interface ScanRequest {
  role: 'twofold-scan';
  sources: string[];
  excludes: string[];
  /** [0] set to 1 by the backup when it no longer needs the count: stop before the next folder. */
  stop?: Int32Array;
}

export interface ScanTotals {
  files: number;
  bytes: number;
}

/**
 * Count regular files and their bytes, skipping what the excludes name and what cannot be read.
 * Folders are listed as the backup lists them (walk.ts), so both see the same entries.
 */
export function countTree(sources: readonly string[], excludes: readonly string[], stop?: Int32Array): ScanTotals {
  const excluded = makeExcluder(excludes);
  const totals: ScanTotals = { files: 0, bytes: 0 };
  const visit = (path: string): void => {
    if (stop && Atomics.load(stop, 0) !== 0) return;
    const listing = listFolder(path, excluded);
    listing.names.forEach((name, i) => {
      if (listing.errors[i] !== null) return;
      const kind = kindAt(listing, i);
      if (kind === 'file') {
        totals.files++;
        totals.bytes += sizeAt(listing, i);
      } else if (kind === 'dir') visit(`${path}/${name}`);
    });
  };
  for (const source of sources) {
    const st = lstatOrNull(source);
    if (st?.isFile()) {
      totals.files++;
      totals.bytes += st.size;
    } else if (st?.isDirectory()) visit(source);
  }
  return totals;
}

/** Vanished or unreadable entries are not counted: the backup itself reports them. */
function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

const request = workerData as ScanRequest | undefined;
if (parentPort && request?.role === 'twofold-scan') parentPort.postMessage(countTree(request.sources, request.excludes, request.stop));
