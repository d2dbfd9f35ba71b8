/** The backup sets: what each backs up, where, when, how its last run went, with Run now (and with retention), Edit and Delete. */
import { retentionText, type BackupSetView } from '../../../src-shared/contract-backup.js';
import { Table, type Column } from '../../components/Table.js';
import { scheduleLabel } from '../../components/backup/schedule.js';
import { dateTime, formatBytes, plural } from '../../lib/format.js';
import { RUN_STATE_LABEL } from '../../lib/run-labels.js';

function LastRun({ set: s }: { set: BackupSetView }) {
  if (s.running) return <span className="badge running">Running</span>;
  if (!s.lastRun) return <span className="muted">Never</span>;
  return (
    <>
      <span className={`badge ${s.lastRun.state}`}>{RUN_STATE_LABEL[s.lastRun.state]}</span>
      <div className="small">{dateTime(s.lastRun.finishedAt ?? s.lastRun.startedAt)}</div>
      {s.lastRun.bytes !== null && (
        <div className="small muted">
          {formatBytes(s.lastRun.bytes)}, {formatBytes(s.lastRun.dataAdded)} added
        </div>
      )}
    </>
  );
}

export function SetsTable(props: {
  sets: BackupSetView[];
  repoName: (id: string) => string;
  onRun: (set: BackupSetView) => void;
  /** Given for sets whose retention waits for maintenance credentials (an append-only repository). */
  onRunWithRetention: (set: BackupSetView) => void;
  retentionWaits: (set: BackupSetView) => boolean;
  onEdit: (set: BackupSetView) => void;
  onDelete: (set: BackupSetView) => void;
}) {
  const columns: Column<BackupSetView>[] = [
    {
      header: 'Name',
      cell: (s) => (
        <>
          <strong>{s.name}</strong>
          <div className="small muted">Retention: {retentionText(s.retention)}</div>
        </>
      ),
    },
    {
      header: 'Folders',
      cell: (s) => (
        <>
          {s.sources.map((src) => (
            <div key={src}>
              <code>{src}</code>
            </div>
          ))}
          {s.excludes.length > 0 && <div className="small muted">{plural(s.excludes.length, 'exclude pattern')}</div>}
        </>
      ),
    },
    { header: 'Repository', cell: (s) => props.repoName(s.repositoryId) },
    { header: 'Schedule', cell: (s) => scheduleLabel(s.schedule) },
    { header: 'Last run', testId: 'set-last-run', cell: (s) => <LastRun set={s} /> },
    { header: 'Next run', cell: (s) => (s.nextRunAt === null ? <span className="muted">Manual</span> : dateTime(s.nextRunAt)) },
    {
      header: 'Actions',
      hideHeader: true,
      cell: (s) => (
        <div className="row-actions nowrap">
          <button type="button" className="primary" disabled={s.running} aria-label={`Run ${s.name} now`} onClick={() => props.onRun(s)}>
            Run now
          </button>
          {props.retentionWaits(s) && (
            <button type="button" disabled={s.running} aria-label={`Run ${s.name} with retention`} onClick={() => props.onRunWithRetention(s)}>
              Run with retention…
            </button>
          )}
          <button type="button" aria-label={`Edit ${s.name}`} onClick={() => props.onEdit(s)}>
            Edit
          </button>
          <button type="button" className="danger" aria-label={`Delete ${s.name}`} onClick={() => props.onDelete(s)}>
            Delete
          </button>
        </div>
      ),
    },
  ];
  return <Table rows={props.sets} columns={columns} rowKey={(s) => s.id} testId="sets-table" />;
}
