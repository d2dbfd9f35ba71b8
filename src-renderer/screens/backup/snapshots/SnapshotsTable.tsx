/** The snapshots of a repository, newest first, with Browse and Delete per row. */
import { useMemo } from 'react';
import type { BackupSetView } from '../../../../src-shared/contract-backup.js';
import { Table, type Column } from '../../../components/Table.js';
import { dateTime, formatBytes, plural, shortId } from '../../../lib/format.js';
import { formatCount } from '../../../lib/plural.js';
import type { Snapshot } from './types.js';

export function SnapshotsTable(props: {
  snapshots: Snapshot[];
  sets: BackupSetView[];
  openId: string | null;
  onBrowse: (s: Snapshot) => void;
  onDelete: (s: Snapshot) => void;
}) {
  const { sets, onBrowse, onDelete } = props;
  const columns = useMemo((): Column<Snapshot>[] => {
    const tagText = (tag: string) => {
      if (!tag.startsWith('set:')) return tag;
      const set = sets.find((s) => s.id === tag.slice(4));
      return set ? `set: ${set.name}` : 'set: (deleted)';
    };
    return [
      { header: 'Time', cell: (s) => dateTime(s.time) },
      {
        header: 'Snapshot',
        cell: (s) => (
          <>
            <code>{shortId(s.id)}</code>
            {s.repaired && (
              <>
                {' '}
                <span className="badge failed" title={`Repaired on ${dateTime(s.repaired.time)}: ${plural(s.repaired.lostCount, 'item')} lost`}>
                  Repaired: {plural(s.repaired.lostCount, 'item')} lost
                </span>
              </>
            )}
          </>
        ),
      },
      { header: 'Host', cell: (s) => s.host },
      {
        header: 'Folders',
        cell: (s) =>
          s.paths.map((p) => (
            <div key={p}>
              <code>{p}</code>
            </div>
          )),
      },
      { header: 'Tags', cell: (s) => s.tags.map(tagText).join(', ') || '—' },
      { header: 'Files', cell: (s) => formatCount(s.summary.files) },
      { header: 'Size', cell: (s) => formatBytes(s.summary.bytes) },
      { header: 'Added', cell: (s) => formatBytes(s.summary.dataAdded) },
      {
        header: 'Actions',
        hideHeader: true,
        cell: (s) => (
          <div className="row-actions nowrap">
            <button type="button" aria-label={`Browse the snapshot of ${dateTime(s.time)}`} onClick={() => onBrowse(s)}>
              Browse
            </button>
            <button type="button" className="danger" aria-label={`Delete the snapshot of ${dateTime(s.time)}`} onClick={() => onDelete(s)}>
              Delete
            </button>
          </div>
        ),
      },
    ];
  }, [sets, onBrowse, onDelete]);
  return (
    <Table
      rows={props.snapshots}
      columns={columns}
      rowKey={(s) => s.id}
      testId="snapshots-table"
      rowClassName={(s) => (props.openId === s.id ? 'selected-row' : undefined)}
      rowProps={(s) => ({ 'data-snapshot': s.id, 'aria-current': props.openId === s.id ? 'true' : undefined })}
    />
  );
}
