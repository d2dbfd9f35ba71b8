/**
 * The report of a finished repair: for each damaged pack what was saved and what was lost, what
 * rebuilding the index replaced and dropped, and each snapshot rewritten (with the files and
 * folders it lost) or deleted.
 */
import type { JobViewDto } from '../../../src-shared/contract-backup.js';
import { dateTime, plural, shortId } from '../../lib/format.js';

type RepairReportDto = NonNullable<Extract<JobViewDto, { kind: 'repair' }>['result']>;

export function RepairOutcome({ report, took }: { report: RepairReportDto; took: string }) {
  const saved = report.packs.reduce((a, p) => a + p.blobsSaved, 0);
  const lostBlobs = report.packs.reduce((a, p) => a + p.blobsLost, 0) + (report.index?.blobsLost ?? 0);
  const lostItems = report.snapshots?.rewritten.reduce((a, s) => a + s.lostCount, 0) ?? 0;
  const nothingLost = lostBlobs === 0 && lostItems === 0 && (report.snapshots?.removed.length ?? 0) === 0;
  return (
    <div data-testid="job-outcome" role="status">
      <p className="ok-text" data-testid="repair-verdict">
        Repair finished in {took}.{' '}
        {nothingLost
          ? 'Nothing was lost.'
          : `Lost: ${plural(lostBlobs, 'object')} of data${lostItems > 0 ? `, ${plural(lostItems, 'file or folder', 'files and folders')} in snapshots` : ''}.`}
        {saved > 0 && ` Saved: ${plural(saved, 'object')} from damaged packs.`}
      </p>
      {report.packs.length > 0 && (
        <div className="path-errors" data-testid="repair-packs">
          <h3>Damaged packs</h3>
          <ul>
            {report.packs.map((p) => (
              <li key={p.id}>
                <code>{shortId(p.id)}</code> {packLine(p)}
              </li>
            ))}
          </ul>
        </div>
      )}
      {report.index && (
        <div className="path-errors" data-testid="repair-index">
          <h3>Index</h3>
          <p>
            Rebuilt from {plural(report.index.packsIndexed, 'pack')}, replacing {plural(report.index.indexFilesReplaced, 'index file')}
            {report.index.damagedIndexFiles.length > 0 && ` (${plural(report.index.damagedIndexFiles.length, 'damaged one')})`}.
            {report.index.packsDropped.length > 0 &&
              ` ${plural(report.index.packsDropped.length, 'pack')} no longer on disk ${report.index.packsDropped.length === 1 ? 'was' : 'were'} dropped: ${report.index.blobsLost > 0 ? `${plural(report.index.blobsLost, 'object')} only ${report.index.packsDropped.length === 1 ? 'it' : 'they'} held ${report.index.blobsLost === 1 ? 'is' : 'are'} lost` : 'everything in them is held by another pack'}.`}
          </p>
          {report.index.packsUnreadable.length > 0 && (
            <ul>
              {report.index.packsUnreadable.map((u) => (
                <li key={u.id}>
                  {u.message}{' '}
                  {u.kept
                    ? 'It stays listed by its old entries: remove it as a damaged pack to save what it holds.'
                    : 'No index listed what it holds: nothing in it can be located.'}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      {report.snapshots && (
        <div className="path-errors" data-testid="repair-snapshots">
          <h3>Snapshots</h3>
          <p>
            Checked {plural(report.snapshots.snapshotsChecked, 'snapshot')}:{' '}
            {report.snapshots.rewritten.length === 0 && report.snapshots.removed.length === 0
              ? 'none had lost anything.'
              : `${plural(report.snapshots.rewritten.length, 'snapshot')} rewritten without what ${report.snapshots.rewritten.length === 1 ? 'it' : 'they'} lost, ${plural(report.snapshots.removed.length, 'snapshot file')} deleted.`}
          </p>
          <ul>
            {report.snapshots.rewritten.map((s) => (
              <li key={s.id}>
                <code>{shortId(s.id)}</code> of {dateTime(s.time)} is now <code>{shortId(s.newId)}</code>, marked repaired; it lost{' '}
                {plural(s.lostCount, 'item')}:
                <ul>
                  {s.lost.map((l) => (
                    <li key={l.path}>
                      <code>{l.path}</code>: {l.message}
                    </li>
                  ))}
                  {s.lostCount > s.lost.length && <li>… and {plural(s.lostCount - s.lost.length, 'more')}</li>}
                </ul>
              </li>
            ))}
            {report.snapshots.removed.map((s) => (
              <li key={s.id}>
                <code>{shortId(s.id)}</code>
                {s.time ? ` of ${dateTime(s.time)}` : ''} was deleted: {s.message}
              </li>
            ))}
            {report.snapshots.skipped.map((s) => (
              <li key={s.id}>
                <code>{shortId(s.id)}</code> was left as it is: {s.message} Try again once the repository reads normally.
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}

function packLine(p: RepairReportDto['packs'][number]): string {
  if (p.outcome === 'intact') return 'is intact after all: it was kept.';
  if (p.outcome === 'missing') return 'was missing already: nothing could be saved from it.';
  return `was removed: ${plural(p.blobsSaved, 'object')} saved${p.blobsLost > 0 ? `, ${plural(p.blobsLost, 'object')} lost` : ', nothing lost'}.`;
}
