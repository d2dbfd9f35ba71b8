/** The health of each backup set and each repository, as the home screen shows them. */
import type { BackupSetView } from '../../../src-shared/contract-backup.js';
import { Table, type Column } from '../../components/Table.js';
import { dateTime, formatBytes, formatCount } from '../../lib/format.js';
import { RUN_STATE_LABEL, type RunState } from '../../lib/run-labels.js';
import type { RepositoryStatus } from '../../../src-shared/contract-repositories.js';
import { lastChecks, type HomeState, type RepositoryItem, type RepositoryStatuses } from './health.js';

const BADGE: Record<RunState, string> = { running: 'running', succeeded: 'ok', incomplete: 'warn', failed: 'bad', cancelled: 'warn', interrupted: 'bad' };

function LastRun({ set }: { set: BackupSetView }) {
  if (set.running) return <span className="badge running">Running</span>;
  if (!set.lastRun) return <span className="muted">Never run</span>;
  const r = { label: RUN_STATE_LABEL[set.lastRun.state], badge: BADGE[set.lastRun.state] };
  return (
    <>
      <span className={`badge ${r.badge}`}>{r.label}</span> <span className="small">{dateTime(set.lastRun.finishedAt ?? set.lastRun.startedAt)}</span>
    </>
  );
}

export function SetHealth({ sets }: { sets: BackupSetView[] }) {
  const columns: Column<BackupSetView>[] = [
    { header: 'Backup set', cell: (s) => <strong>{s.name}</strong> },
    { header: 'Last run', cell: (s) => <LastRun set={s} />, testId: 'home-set-last-run' },
    { header: 'Next run', cell: (s) => (s.nextRunAt === null ? <span className="muted">Manual only</span> : dateTime(s.nextRunAt)) },
    { header: 'Size', cell: (s) => formatBytes(s.lastRun?.bytes), testId: 'home-set-size' },
    { header: 'Files skipped', cell: (s) => formatCount(s.lastRun?.errors), testId: 'home-set-skipped' },
  ];
  return <Table rows={sets} columns={columns} rowKey={(s) => s.id} testId="home-sets" caption="Health of each backup set" />;
}

/** Whether the repository answers now (opened with its key) and the space left where it lives. */
function Reachability({ status }: { status: RepositoryStatus | undefined }) {
  if (!status) return <span className="muted">Checking…</span>;
  if (!status.reachable) {
    return (
      <>
        <span className="badge bad">Unreachable</span> <span className="small">{status.message}</span>
      </>
    );
  }
  return (
    <>
      <span className="badge ok">Reachable</span>
      {status.freeBytes !== null && <span className="small"> {formatBytes(status.freeBytes)} free</span>}
    </>
  );
}

export function RepositoryHealth({ state, statuses }: { state: HomeState; statuses: RepositoryStatuses | null }) {
  const checks = lastChecks(state.jobs);
  const LastCheck = ({ repo }: { repo: RepositoryItem }) => {
    const job = checks.get(repo.id);
    if (!job) return <span className="muted">Not checked since the app started</span>;
    if (job.state === 'cancelled') return <span className="badge warn">Cancelled</span>;
    if (job.state === 'failed') return <span className="badge bad">Could not finish</span>;
    const ok = job.result?.ok ?? false;
    return (
      <>
        <span className={`badge ${ok ? 'ok' : 'bad'}`}>{ok ? 'No problems' : 'Problems found'}</span> <span className="small">{dateTime(job.finishedAt)}</span>
      </>
    );
  };
  const columns: Column<RepositoryItem>[] = [
    { header: 'Repository', cell: (r) => <strong>{r.name}</strong> },
    { header: 'Where', cell: (r) => <code className="wrap-anywhere">{r.path}</code> },
    { header: 'State', cell: (r) => <Reachability status={statuses?.get(r.id)} />, testId: 'home-repo-state' },
    { header: 'Backup sets', cell: (r) => formatCount(state.sets.filter((s) => s.repositoryId === r.id).length) },
    { header: 'Last check', cell: (r) => <LastCheck repo={r} />, testId: 'home-repo-check' },
  ];
  return <Table rows={state.repositories} columns={columns} rowKey={(r) => r.id} testId="home-repositories" caption="State of each repository" />;
}
