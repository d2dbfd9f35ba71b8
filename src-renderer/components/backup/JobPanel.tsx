/**
 * A long job on screen: a progress bar with bytes, files (or packs, for a check), rate, ETA,
 * for a backup the data uploaded and its recent rate, what the job waits on (the storage
 * retrying, the bandwidth limit), the current file, a Cancel button while it runs, and its result once it ends (backup summary,
 * restore summary, check report, prune result or repair report). The title says where the job
 * is: "Backing up “Documents”" while it runs, "Backup finished" once it is done.
 */
import { useId, useState } from 'react';
import type { JobViewDto } from '../../../src-shared/contract-backup.js';
import { ErrorText } from '../Field.js';
import { useJob } from '../../hooks/useJob.js';
import { formatBytes, formatCount, formatRate, formatSeconds } from '../../lib/format.js';
import { JobOutcome, KIND_LABEL } from './JobOutcome.js';

const ENDED_TITLE: Record<JobViewDto['kind'], Record<Exclude<JobViewDto['state'], 'running'>, string>> = {
  backup: { succeeded: 'Backup finished', failed: 'Backup failed', cancelled: 'Backup cancelled' },
  restore: { succeeded: 'Restore finished', failed: 'Restore failed', cancelled: 'Restore cancelled' },
  check: { succeeded: 'Check finished', failed: 'Check failed', cancelled: 'Check cancelled' },
  prune: { succeeded: 'Space freed', failed: 'Freeing space failed', cancelled: 'Freeing space cancelled' },
  repair: { succeeded: 'Repair finished', failed: 'Repair failed', cancelled: 'Repair cancelled' },
};

export function JobPanel({
  jobId,
  title,
  destination,
  onEnd,
  onClose,
}: {
  jobId: string;
  /** The title while the job runs ("Backing up “Documents”"). */
  title: string;
  /** For a restore: the folder the files go to, or null for their original places. */
  destination?: string | null;
  onEnd?: (job: JobViewDto) => void;
  onClose?: () => void;
}) {
  const { job, error, cancel } = useJob(jobId, onEnd);
  const titleId = useId();
  const ended = job !== null && job.state !== 'running';
  const endedTitle = job && job.state !== 'running' ? ENDED_TITLE[job.kind][job.state] : null;
  return (
    <section className={job && ended ? `card job ended ${job.state}` : 'card job'} aria-labelledby={titleId} data-testid="job-panel">
      <h2 id={titleId} data-testid="job-title">
        {endedTitle ?? `${title}…`}
      </h2>
      {ended && <p className="small muted job-subtitle">{title}</p>}
      <ErrorText message={error} />
      {!job && !error && <p className="muted">Starting…</p>}
      {job && job.state === 'running' && <JobProgress job={job} onCancel={() => void cancel()} />}
      {job && ended && <JobOutcome job={job} destination={destination} />}
      {ended && onClose && (
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
  // A check reads packs, not files, and the pack it reads is a hash nobody needs to see.
  const byFile = job.kind === 'backup' || job.kind === 'restore';
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
          <dt>{byFile ? 'Files' : job.kind === 'check' ? 'Packs read' : 'Packs'}</dt>
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
        {job.kind === 'backup' && (
          <div>
            <dt>Uploaded</dt>
            <dd data-testid="job-uploaded">
              {formatBytes(p.bytesUploaded)}
              {p.uploadBytesPerSecond > 0 && `, ${formatRate(p.uploadBytesPerSecond)} lately`}
            </dd>
          </div>
        )}
      </dl>
      {p.waitingOn && (
        <p role="status" className="small job-waiting" data-testid="job-waiting">
          {p.waitingOn.message}
        </p>
      )}
      {byFile && (
        <p className="small muted current-file">
          <span>Current file: </span>
          <code>{p.currentFile ?? '—'}</code>
        </p>
      )}
      <div className="actions">
        <button type="button" className="danger" disabled={cancelling} onClick={() => (setCancelling(true), onCancel())}>
          {cancelling ? 'Cancelling…' : 'Cancel'}
        </button>
      </div>
    </div>
  );
}
