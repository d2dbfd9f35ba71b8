/**
 * A file's state as a backup compares it: size, mtime, ctime and inode. The walk's lstat gives
 * the state a file is expected to have; the lane that reads it asks its descriptor again once
 * the last byte is read (worker.ts): a file whose state moved meanwhile was not read as one
 * version (docs/repository-format.md §9). Kept apart so the worker threads load only this.
 */
import type { BigIntStats } from 'node:fs';

export interface FileState {
  size: number;
  inode: string;
  mtimeNs: string;
  ctimeNs: string;
}

/**
 * How the file behind a descriptor differs from `expected`: null when it does not; 'status'
 * when only its ctime moved (a chmod, a new or removed name: a rename over it or its deletion
 * changes the ctime of the file being read), so its bytes are the expected ones unless someone
 * also put its mtime back; 'content' when size, mtime or inode moved.
 */
export function stateChange(expected: FileState, st: BigIntStats): 'status' | 'content' | null {
  if (st.size !== BigInt(expected.size) || st.mtimeNs !== BigInt(expected.mtimeNs) || st.ino !== BigInt(expected.inode)) return 'content';
  return st.ctimeNs === BigInt(expected.ctimeNs) ? null : 'status';
}
