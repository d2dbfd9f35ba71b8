/**
 * When a `stepUpWhen` method needs a step-up proof (docs/security.md, "Nothing below step-up
 * destroys what a step-up protects"). The router asks before the handler runs; the services
 * check the same rule again with what the router tells them (`confirmed`).
 */
import type { MaintenanceCredentials } from '../../src-shared/repository-location.js';
import type { BackupService } from '../core/backup/service.js';
import type { Gate } from '../core/gate/gate.js';
import { assertNewDeviceNameFree } from '../core/gate/devices.js';
import type { StepUpConditions, StepUpPrechecks } from './router.js';

export function createStepUpConditions(backup: Pick<BackupService, 'updateNeedsConfirmation' | 'repositories'>): StepUpConditions {
  const remote = (id: string) => (backup.repositories().find((r) => r.id === id)?.kind ?? 'folder') !== 'folder';
  const appendOnly = (id: string) => backup.repositories().find((r) => r.id === id)?.appendOnly === true;
  return {
    // Where every backup goes, and with which credentials and host key: adding or changing a remote repository.
    'backup.repositories.init': ({ location }) => location !== undefined && location.kind !== 'folder',
    'backup.repositories.connect': ({ location }) => location !== undefined && location.kind !== 'folder',
    // No such repository: the edit itself says NOT_FOUND (and the service asks for `confirmed` of a remote one again).
    'backup.repositories.edit': ({ repositoryId }) => remote(repositoryId),
    // Deleting with maintenance credentials is what an append-only repository otherwise refuses.
    'backup.prune.start': ({ repositoryId }) => appendOnly(repositoryId),
    // A run given maintenance credentials forgets and prunes with them, as the two calls above do.
    'backup.sets.run': ({ maintenance }) => maintenance !== undefined,
    // A set with retention deletes snapshots as new ones arrive: what, where and when it backs up is theirs to keep.
    'backup.sets.update': ({ setId, ...patch }) => backup.updateNeedsConfirmation(setId, patch),
    'backup.restore.start': ({ onExisting }) => onExisting === 'overwrite',
  };
}

/**
 * What a step-up method refuses anyway, checked before a proof is asked for or granted: a person
 * must not spend a one-time code (or a push) on a call that then fails for another reason.
 */
export function createStepUpPrechecks(gate: Pick<Gate, 'factorList'>, backup: Pick<BackupService, 'repos' | 'sets'>): StepUpPrechecks {
  // An append-only repository refuses deletes without maintenance credentials that open it: said before any proof is spent.
  // No such repository: nothing to say here; the call says NOT_FOUND once its proof is checked.
  const canDelete = async (id: string, maintenance: MaintenanceCredentials | undefined, what: string) => {
    if (backup.repos.list().some((r) => r.id === id)) await backup.repos.assertCanDelete(id, maintenance, what);
  };
  return {
    'backup.snapshots.forget': ({ repositoryId, maintenance }) => canDelete(repositoryId, maintenance, 'delete snapshots'),
    'backup.repositories.changePassword': ({ repositoryId }) => {
      const row = backup.repos.list().find((r) => r.id === repositoryId);
      if (row) backup.repos.assertPasswordChangeable(row);
    },
    'backup.prune.start': ({ repositoryId, maintenance }) => canDelete(repositoryId, maintenance, 'free space'),
    'backup.repair.start': ({ repositoryId, maintenance }) => canDelete(repositoryId, maintenance, 'repair it'),
    // Only a run given maintenance credentials deletes; without them its retention waits (the run's note says so).
    'backup.sets.run': ({ setId, maintenance }) => {
      const set = maintenance && backup.sets.sets().find((s) => s.id === setId);
      return set ? canDelete(set.repositoryId, maintenance, 'apply its retention') : undefined;
    },
    'backup.repositories.remove': ({ repositoryId, deleteFiles, maintenance }) =>
      deleteFiles || maintenance ? canDelete(repositoryId, maintenance, 'delete its files') : undefined,
    'devices.beginTotp': ({ name }) => {
      const list = gate.factorList();
      if (list) assertNewDeviceNameFree(list, name);
    },
  };
}
