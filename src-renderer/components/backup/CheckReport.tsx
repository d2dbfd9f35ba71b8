/** The report of a finished check: the verdict in words, then damaged snapshots, packs and each problem. */
import type { JobViewDto } from '../../../src-shared/contract-backup.js';
import { isAre, plural, shortId } from '../../lib/format.js';

type CheckReportDto = NonNullable<Extract<JobViewDto, { kind: 'check' }>['result']>;

const PROBLEM_KIND: Record<CheckReportDto['problems'][number]['kind'], string> = {
  index: 'Index',
  pack: 'Pack',
  snapshot: 'Snapshot',
  tree: 'Folder listing',
  data: 'File data',
};

export function CheckReport({ report, took }: { report: CheckReportDto; took: string }) {
  return (
    <div data-testid="job-outcome" role="status">
      <p className={report.ok ? 'ok-text' : 'error'} data-testid="check-verdict">
        {report.ok
          ? `No problems found (${took}): ${plural(report.snapshots, 'snapshot')} and ${plural(report.packs, 'pack')}, ${plural(report.blobs, 'object')} checked${report.packsRead > 0 ? `, ${plural(report.packsRead, 'pack')} read in full` : ''}.`
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
      {report.damagedPacks.length > 0 && <p className="small">Damaged packs: {report.damagedPacks.map((p) => shortId(p)).join(', ')}</p>}
      {report.unindexedPacks.length > 0 && (
        <p className="small muted">
          {plural(report.unindexedPacks.length, 'pack')} {isAre(report.unindexedPacks.length)} not in a readable index (left by an interrupted backup, or listed
          by a damaged index file): the next backup or a rebuilt index lists {report.unindexedPacks.length === 1 ? 'it' : 'them'} again.
        </p>
      )}
      {report.problems.length > 0 && (
        <div className="path-errors">
          <h3>Problems</h3>
          <ul>
            {report.problems.map((p, i) => (
              <li key={i}>
                <strong>{PROBLEM_KIND[p.kind]}</strong>
                {p.id ? ` ${shortId(p.id)}` : ''}: {p.message}
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}
