/**
 * How a restore writes one entry: under a temporary name in its folder, complete with its
 * metadata, then renamed into place. So a name the snapshot gives holds either nothing or the
 * whole, verified entry, whenever the restore stops; what a killed restore leaves is temporary
 * files, which the next restore into that folder removes (restore-temps.ts). A new entry never
 * replaces anything: the rename fails when something appeared at its name meanwhile.
 */
import { closeSync, linkSync, lstatSync, openSync, renameSync, rmSync, unlinkSync } from 'node:fs';
import { CoreError } from '../../platform/errors.js';
import { fsPath } from './fs-names.js';
import { renameNoReplace } from './native.js';
import { applyMeta, type NodeMetaToSet } from './restore-meta.js';

export interface RestoreBlob {
  id: string;
  pack: string;
  offset: number;
  length: number;
  rawLength: number;
  compressed: boolean;
}

export interface RestoreFile {
  /** The final name (escaped bytes allowed, fs-names.ts). */
  target: string;
  /** A temporary name in the same folder, unused (restore-temps.ts). */
  tmp: string;
  /** Rename over whatever is at `target` (the caller chose to overwrite), or never replace. */
  replace: boolean;
  /** Its folder was made by this restore (restore-meta.ts). */
  inNewFolder: boolean;
  node: NodeMetaToSet & { size: number };
  blobs: RestoreBlob[];
}

export interface RestoredFile {
  bytes: number;
  /** Something appeared at the target during the restore and was left as it was. */
  existed?: boolean;
  error?: string;
  /** The errno or engine code behind `error` (a full disk stops the restore). */
  code?: string;
  /** Parts of its metadata that could not be set (the file itself is restored). */
  notKept?: string[];
}

/**
 * Write one file: `writeContent` writes its verified bytes into the open temporary file and
 * returns how many; then its metadata, then the rename. On any failure the temporary file goes.
 */
export function writeRestoredFile(f: RestoreFile, writeContent: (fd: number) => number): RestoredFile {
  const tmp = fsPath(f.tmp);
  const out = openSync(tmp, 'wx', 0o600);
  try {
    let notKept: string[];
    try {
      const bytes = writeContent(out);
      // Every chunk was checked against its id; their sum must be the size the snapshot names.
      if (bytes !== f.node.size)
        throw new CoreError('REPO_DAMAGED', `The snapshot's data for this file is ${bytes} bytes where it says ${f.node.size}. Run a check.`);
      notKept = applyMeta(out, f.node, f.inNewFolder);
    } finally {
      closeSync(out);
    }
    if (!placeEntry(f.tmp, f.target, f.replace)) {
      rmSync(tmp, { force: true });
      return { bytes: 0, existed: true };
    }
    return notKept.length > 0 ? { bytes: f.node.size, notKept } : { bytes: f.node.size };
  } catch (e) {
    // The temporary name is ours alone, so removing it touches nothing of the user's.
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * Move a complete entry from its temporary name to `target`: over what is there when `replace`,
 * else only if nothing is (false then, the temporary entry left for the caller). One rename that
 * cannot replace where the system has it; a hard link and an unlink elsewhere, which fail the same
 * way; a look and a rename on a file system with neither (FAT, some network shares).
 */
export function placeEntry(tmp: string, target: string, replace: boolean): boolean {
  const from = fsPath(tmp);
  const to = fsPath(target);
  if (replace) {
    renameSync(from, to);
    return true;
  }
  try {
    if (renameNoReplace(from, to)) return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    linkSync(from, to);
    unlinkSync(from);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EMLINK') throw e;
  }
  if (exists(to)) return false;
  renameSync(from, to);
  return true;
}

function exists(path: string | Buffer): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
