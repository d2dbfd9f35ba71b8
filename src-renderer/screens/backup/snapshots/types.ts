/** What the snapshot screens share: the row types of the contract's answers, and path helpers. */
import type { OutputOf } from '../../../../src-shared/contract.js';

export type Snapshot = OutputOf<'backup.snapshots.list'>['snapshots'][number];
export type Entry = OutputOf<'backup.snapshots.browse'>['entries'][number];
export type Found = OutputOf<'backup.snapshots.find'>['entries'][number];
export type Diff = OutputOf<'backup.snapshots.diff'>;

export const newestFirst = (a: Snapshot, b: Snapshot) => b.time.localeCompare(a.time);
export const parentOf = (path: string) => path.split('/').slice(0, -1).join('/');
