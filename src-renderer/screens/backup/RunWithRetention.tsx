/**
 * "Run with retention" for a set on an append-only repository: its scheduled runs skip the
 * retention (their credentials cannot delete), so a person runs it with maintenance credentials,
 * asked for first, then confirmed with a step-up as a forget or a prune of that repository is.
 */
import { useState } from 'react';
import { hasRetention, type BackupSetView } from '../../../src-shared/contract-backup.js';
import type { MaintenanceCredentials } from '../../../src-shared/repository-location.js';
import { call } from '../../api.js';
import { StepUpDialog } from '../../components/StepUpDialog.js';
import { MaintenanceDialog, useMaintenance } from '../../components/backup/MaintenanceFields.js';
import type { RepositoryView } from '../../hooks/useRepositories.js';

export function RunWithRetention(props: {
  set: BackupSetView;
  repo: RepositoryView;
  onStarted: (jobId: string) => void;
  onError: (message: string) => void;
  onClose: () => void;
}) {
  const { set, repo } = props;
  const maintenance = useMaintenance(repo);
  const [given, setGiven] = useState<MaintenanceCredentials | null>(null);
  const close = () => (setGiven(null), maintenance.clear(), props.onClose());

  const run = async (credentials: MaintenanceCredentials, proof: string) => {
    close();
    const r = await call('backup.sets.run', { setId: set.id, maintenance: credentials }, proof);
    if (r.ok) props.onStarted(r.value.jobId);
    else props.onError(r.error.message);
  };

  if (!given)
    return <MaintenanceDialog repo={repo} what={`Run “${set.name}” with retention`} maintenance={maintenance} onContinue={setGiven} onCancel={close} />;
  return <StepUpDialog method="backup.sets.run" input={{ setId: set.id, maintenance: given }} onProof={(proof) => void run(given, proof)} onCancel={close} />;
}

/** Whether a set's retention waits for maintenance credentials: it has one, on an append-only repository. */
export function retentionWaits(set: BackupSetView, repo: RepositoryView | undefined): boolean {
  return repo?.appendOnly === true && hasRetention(set.retention);
}
