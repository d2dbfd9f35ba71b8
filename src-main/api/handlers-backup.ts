/** Backup methods -> the backup service. The router has checked gate level and input already. */
import type { backupMethods, BackupSetView, JobViewDto } from '../../src-shared/contract-backup.js';
import type { RepositoryViewDto } from '../../src-shared/contract-repositories.js';
import { locationText, type LocationInput } from '../../src-shared/repository-location.js';
import { nextDue, type BackupSet, type RepositoryRow } from '../core/backup/backup-sets.js';
import { CoreError } from '../core/platform/errors.js';
import type { JobView } from '../core/backup/jobs.js';
import { displayPaths } from '../core/backup/engine/snapshot-paths.js';
import type { BackupService, CallerInfo } from '../core/backup/service.js';
import type { CallContext, Handlers } from './router.js';

/** What the service needs of the call: who made it, and whether the router spent a proof on it. */
const caller = (ctx: CallContext): CallerInfo => ({ ctx: { ip: ctx.ip, workstation: ctx.workstation }, confirmed: ctx.confirmed === true });

/** A set as the contract shows it: its next run, whether it runs now, and its last run. */
function backupSetView(service: BackupService, set: BackupSet): BackupSetView {
  const lastRun = service.sets.runs(set.id, 1)[0] ?? null;
  return {
    id: set.id,
    name: set.name,
    repositoryId: set.repositoryId,
    sources: set.sources,
    excludes: set.excludes,
    schedule: set.schedule,
    retention: set.retention,
    createdAt: set.createdAt,
    updatedAt: set.updatedAt,
    nextRunAt: nextDue(set.schedule, set.lastScheduledAt ?? set.createdAt),
    running: service.isRunning(set.id),
    lastRun,
  };
}

/** A repository as the contract shows it: where it lives, in words, and never a credential. */
export function repositoryView(r: RepositoryRow): RepositoryViewDto {
  return {
    id: r.id,
    name: r.name,
    path: r.path,
    createdAt: r.createdAt,
    kind: r.kind,
    location: locationText(r.location),
    details: r.location,
    appendOnly: r.appendOnly,
    connections: r.connections,
  };
}

/** A folder's path (the older form of the call) or a location; the contract lets exactly one through. */
function where(path: string | undefined, location: LocationInput | undefined): LocationInput {
  if (location) return location;
  if (path === undefined) throw new CoreError('BAD_INPUT', 'Give either a folder (path) or a location.');
  return { kind: 'folder', path };
}

export function createBackupHandlers(service: BackupService): Pick<Handlers, keyof typeof backupMethods> {
  const setView = (set: BackupSet) => backupSetView(service, set);
  // The router validates the result against the contract's discriminated union.
  const jobView = (job: JobView): JobViewDto => job as JobViewDto;

  return {
    'backup.repositories.list': () => ({ repositories: service.repositories().map(repositoryView) }),

    'backup.repositories.init': async ({ name, path, location, appendOnly, connections }, ctx) => {
      const { repository, password } = await service.initRepository(name, where(path, location), caller(ctx), { appendOnly, connections });
      return { repository: repositoryView(repository), password };
    },

    'backup.repositories.connect': async ({ name, path, location, password, appendOnly, connections }, ctx) => ({
      repository: repositoryView(await service.connectRepository(name, where(path, location), password, caller(ctx), { appendOnly, connections })),
    }),

    'backup.repositories.status': ({ repositoryId }) => service.repos.status(repositoryId),
    'backup.repositories.testConnection': ({ location }) => service.repos.testConnection(location),

    'backup.repositories.edit': async ({ repositoryId, ...patch }, ctx) => ({
      repository: repositoryView(await service.repos.edit(repositoryId, patch, caller(ctx))),
    }),

    'backup.repositories.changePassword': ({ repositoryId }, ctx) => service.changeRepositoryPassword(repositoryId, caller(ctx)),

    'backup.repositories.remove': async ({ repositoryId, deleteFiles, maintenance }, ctx) => {
      await service.removeRepository(repositoryId, deleteFiles, caller(ctx), maintenance);
      return { removed: true as const };
    },

    'backup.sets.list': () => ({ sets: service.sets.sets().map(setView) }),

    'backup.sets.create': (input, ctx) => setView(service.createSet(input, caller(ctx))),

    'backup.sets.update': ({ setId, ...patch }, ctx) => setView(service.updateSet(setId, patch, caller(ctx))),

    'backup.sets.setRetention': ({ setId, retention }, ctx) => setView(service.setRetention(setId, retention, caller(ctx))),

    'backup.sets.delete': ({ setId }, ctx) => {
      service.deleteSet(setId, caller(ctx));
      return { deleted: true as const };
    },

    'backup.sets.run': ({ setId, maintenance }, ctx) => ({ jobId: service.runSet(setId, 'manual', caller(ctx), maintenance) }),

    'backup.history': ({ setId, limit }) => ({ runs: service.sets.runs(setId ?? null, limit) }),

    'backup.snapshots.list': async ({ repositoryId }) => {
      const { snapshots, damaged } = await service.snapshots(repositoryId);
      return {
        snapshots: snapshots.map((s) => ({
          id: s.id,
          time: s.time,
          host: s.host,
          paths: displayPaths(s),
          tags: s.tags,
          setId: s.tags.find((t) => t.startsWith('set:'))?.slice(4) ?? null,
          summary: s.summary,
          repaired: s.repaired ?? null,
        })),
        damaged: damaged.map(({ kind, id, message }) => ({ kind, id, message })),
      };
    },

    'backup.snapshots.browse': async ({ repositoryId, snapshotId, path }) => ({
      entries: await service.browse(repositoryId, snapshotId, path),
    }),

    'backup.snapshots.find': async ({ repositoryId, pattern, limit }) => ({
      entries: await service.find(repositoryId, pattern, limit),
    }),

    'backup.snapshots.diff': ({ repositoryId, from, to, limit }) => service.diff(repositoryId, from, to, limit),

    'backup.snapshots.forget': async ({ repositoryId, snapshotIds, maintenance }, ctx) => ({
      removed: await service.forget(repositoryId, snapshotIds, caller(ctx), maintenance),
    }),

    'backup.restore.start': async ({ repositoryId, snapshotId, paths, target, onExisting }, ctx) => ({
      jobId: await service.startRestore(repositoryId, snapshotId, { paths, targetDir: target.kind === 'folder' ? target.path : null, onExisting }, caller(ctx)),
    }),

    'backup.check.start': ({ repositoryId, readData, subsetPercent }) => ({
      jobId: service.startCheck(repositoryId, readData === 'subset' ? { kind: 'subset', percent: subsetPercent } : { kind: readData }),
    }),

    'backup.prune.start': ({ repositoryId, maintenance }, ctx) => ({ jobId: service.startPrune(repositoryId, caller(ctx), maintenance) }),

    'backup.repair.start': ({ repositoryId, packs, index, snapshots, maintenance }, ctx) => ({
      jobId: service.startRepair(repositoryId, { packs, index, snapshots }, caller(ctx), maintenance),
    }),

    'backup.jobs.list': () => ({ jobs: service.jobs.list().map(jobView) }),

    'backup.jobs.get': ({ jobId }) => jobView(service.jobs.get(jobId)),

    'backup.jobs.cancel': ({ jobId }) => jobView(service.jobs.cancel(jobId)),
  };
}
