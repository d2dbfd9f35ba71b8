/** What a finished job did, in words: the backup, restore or freeing-space summary; check and repair have their own reports. */
import type { JobViewDto } from '../../../src-shared/contract-backup.js';
import { formatBytes, formatCount, formatDuration, isAre, plural, shortId, wasWere } from '../../lib/format.js';
import { CheckReport } from './CheckReport.js';
import { RepairOutcome } from './RepairOutcome.js';

type Result<K extends JobViewDto['kind']> = NonNullable<Extract<JobViewDto, { kind: K }>['result']>;

export const KIND_LABEL: Record<JobViewDto['kind'], string> = {
  backup: 'Backup',
  restore: 'Restore',
  check: 'Check',
  prune: 'Freeing space',
  repair: 'Repair',
};

export function JobOutcome({ job, destination }: { job: JobViewDto; destination?: string | null | undefined }) {
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
    case 'backup':
      return job.result && <BackupOutcome result={job.result} took={took} />;
    case 'restore':
      return job.result && <RestoreOutcome result={job.result} took={took} destination={destination} />;
    case 'check':
      return job.result && <CheckReport report={job.result} took={took} />;
    case 'prune':
      return job.result && <PruneOutcome result={job.result} took={took} />;
    case 'repair':
      return job.result && <RepairOutcome report={job.result} took={took} />;
  }
}

function BackupOutcome({ result: r, took }: { result: Result<'backup'>; took: string }) {
  const s = r.summary;
  return (
    <div data-testid="job-outcome" role="status">
      <p className={s.errors.length > 0 ? 'notice' : 'ok-text'}>
        {s.errors.length > 0 ? 'Backup incomplete' : 'Backup finished'} in {took}: snapshot <code>{shortId(r.snapshotId)}</code>.
        {s.errors.length > 0 && ` ${plural(s.errors.length, 'item')} could not be kept in full (listed below).`}
      </p>
      <dl className="facts" data-testid="backup-summary">
        <Fact term="Files" value={`${formatCount(s.files)} (${plural(s.dirs, 'folder')})`} />
        <Fact term="New files" value={formatCount(s.filesNew)} />
        <Fact term="Changed files" value={formatCount(s.filesChanged)} />
        <Fact term="Unmodified files" value={formatCount(s.filesUnmodified)} />
        <Fact term="Total size" value={formatBytes(s.bytes)} />
        <Fact term="Data added" value={formatBytes(s.dataAdded)} />
      </dl>
      {(r.forgotten > 0 || r.prune) && (
        <p className="small muted">
          Retention removed {plural(r.forgotten, 'older snapshot')}
          {r.prune ? ` and freed ${formatBytes(r.prune.bytesFreed)}` : ''}.
        </p>
      )}
      {r.retentionNote && <p className="small muted">{r.retentionNote}</p>}
      {r.damage.length > 0 && (
        <div className="notice" data-testid="backup-damage">
          <p>The repository has damage this backup worked around (its snapshot does not depend on it). Run a check on “Check &amp; repair”, then repair.</p>
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

function RestoreOutcome({ result: r, took, destination }: { result: Result<'restore'>; took: string; destination: string | null | undefined }) {
  return (
    <div data-testid="job-outcome" role="status">
      <p className={r.errors.length > 0 ? 'notice' : 'ok-text'}>
        {r.errors.length > 0 ? 'Restore incomplete: restored' : 'Restored'} {plural(r.files, 'file')} ({formatBytes(r.bytes)})
        {r.symlinks > 0 && `, ${plural(r.symlinks, 'symlink')}`}
        {r.special > 0 && `, ${plural(r.special, 'pipe, socket or device', 'pipes, sockets or devices')}`}
        {r.dirs > 0 && ` and ${plural(r.dirs, 'folder')}`} in {took}.{r.skipped > 0 && ` ${plural(r.skipped, 'existing item')} ${wasWere(r.skipped)} skipped.`}
        {r.errors.length > 0 && ` ${plural(r.errors.length, 'item')} could not be restored in full (listed below).`}
      </p>
      {destination !== undefined && (
        <p data-testid="restore-destination">
          {destination === null ? (
            'The files are back in their original places.'
          ) : (
            <>
              The files are in <code>{destination}</code>.
            </>
          )}
        </p>
      )}
      <PathErrors errors={r.errors} />
    </div>
  );
}

function PruneOutcome({ result: r, took }: { result: Result<'prune'>; took: string }) {
  const left = r.packsLeft.length;
  return (
    <div data-testid="job-outcome" role="status">
      <p className="ok-text">
        Freed {formatBytes(Math.max(0, r.bytesFreed))} in {took}: {plural(r.packsRemoved, 'pack')} removed, {formatCount(r.packsRewritten)} rewritten,{' '}
        {plural(r.blobsRemoved, 'unused object')} dropped.
      </p>
      {left > 0 && (
        <p className="small">
          {plural(left, 'damaged or missing pack')} {wasWere(left)} left as {left === 1 ? 'it was' : 'they were'}: repair deals with{' '}
          {left === 1 ? 'it' : 'them'}.
        </p>
      )}
      {r.blobsMissing > 0 && (
        <p className="small">
          {plural(r.blobsMissing, 'object')} of data some snapshot needs {isAre(r.blobsMissing)} lost already: run a check.
        </p>
      )}
    </div>
  );
}

function Fact({ term, value }: { term: string; value: string }) {
  return (
    <div>
      <dt>{term}</dt>
      <dd>{value}</dd>
    </div>
  );
}

export function PathErrors({ errors, title = 'Not kept in full' }: { errors: { path: string; message: string }[]; title?: string }) {
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
