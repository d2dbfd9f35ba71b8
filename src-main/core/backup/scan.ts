/**
 * The first backup's totals, for its progress bar and ETA: files and bytes under the sources,
 * counted on a thread of its own (a plain synchronous walk, lstat only), so the count costs
 * the backup's main thread nothing while both cores chunk and seal.
 */
import { lstatSync, readdirSync, type Stats } from 'node:fs';
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
  const visit = (path: string, st: Stats): void => {
    if (st.isFile()) {
      totals.files++;
      totals.bytes += st.size;
    }
    if (!st.isDirectory()) return;
    let names: string[];
    try {
      names = readdirSync(path);
    } catch {
      return;
    }
    for (const name of names) {
      const child = `${path}/${name}`;
      if (excluded(child, name)) continue;
      const cst = lstatOrNull(child);
      if (cst) visit(child, cst);
    }
  };
  for (const source of sources) {
    const st = lstatOrNull(source);
    if (st) visit(source, st);
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
if (parentPort && request?.role === 'twofold-scan') parentPort.postMessage(countTree(request.sources, request.excludes));
