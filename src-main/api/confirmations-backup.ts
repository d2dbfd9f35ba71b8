/** The confirmations of the backup methods that need one (see confirmations.ts). */
import { retentionText } from '../../src-shared/contract-backup.js';
import type { ParsedInputOf } from '../../src-shared/contract.js';
import { plural, withMaintenance } from './confirmation-words.js';
export { plural };
import { describeRepositories, type RepositoryConfirmable } from './confirmations-repositories.js';
import type { BackupService } from '../core/backup/service.js';
import { setChanges } from '../core/backup/backup-audit.js';
import { applyRetention } from '../core/backup/engine/prune.js';
import type { SnapshotWithId } from '../core/backup/engine/snapshot.js';
import { displayPaths } from '../core/backup/engine/snapshot-paths.js';
import type { Described } from './confirmations.js';

/** A snapshot's time as this computer's clock says it: "2026-11-22 13:00". */
export function localTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}`;
}

const snapshotName = (s: SnapshotWithId) => `${s.id.slice(0, 8)} of ${localTime(s.time)}`;

type BackupConfirmable =
  | RepositoryConfirmable
  | 'backup.sets.setRetention'
  | 'backup.sets.delete'
  | 'backup.snapshots.forget'
  | 'backup.sets.update'
  | 'backup.restore.start'
  | 'backup.repair.start'
  | 'backup.prune.start'
  | 'backup.sets.run';

export function describeBackup(service: BackupService): { [M in BackupConfirmable]: (input: ParsedInputOf<M>) => Promise<Described> | Described } {
  const repository = (id: string) => service.sets.repository(id);
  /** The snapshots of a repository, or null when it cannot be read now (the confirmation says so). */
  const snapshotsOf = async (id: string): Promise<SnapshotWithId[] | null> =>
    service.snapshots(id).then(
      (r) => r.snapshots,
      () => null,
    );
  const ofSet = (all: SnapshotWithId[], setId: string) => all.filter((s) => s.tags.includes(`set:${setId}`));
  const count = (n: SnapshotWithId[] | null, what = 'snapshot') => (n === null ? `its ${what}s (which cannot be read now)` : plural(n.length, what));

  return {
    ...describeRepositories(service),
    'backup.prune.start': ({ repositoryId, maintenance }) => {
      const r = repository(repositoryId);
      return {
        title: `Free space in the append-only repository “${r.name}”`,
        consequence: `${r.path}: data no snapshot uses is deleted${withMaintenance(maintenance)}.`,
      };
    },
    'backup.sets.run': async ({ setId, maintenance }) => {
      const set = service.sets.set(setId);
      const r = repository(set.repositoryId);
      if (!maintenance) return { title: `Back up “${set.name}” now`, consequence: `Into “${r.name}” (${r.path}).` };
      const all = await snapshotsOf(set.repositoryId);
      return {
        title: `Back up “${set.name}” and apply its retention`,
        consequence:
          `After the backup, the set's snapshots in “${r.name}” (${r.path}) that its retention (${retentionText(set.retention)}) no longer keeps are deleted` +
          `${withMaintenance(maintenance)}, and the data only they held is freed. It has ${count(all && ofSet(all, setId))} there now.`,
      };
    },
    'backup.sets.setRetention': async ({ setId, retention }) => {
      const set = service.sets.set(setId);
      const r = repository(set.repositoryId);
      const all = await snapshotsOf(set.repositoryId);
      const title = `Change the retention of “${set.name}” to ${retentionText(retention)}`;
      if (all === null) return { title, consequence: `Snapshots of this set in “${r.name}” (${r.path}) that no longer fit are deleted at its next backup.` };
      const mine = ofSet(all, setId);
      const removed = applyRetention(mine, retention).remove.length;
      return {
        title,
        consequence: `${plural(removed, 'snapshot')} of the set's ${mine.length} in “${r.name}” (${r.path}) no longer ${removed === 1 ? 'fits' : 'fit'} and ${removed === 1 ? 'is' : 'are'} deleted at its next backup.`,
      };
    },
    'backup.sets.delete': async ({ setId }) => {
      const set = service.sets.set(setId);
      const r = repository(set.repositoryId);
      const all = await snapshotsOf(set.repositoryId);
      return {
        title: `Delete the backup set “${set.name}”`,
        consequence: `Its schedule and history end; ${count(all && ofSet(all, setId))} it made stay in “${r.name}” (${r.path}).`,
      };
    },
    'backup.snapshots.forget': async ({ repositoryId, snapshotIds, maintenance }) => {
      const r = repository(repositoryId);
      const names = await service.repos.with(repositoryId, async (repo) => {
        const ids = [...new Set(await Promise.all(snapshotIds.map((id) => repo.resolveSnapshotId(id))))];
        // A damaged snapshot file can be deleted too: it is named by its id alone.
        return Promise.all(ids.map((id) => repo.loadSnapshot(id).then(snapshotName, () => `${id.slice(0, 8)} (a damaged snapshot file)`)));
      });
      return {
        title: names.length === 1 ? `Delete the snapshot ${names[0]!}` : `Delete ${names.length} snapshots from “${r.name}”`,
        consequence: `Deleted from “${r.name}” (${r.path})${withMaintenance(maintenance)}: ${names.join(', ')}. The data only they hold is freed by the next “Free space”.`,
      };
    },
    'backup.sets.update': ({ setId, ...patch }) => {
      const set = service.sets.set(setId);
      const changes = setChanges(set, patch, (id) => `“${service.repositories().find((x) => x.id === id)?.name ?? 'a removed repository'}”`);
      return {
        title: `Change the backup set “${set.name}”`,
        consequence:
          `${changes.length ? `Changes: ${changes.join('; ')}.` : 'Nothing changes.'} ` +
          `It keeps ${retentionText(set.retention)}, so once the changed set has run, the snapshots of what it backed up before can be deleted.`,
      };
    },
    'backup.restore.start': async ({ repositoryId, snapshotId, paths, target, onExisting }) => {
      const r = repository(repositoryId);
      const snapshot = await service.repos.with(repositoryId, (repo) => repo.findSnapshot(snapshotId));
      const what = paths.length === 0 ? 'everything' : paths.length === 1 ? `“${paths[0]}”` : `${paths.length} items`;
      const where = target.kind === 'folder' ? target.path : `their original places (${displayPaths(snapshot).join(', ')})`;
      const existing =
        onExisting === 'overwrite'
          ? 'Files that exist there are replaced by the snapshot’s copies.'
          : onExisting === 'skip'
            ? 'Files that exist there are kept.'
            : 'The restore stops if a file exists there.';
      return {
        title: `Restore ${what} from the snapshot ${snapshotName(snapshot)} of “${r.name}”${onExisting === 'overwrite' ? ', overwriting existing files' : ''}`,
        consequence: `Into ${where}. ${existing}`,
      };
    },
    'backup.repair.start': ({ repositoryId, packs, index, snapshots }) => {
      const r = repository(repositoryId);
      const steps = [
        ...(packs.length
          ? [
              `${plural(packs.length, 'damaged pack')} (${packs.map((p) => p.slice(0, 8)).join(', ')}): what still verifies is saved, then ${packs.length === 1 ? 'it is' : 'they are'} deleted`,
            ]
          : []),
        ...(index || packs.length ? ['the index is rebuilt from the packs and the old index files are deleted'] : []),
        ...(snapshots ? ['snapshots that lost data are rewritten without it, and snapshot files that cannot be opened are deleted'] : []),
      ];
      return {
        title: `Repair the repository “${r.name}”`,
        consequence: `In ${r.path}: ${steps.join('; ')}. What cannot be saved is lost for good; the report names it.`,
      };
    },
  };
}
