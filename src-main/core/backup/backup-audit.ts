/**
 * What the backup services write into the audit log: every change of a repository or a set,
 * and everything that reads out or removes backed-up data (restore, forget, prune, delete),
 * with what and where to. Wording is made here, from names, paths, counts and ids; never from a
 * password or a key. The recorder is injected (the composition root wires it to the audit log).
 */
import { hasRetention, retentionText } from '../../../src-shared/contract-backup.js';
import type { AUDIT_ACTIONS } from '../../../src-shared/contract.js';
import type { RequestContext } from '../platform/context.js';
import type { BackupSet, RepositoryRow, SetInput } from './backup-sets.js';
import type { Retention } from './engine/prune.js';
import type { SnapshotWithId } from './engine/snapshot.js';
import { displayPaths } from './engine/snapshot-paths.js';
import type { RepairReport } from './engine/repair.js';

export interface BackupAuditEvent {
  action: (typeof AUDIT_ACTIONS)[number];
  outcome: 'success' | 'failure' | 'info';
  detail: string;
}

/** Records one event; `ctx` is the caller's, or null for the scheduler and the tray. */
export type BackupAuditSink = (ctx: RequestContext | null, event: BackupAuditEvent) => void;

/** The audit log keeps 500 characters of detail. */
export function clip(text: string, max = 500): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export const repoText = (r: Pick<RepositoryRow, 'name' | 'path'>): string => `“${r.name}” (${r.path})`;

/** A snapshot in the audit log: its short id and its time in UTC ("3f2a91c0 of 2026-11-22 12:00 UTC"). */
export function snapshotText(s: Pick<SnapshotWithId, 'id' | 'time'>): string {
  const d = new Date(s.time);
  const when = Number.isNaN(d.getTime()) ? s.time : `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  return `${s.id.slice(0, 8)} of ${when}`;
}

const list = (items: readonly string[]): string => (items.length ? items.join(', ') : 'none');

/** What a change to a set changes, in words ("folders /a → /b; schedule none → 0 3 * * *"); empty when nothing does. */
export function setChanges(current: BackupSet, patch: Partial<Omit<SetInput, 'retention'>>, repoName: (id: string) => string): string[] {
  const changes: string[] = [];
  if (patch.name !== undefined && patch.name !== current.name) changes.push(`name “${current.name}” → “${patch.name}”`);
  if (patch.sources !== undefined && !sameList(patch.sources, current.sources)) changes.push(`folders ${list(current.sources)} → ${list(patch.sources)}`);
  if (patch.excludes !== undefined && !sameList(patch.excludes, current.excludes)) changes.push(`excludes ${list(current.excludes)} → ${list(patch.excludes)}`);
  if (patch.repositoryId !== undefined && patch.repositoryId !== current.repositoryId) {
    changes.push(`repository ${repoName(current.repositoryId)} → ${repoName(patch.repositoryId)}`);
  }
  if (patch.schedule !== undefined && patch.schedule !== current.schedule) changes.push(`schedule ${current.schedule ?? 'none'} → ${patch.schedule ?? 'none'}`);
  return changes;
}

export function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export function retentionChange(set: BackupSet, retention: Retention): string {
  return `“${set.name}”: retention ${retentionText(set.retention)} → ${retentionText(retention)}`;
}

/** What a restore restores, and where to. */
export function restoreText(
  repo: Pick<RepositoryRow, 'name' | 'path'>,
  snapshot: Pick<SnapshotWithId, 'id' | 'time' | 'paths'>,
  options: { paths: readonly string[]; targetDir: string | null; onExisting: string },
): string {
  const what = options.paths.length === 0 ? 'everything' : `${options.paths.length} item${options.paths.length === 1 ? '' : 's'} (${options.paths.join(', ')})`;
  const where = options.targetDir === null ? `the original places (${list(displayPaths(snapshot))})` : options.targetDir;
  const existing =
    { skip: 'existing files kept', overwrite: 'existing files overwritten', fail: 'stops at an existing file' }[options.onExisting] ?? options.onExisting;
  return `${what} from snapshot ${snapshotText(snapshot)} of ${repoText(repo)} to ${where}; ${existing}`;
}

/** "1 snapshot", "3 snapshots": a count with its noun, for audit details. */
export function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** What a repair removed and rewrote, for its audit row (ids shortened; never a file's contents). */
export function repairText(report: RepairReport): string {
  const removed = report.packs.filter((p) => p.outcome === 'removed');
  const lost = report.packs.reduce((a, p) => a + p.blobsLost, 0) + (report.index?.blobsLost ?? 0);
  const parts = [
    `${count(removed.length, 'damaged pack')} removed${removed.length ? ` (${removed.map((p) => p.id.slice(0, 8)).join(', ')})` : ''}`,
    `${count(lost, 'blob')} lost`,
  ];
  if (report.index) parts.push(`index rebuilt over ${count(report.index.packsIndexed, 'pack')}`);
  if (report.snapshots) {
    const { rewritten, removed: gone } = report.snapshots;
    parts.push(`${count(rewritten.length, 'snapshot')} rewritten${rewritten.length ? ` (${rewritten.map((s) => s.id.slice(0, 8)).join(', ')})` : ''}`);
    parts.push(`${count(gone.length, 'snapshot file')} deleted${gone.length ? ` (${gone.map((s) => s.id.slice(0, 8)).join(', ')})` : ''}`);
  }
  return clip(parts.join('; '));
}

/** A set change that retention could turn against the set's snapshots (docs/security.md). */
export function setChangeNeedsConfirmation(set: BackupSet, patch: Partial<Omit<SetInput, 'retention'>>): boolean {
  if (!hasRetention(set.retention)) return false;
  return setChanges(set, { ...patch, name: undefined }, (id) => id).length > 0;
}
