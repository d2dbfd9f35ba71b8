/**
 * Backup sets: what to back up, where to, when, and how long to keep it. Run one now and follow
 * its progress; create, edit (retention changes are a step-up: they delete snapshots) and delete.
 */
import { useCallback, useEffect, useState } from 'react';
import type { BackupSetView } from '../../../src-shared/contract-backup.js';
import { call } from '../../api.js';
import { ErrorText } from '../../components/Field.js';
import { StepUpDialog } from '../../components/StepUpDialog.js';
import { JobPanel } from '../../components/backup/JobPanel.js';
import { useRepositories } from '../../hooks/useRepositories.js';
import { SetForm } from './SetForm.js';
import { SetsTable } from './SetsTable.js';
import { RunWithRetention, retentionWaits } from './RunWithRetention.js';

export function BackupSetsScreen({ onOpenRepositories }: { onOpenRepositories: () => void }) {
  const { repositories, error: repoError } = useRepositories();
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [editing, setEditing] = useState<BackupSetView | 'new' | null>(null);
  const [deleting, setDeleting] = useState<BackupSetView | null>(null);
  const [retaining, setRetaining] = useState<BackupSetView | null>(null);
  const { sets, jobs, setJobs, reload } = useSetsAndJobs(setError);

  const started = (set: BackupSetView, jobId: string) => {
    setError(null);
    setMessage(null);
    setJobs((js) => [{ jobId, setName: set.name }, ...js]);
    void reload();
  };

  const run = async (set: BackupSetView) => {
    const r = await call('backup.sets.run', { setId: set.id });
    if (!r.ok) return setError(r.error.message);
    started(set, r.value.jobId);
  };

  const remove = async (set: BackupSetView, proof: string) => {
    setDeleting(null);
    const r = await call('backup.sets.delete', { setId: set.id }, proof);
    setError(r.ok ? null : r.error.message);
    setMessage(r.ok ? `Deleted the backup set “${set.name}”. Its snapshots stay in the repository.` : null);
    void reload();
  };

  const repoOf = (set: BackupSetView) => repositories?.find((r) => r.id === set.repositoryId);
  const repoName = (id: string) => repositories?.find((r) => r.id === id)?.name ?? 'unknown repository';
  const retainingRepo = retaining && repoOf(retaining);

  return (
    <div className="stack wide">
      <div className="title-row">
        <h1>Backup sets</h1>
        {editing === null && repositories && repositories.length > 0 && (
          <button type="button" className="primary" onClick={() => (setEditing('new'), setMessage(null))}>
            New backup set
          </button>
        )}
      </div>
      <ErrorText message={error ?? repoError} />
      {message && <p role="status">{message}</p>}
      {repositories && repositories.length === 0 && <NeedsRepository onOpenRepositories={onOpenRepositories} />}
      {jobs.map((j) => (
        <JobPanel
          key={j.jobId}
          jobId={j.jobId}
          title={`Backing up “${j.setName}”`}
          onEnd={() => void reload()}
          onClose={() => setJobs((js) => js.filter((x) => x.jobId !== j.jobId))}
        />
      ))}
      {editing !== null && repositories && (
        <SetForm
          set={editing === 'new' ? null : editing}
          repositories={repositories}
          onDone={(msg) => {
            setEditing(null);
            setMessage(msg);
            void reload();
          }}
        />
      )}
      {sets && sets.length === 0 && editing === null && repositories && repositories.length > 0 && (
        <p className="muted">No backup sets yet. Choose “New backup set” to pick the folders to back up.</p>
      )}
      {sets && sets.length > 0 && (
        <div className="card">
          <SetsTable
            sets={sets}
            repoName={repoName}
            onRun={(set) => void run(set)}
            retentionWaits={(set) => retentionWaits(set, repoOf(set))}
            onRunWithRetention={(set) => (setRetaining(set), setMessage(null))}
            onEdit={(set) => (setEditing(set), setMessage(null))}
            onDelete={setDeleting}
          />
        </div>
      )}
      {retaining && retainingRepo && (
        <RunWithRetention
          set={retaining}
          repo={retainingRepo}
          onStarted={(jobId) => started(retaining, jobId)}
          onError={setError}
          onClose={() => setRetaining(null)}
        />
      )}
      {deleting && (
        <StepUpDialog
          method="backup.sets.delete"
          input={{ setId: deleting.id }}
          onProof={(proof) => void remove(deleting, proof)}
          onCancel={() => setDeleting(null)}
        />
      )}
    </div>
  );
}

function NeedsRepository({ onOpenRepositories }: { onOpenRepositories: () => void }) {
  return (
    <div className="notice banner">
      <p>
        Backups are stored in a repository. Create or connect one first.{' '}
        <button type="button" className="link" onClick={onOpenRepositories}>
          Go to Repositories
        </button>
      </p>
    </div>
  );
}

/** The sets, reloaded on demand, and the backups this screen follows (those already running when it opened, then those it starts). */
function useSetsAndJobs(setError: (message: string | null) => void) {
  const [sets, setSets] = useState<BackupSetView[] | null>(null);
  const [jobs, setJobs] = useState<{ jobId: string; setName: string }[]>([]);
  const reload = useCallback(async () => {
    const r = await call('backup.sets.list', {});
    if (r.ok) setSets(r.value.sets);
    setError(r.ok ? null : r.error.message);
    return r.ok ? r.value.sets : [];
  }, [setError]);

  // Follow backups already running (started by the schedule, or before the screen was opened).
  useEffect(() => {
    void (async () => {
      const loaded = await reload();
      if (!loaded.some((s) => s.running)) return;
      const r = await call('backup.jobs.list', {});
      if (!r.ok) return;
      const running = r.value.jobs.filter((j) => j.kind === 'backup' && j.state === 'running' && j.setId);
      setJobs(running.map((j) => ({ jobId: j.id, setName: loaded.find((s) => s.id === j.setId)?.name ?? 'a backup set' })));
    })();
  }, [reload]);
  return { sets, jobs, setJobs, reload };
}
