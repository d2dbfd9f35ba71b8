/**
 * Snapshots and restore: a repository's snapshots, a browser for one snapshot's tree, search
 * across snapshots, a diff of two, and restoring chosen files and folders (or everything) to
 * where they came from or into another folder. Forgetting a snapshot is a step-up.
 */
import { useCallback, useEffect, useState } from 'react';
import { call } from '../../api.js';
import { ErrorText } from '../../components/Field.js';
import { StepUpDialog } from '../../components/StepUpDialog.js';
import { MaintenanceDialog, useMaintenance } from '../../components/backup/MaintenanceFields.js';
import type { MaintenanceCredentials } from '../../../src-shared/repository-location.js';
import { dateTime, shortId } from '../../lib/format.js';
import { JobPanel } from '../../components/backup/JobPanel.js';
import { NoRepository } from '../../components/backup/NoRepository.js';
import { RepositoryPicker, useRememberedRepository } from '../../components/backup/RepositoryPicker.js';
import { CompareSnapshots } from './snapshots/CompareSnapshots.js';
import { FindFiles } from './snapshots/FindFiles.js';
import { SnapshotBrowser } from './snapshots/SnapshotBrowser.js';
import { SnapshotsTable } from './snapshots/SnapshotsTable.js';
import { DamagedSnapshots } from './snapshots/DamagedSnapshots.js';
import { parentOf, type Snapshot } from './snapshots/types.js';
import { useSnapshots } from './snapshots/useSnapshots.js';
import { useLoad } from '../../hooks/useMethod.js';
import { useRepositories } from '../../hooks/useRepositories.js';

/** A snapshot to open at once, as History's links ask. */
export interface SnapshotTarget {
  repositoryId: string;
  snapshotId: string;
}

export function SnapshotsScreen({ onOpenRepositories, target }: { onOpenRepositories: () => void; target?: SnapshotTarget | null }) {
  const { repositories, error: repoError } = useRepositories();
  const [repositoryId, setRepositoryId] = useState(target?.repositoryId ?? '');
  useRememberedRepository(repositories, repositoryId, setRepositoryId);
  const sets = useLoad('backup.sets.list', {}).data?.sets ?? [];
  const { snapshots, damaged, error, setError, load } = useSnapshots(repositoryId);
  const [message, setMessage] = useState<string | null>(null);
  const [open, setOpen] = useState<{ snapshot: Snapshot; path: string; select?: string } | null>(null);
  const [forgetting, setForgetting] = useState<Snapshot | null>(null);
  // An append-only repository deletes only with maintenance credentials, asked before the step-up.
  const repo = repositories?.find((r) => r.id === repositoryId);
  const maintenance = useMaintenance(repo);
  const [maintenanceGiven, setMaintenanceGiven] = useState<MaintenanceCredentials | null>(null);
  const [restoreJob, setRestoreJob] = useState<{ id: string; running: boolean; destination: string | null; from: string } | null>(null);

  useEffect(() => setOpen(null), [repositoryId]);
  // Opened from a link: browse that snapshot once the list holds it.
  const targetId = target?.snapshotId;
  useEffect(() => {
    const s = targetId ? snapshots?.find((x) => x.id === targetId) : undefined;
    if (s) setOpen((o) => o ?? { snapshot: s, path: '' });
  }, [snapshots, targetId]);

  const forget = async (s: Snapshot, proof: string) => {
    setForgetting(null);
    const given = maintenanceGiven;
    setMaintenanceGiven(null);
    maintenance.clear();
    const r = await call('backup.snapshots.forget', { repositoryId, snapshotIds: [s.id], ...(given ? { maintenance: given } : {}) }, proof);
    setError(r.ok ? null : r.error.message);
    setMessage(r.ok ? `Deleted the snapshot ${shortId(s.id)}. “Free space” under Check & repair releases the data only it used.` : null);
    if (open?.snapshot.id === s.id) setOpen(null);
    void load();
  };

  const browse = useCallback((s: Snapshot) => (setOpen({ snapshot: s, path: '' }), setMessage(null)), []);

  if (repositories && repositories.length === 0) return <NoRepository title="Snapshots & restore" onOpenRepositories={onOpenRepositories} />;

  return (
    <div className="stack wide">
      <h1>Snapshots &amp; restore</h1>
      <ErrorText message={repoError ?? error} />
      {message && <p role="status">{message}</p>}
      {repositories && repositoryId && (
        <div className="card picker-bar">
          <RepositoryPicker repositories={repositories} value={repositoryId} onChange={setRepositoryId} />
          <div className="actions">
            <button type="button" onClick={() => void load()}>
              Refresh
            </button>
          </div>
        </div>
      )}
      <DamagedSnapshots damaged={damaged} />
      {snapshots && snapshots.length === 0 && damaged.length === 0 && <p className="muted">This repository holds no snapshots yet. Run a backup set first.</p>}
      {snapshots && snapshots.length > 0 && (
        <section className="card" aria-labelledby="snapshots-title">
          <h2 id="snapshots-title">Snapshots ({snapshots.length})</h2>
          <SnapshotsTable snapshots={snapshots} sets={sets} openId={open?.snapshot.id ?? null} onBrowse={browse} onDelete={setForgetting} />
        </section>
      )}
      {open && (
        <SnapshotBrowser
          key={`${open.snapshot.id}:${open.select ?? ''}`}
          repositoryId={repositoryId}
          snapshot={open.snapshot}
          initialPath={open.path}
          initialSelection={open.select}
          busy={restoreJob?.running ?? false}
          onRestoreStarted={(id, destination) => setRestoreJob({ id, running: true, destination, from: open.snapshot.time })}
          onClose={() => setOpen(null)}
        />
      )}
      {restoreJob && (
        <JobPanel
          key={restoreJob.id}
          jobId={restoreJob.id}
          title={`Restoring from the snapshot of ${dateTime(restoreJob.from)}`}
          destination={restoreJob.destination}
          onEnd={() => setRestoreJob((j) => (j ? { ...j, running: false } : j))}
          onClose={() => setRestoreJob(null)}
        />
      )}
      {snapshots && snapshots.length > 0 && <SnapshotTools repositoryId={repositoryId} snapshots={snapshots} onOpen={setOpen} />}
      {forgetting && repo && maintenance.needed && !maintenanceGiven && (
        <MaintenanceDialog
          repo={repo}
          what={`Delete the snapshot ${shortId(forgetting.id)}`}
          maintenance={maintenance}
          onContinue={setMaintenanceGiven}
          onCancel={() => (setForgetting(null), maintenance.clear())}
        />
      )}
      {forgetting && (!maintenance.needed || maintenanceGiven) && (
        <StepUpDialog
          method="backup.snapshots.forget"
          input={{ repositoryId, snapshotIds: [forgetting.id], ...(maintenanceGiven ? { maintenance: maintenanceGiven } : {}) }}
          onProof={(proof) => void forget(forgetting, proof)}
          onCancel={() => (setForgetting(null), setMaintenanceGiven(null), maintenance.clear())}
        />
      )}
    </div>
  );
}

/** Finding files across snapshots (a hit opens its folder in the browser) and comparing two snapshots. */
function SnapshotTools({
  repositoryId,
  snapshots,
  onOpen,
}: {
  repositoryId: string;
  snapshots: Snapshot[];
  onOpen: (o: { snapshot: Snapshot; path: string; select?: string }) => void;
}) {
  return (
    <div className="two-col">
      <FindFiles
        repositoryId={repositoryId}
        onShow={(f) => {
          const s = snapshots.find((x) => x.id === f.snapshotId);
          if (s) onOpen({ snapshot: s, path: f.type === 'dir' ? f.path : parentOf(f.path), select: f.type === 'dir' ? undefined : f.path });
        }}
      />
      <CompareSnapshots repositoryId={repositoryId} snapshots={snapshots} />
    </div>
  );
}
