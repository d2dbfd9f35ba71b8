/** Backup methods -> the backup service. The router has checked gate level and input already. */
import type { backupMethods, BackupSetView, JobViewDto } from '../../src-shared/contract-backup.js';
import type { Core } from '../core/composition.js';
import { nextDue, type BackupSet } from '../core/backup/backup-sets.js';
import type { JobView } from '../core/backup/jobs.js';
import type { Handlers } from './router.js';

export function createBackupHandlers(core: Core): Pick<Handlers, keyof typeof backupMethods> {
  const service = core.backup;

  const setView = (set: BackupSet): BackupSetView => {
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
  };
  // The router validates the result against the contract's discriminated union.
  const jobView = (job: JobView): JobViewDto => job as JobViewDto;

  return {
    'backup.repositories.list': () => ({
      repositories: service.repositories().map(({ id, name, path, createdAt }) => ({ id, name, path, createdAt })),
    }),

    'backup.repositories.init': async ({ name, path }) => {
      const { repository, password } = await service.initRepository(name, path);
      const { id, createdAt } = repository;
      return { repository: { id, name: repository.name, path: repository.path, createdAt }, password };
    },

    'backup.repositories.connect': async ({ name, path, password }) => {
      const r = await service.connectRepository(name, path, password);
      return { repository: { id: r.id, name: r.name, path: r.path, createdAt: r.createdAt } };
    },

    'backup.repositories.changePassword': ({ repositoryId }) => service.changeRepositoryPassword(repositoryId),

    'backup.repositories.remove': async ({ repositoryId, deleteFiles }) => {
      await service.removeRepository(repositoryId, deleteFiles);
      return { removed: true as const };
    },

    'backup.sets.list': () => ({ sets: service.sets.sets().map(setView) }),

    'backup.sets.create': (input) => setView(service.createSet(input)),

    'backup.sets.update': ({ setId, ...patch }) => setView(service.updateSet(setId, patch)),

    'backup.sets.setRetention': ({ setId, retention }) => setView(service.setRetention(setId, retention)),

    'backup.sets.delete': ({ setId }) => {
      service.deleteSet(setId);
      return { deleted: true as const };
    },

    'backup.sets.run': ({ setId }) => ({ jobId: service.runSet(setId, 'manual') }),

    'backup.history': ({ setId, limit }) => ({ runs: service.sets.runs(setId ?? null, limit) }),

    'backup.snapshots.list': async ({ repositoryId }) => {
      const { snapshots, damaged } = await service.snapshots(repositoryId);
      return {
        snapshots: snapshots.map((s) => ({
          id: s.id,
          time: s.time,
          host: s.host,
          paths: s.paths,
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

    'backup.snapshots.forget': async ({ repositoryId, snapshotIds }) => ({
      removed: await service.forget(repositoryId, snapshotIds),
    }),

    'backup.restore.start': ({ repositoryId, snapshotId, paths, target, onExisting }) => ({
      jobId: service.startRestore(repositoryId, snapshotId, {
        paths,
        targetDir: target.kind === 'folder' ? target.path : null,
        onExisting,
      }),
    }),

    'backup.check.start': ({ repositoryId, readData, subsetPercent }) => ({
      jobId: service.startCheck(
        repositoryId,
        readData === 'subset' ? { kind: 'subset', percent: subsetPercent } : { kind: readData },
      ),
    }),

    'backup.prune.start': ({ repositoryId }) => ({ jobId: service.startPrune(repositoryId) }),

    'backup.repair.start': ({ repositoryId, packs, index, snapshots }) => ({
      jobId: service.startRepair(repositoryId, { packs, index, snapshots }),
    }),

    'backup.jobs.list': () => ({ jobs: service.jobs.list().map(jobView) }),

    'backup.jobs.get': ({ jobId }) => jobView(service.jobs.get(jobId)),

    'backup.jobs.cancel': ({ jobId }) => jobView(service.jobs.cancel(jobId)),
  };
}
