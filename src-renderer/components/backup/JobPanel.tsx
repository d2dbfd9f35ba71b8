/**
 * A long job on screen: a progress bar with bytes, files, rate, ETA and the current file, a
 * Cancel button while it runs, and its result once it ends (backup summary, restore summary,
 * check report, prune result or repair report).
 */
import { useId, useState } from 'react';
import type { JobViewDto } from '../../../src-shared/contract-backup.js';
import { ErrorText } from '../Field.js';
import { formatBytes, formatCount, formatDuration, formatRate, formatSeconds, plural, shortId } from '../../lib/format.js';
import { RepairOutcome } from './RepairOutcome.js';
import { useJob } from '../../hooks/useJob.js';

const KIND_LABEL: Record<JobViewDto['kind'], string> = {
  backup: 'Backup',
  restore: 'Restore',
  check: 'Check',
  prune: 'Freeing space',
  repair: 'Repair',
};

export function JobPanel({
  jobId,
  title,
  onEnd,
  onClose,
}: {
  jobId: string;
  title: string;
  onEnd?: (job: JobViewDto) => void;
  onClose?: () => void;
}) {
  const { job, error, cancel } = useJob(jobId, onEnd);
  const titleId = useId();
  return (
    <section className="card job" aria-labelledby={titleId} data-testid="job-panel">
      <h2 id={titleId}>{title}</h2>
      <ErrorText message={error} />
      {!job && !error && <p className="muted">Starting…</p>}
      {job && job.state === 'running' && <JobProgress job={job} onCancel={() => void cancel()} />}
      {job && job.state !== 'running' && <JobOutcome job={job} />}
      {job && job.state !== 'running' && onClose && (
        <div className="actions">
          <button type="button" onClick={onClose}>
            Close
          </button>
        </div>
      )}
    </section>
  );
}

function JobProgress({ job, onCancel }: { job: JobViewDto; onCancel: () => void }) {
  const [cancelling, setCancelling] = useState(false);
  const p = job.progress;
  const barId = useId();
  const fraction = p.bytesTotal ? Math.min(1, p.bytesDone / p.bytesTotal) : null;
  const percent = fraction === null ? null : Math.floor(fraction * 100);
  return (
    <div data-testid="job-progress">
      <label htmlFor={barId} className="job-bar-label">
        {KIND_LABEL[job.kind]} in progress{percent === null ? '' : `: ${percent}%`}
      </label>
      {fraction === null ? (
        <progress id={barId} className="job-bar" />
      ) : (
        <progress id={barId} className="job-bar" max={1000} value={Math.round(fraction * 1000)} />
      )}
      <dl className="facts" aria-live="off">
        <div>
          <dt>Data</dt>
          <dd data-testid="job-bytes">
            {formatBytes(p.bytesDone)}
            {p.bytesTotal !== null && ` of ${formatBytes(p.bytesTotal)}`}
          </dd>
        </div>
        <div>
          <dt>Files</dt>
          <dd data-testid="job-files">
            {formatCount(p.filesDone)}
            {p.filesTotal !== null && ` of ${formatCount(p.filesTotal)}`}
          </dd>
        </div>
        <div>
          <dt>Rate</dt>
          <dd>{formatRate(p.bytesPerSecond)}</dd>
        </div>
        <div>
          <dt>Time left</dt>
          <dd>{p.etaSeconds === null ? 'estimating…' : formatSeconds(p.etaSeconds)}</dd>
        </div>
      </dl>
      <p className="small muted current-file">
        <span>Current file: </span>
        <code>{p.currentFile ?? '—'}</code>
      </p>
      <div className="actions">
        <button type="button" className="danger" disabled={cancelling} onClick={() => (setCancelling(true), onCancel())}>
          {cancelling ? 'Cancelling…' : 'Cancel'}
        </button>
      </div>
    </div>
  );
}

function JobOutcome({ job }: { job: JobViewDto }) {
  if (job.state === 'cancelled') {
    return (
      <p className="notice" role="status" data-testid="job-outcome">
        {KIND_LABEL[job.kind]} cancelled. {job.kind === 'backup' ? 'No snapshot was saved; the next run picks up the work already stored.' : ''}
      </p>
    );
  }
  if (job.state === 'failed') {
    return (
      <p className="error" role="alert" data-testid="job-outcome">
        {KIND_LABEL[job.kind]} failed: {job.error?.message ?? 'unknown error'}
      </p>
    );
  }
  const took = job.finishedAt !== null ? formatDuration(job.finishedAt - job.startedAt) : '—';
  switch (job.kind) {
    case 'backup': {
      const r = job.result;
      if (!r) return null;
      const s = r.summary;
      return (
        <div data-testid="job-outcome" role="status">
          <p className={s.errors.length > 0 ? 'notice' : 'ok-text'}>
            {s.errors.length > 0 ? 'Backup incomplete' : 'Backup finished'} in {took}: snapshot <code>{shortId(r.snapshotId)}</code>.
            {s.errors.length > 0 && ` ${plural(s.errors.length, 'item')} could not be kept in full (listed below).`}
          </p>
          <dl className="facts" data-testid="backup-summary">
            <Fact term="Files" value={`${formatCount(s.files)} (${formatCount(s.dirs)} folders)`} />
            <Fact term="New files" value={formatCount(s.filesNew)} />
            <Fact term="Changed files" value={formatCount(s.filesChanged)} />
            <Fact term="Unmodified files" value={formatCount(s.filesUnmodified)} />
            <Fact term="Total size" value={formatBytes(s.bytes)} />
            <Fact term="Data added" value={formatBytes(s.dataAdded)} />
          </dl>
          {(r.forgotten > 0 || r.prune) && (
            <p className="small muted">
              Retention removed {r.forgotten} older snapshot(s){r.prune ? ` and freed ${formatBytes(r.prune.bytesFreed)}` : ''}.
            </p>
          )}
          {r.retentionNote && <p className="small muted">{r.retentionNote}</p>}
          {r.damage.length > 0 && (
            <div className="notice" data-testid="backup-damage">
              <p>
                The repository has damage this backup worked around (its snapshot does not depend on it). Run a check on
                “Check &amp; repair”, then repair.
              </p>
              <ul>
                {r.damage.map((d) => (
                  <li key={`${d.kind}:${d.id}`}>{d.message}</li>
                ))}
              </ul>
            </div>
          )}
          <PathErrors errors={s.errors} />
          <PathErrors errors={s.warnings} title="Backed up with a warning" />
        </div>
      );
    }
    case 'restore': {
      const r = job.result;
      if (!r) return null;
      return (
        <div data-testid="job-outcome" role="status">
          <p className={r.errors.length > 0 ? 'notice' : 'ok-text'}>
            {r.errors.length > 0 ? 'Restore incomplete: restored' : 'Restored'} {plural(r.files, 'file')} ({formatBytes(r.bytes)})
            {r.symlinks > 0 && `, ${plural(r.symlinks, 'symlink')}`}
            {r.special > 0 && `, ${plural(r.special, 'pipe, socket or device', 'pipes, sockets or devices')}`}
            {r.dirs > 0 && ` and ${plural(r.dirs, 'folder')}`} in {took}.
            {r.skipped > 0 && ` ${plural(r.skipped, 'existing item')} ${r.skipped === 1 ? 'was' : 'were'} skipped.`}
            {r.errors.length > 0 && ` ${plural(r.errors.length, 'item')} could not be restored in full (listed below).`}
          </p>
          <PathErrors errors={r.errors} />
        </div>
      );
    }
    case 'check': {
      const r = job.result;
      if (!r) return null;
      return <CheckReport report={r} took={took} />;
    }
    case 'prune': {
      const r = job.result;
      if (!r) return null;
      return (
        <div data-testid="job-outcome" role="status">
          <p className="ok-text">
            Freed {formatBytes(Math.max(0, r.bytesFreed))} in {took}: {r.packsRemoved} pack(s) removed, {r.packsRewritten} rewritten,{' '}
            {r.blobsRemoved} unused blob(s) dropped.
          </p>
          {r.packsLeft.length > 0 && (
            <p className="small">
              {plural(r.packsLeft.length, 'damaged or missing pack')} {r.packsLeft.length === 1 ? 'was' : 'were'} left as{' '}
              {r.packsLeft.length === 1 ? 'it was' : 'they were'}: repair deals with {r.packsLeft.length === 1 ? 'it' : 'them'}.
            </p>
          )}
          {r.blobsMissing > 0 && <p className="small">{plural(r.blobsMissing, 'blob')} of data some snapshot needs {r.blobsMissing === 1 ? 'is' : 'are'} lost already: run a check.</p>}
        </div>
      );
    }
    case 'repair': {
      const r = job.result;
      if (!r) return null;
      return <RepairOutcome report={r} took={took} />;
    }
  }
}

function Fact({ term, value }: { term: string; value: string }) {
  return (
    <div>
      <dt>{term}</dt>
      <dd>{value}</dd>
    </div>
  );
}

function PathErrors({ errors, title = 'Not kept in full' }: { errors: { path: string; message: string }[]; title?: string }) {
  if (errors.length === 0) return null;
  return (
    <div className="path-errors">
      <h3>{title}</h3>
      <ul>
        {errors.map((e) => (
          <li key={e.path}>
            <code>{e.path}</code>: {e.message}
          </li>
        ))}
      </ul>
    </div>
  );
}

type CheckReportDto = NonNullable<Extract<JobViewDto, { kind: 'check' }>['result']>;

function CheckReport({ report, took }: { report: CheckReportDto; took: string }) {
  return (
    <div data-testid="job-outcome" role="status">
      <p className={report.ok ? 'ok-text' : 'error'} data-testid="check-verdict">
        {report.ok
          ? `No problems found (${took}): ${report.snapshots} snapshot(s), ${report.packs} pack(s), ${report.blobs} blob(s)${report.packsRead > 0 ? `, ${report.packsRead} pack(s) read in full` : ''}.`
          : `The check found ${plural(report.problems.length, 'problem')} (${took}).`}
      </p>
      {report.damagedSnapshots.length > 0 && (
        <div className="path-errors">
          <h3>Damaged snapshots</h3>
          <ul>
            {report.damagedSnapshots.map((s) => (
              <li key={s.id}>
                <code>{shortId(s.id)}</code> of {new Date(s.time).toLocaleString()}
                {s.files.length > 0 && (
                  <>
                    {' '}
                    — damaged files:
                    <ul>
                      {s.files.map((f) => (
                        <li key={f}>
                          <code>{f}</code>
                        </li>
                      ))}
                    </ul>
                  </>
                )}
              </li>
            ))}
          </ul>
        </div>
      )}
      {report.damagedPacks.length > 0 && (
        <p className="small">
          Damaged packs: {report.damagedPacks.map((p) => shortId(p)).join(', ')}
        </p>
      )}
      {report.unindexedPacks.length > 0 && (
        <p className="small muted">
          {plural(report.unindexedPacks.length, 'pack')} {report.unindexedPacks.length === 1 ? 'is' : 'are'} not in a readable index (left by an
          interrupted backup, or listed by a damaged index file): the next backup or a rebuilt index lists{' '}
          {report.unindexedPacks.length === 1 ? 'it' : 'them'} again.
        </p>
      )}
      {report.problems.length > 0 && (
        <div className="path-errors">
          <h3>Problems</h3>
          <ul>
            {report.problems.map((p, i) => (
              <li key={i}>
                <strong>{p.kind}</strong>
                {p.id ? ` ${shortId(p.id)}` : ''}: {p.message}
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}
