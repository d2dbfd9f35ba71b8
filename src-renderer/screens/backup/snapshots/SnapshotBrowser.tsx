/** One snapshot's folders and files: open folders, select entries, and restore them. */
import { useId, useMemo, useState } from 'react';
import { ErrorText } from '../../../components/Field.js';
import { dateTime, formatBytes, formatMode, shortId } from '../../../lib/format.js';
import { RestoreForm } from '../../../components/backup/RestoreForm.js';
import { useLoad } from '../../../hooks/useMethod.js';
import type { Entry, Snapshot } from './types.js';

export function SnapshotBrowser({
  repositoryId,
  snapshot,
  initialPath,
  initialSelection,
  busy,
  onRestoreStarted,
  onClose,
}: {
  repositoryId: string;
  snapshot: Snapshot;
  initialPath: string;
  initialSelection?: string;
  busy: boolean;
  onRestoreStarted: (jobId: string, destination: string | null) => void;
  onClose: () => void;
}) {
  const [path, setPath] = useState(initialPath);
  const [selected, setSelected] = useState<Set<string>>(() => new Set(initialSelection ? [initialSelection] : []));
  const allId = useId();
  const listing = useLoad('backup.snapshots.browse', { repositoryId, snapshotId: snapshot.id, path });
  const { error } = listing;
  // Folders first; nothing while a folder loads, so the last one's entries are not shown under the new path.
  const entries = useMemo(
    () =>
      listing.loading || !listing.data
        ? null
        : [...listing.data.entries].sort((a, b) => ((a.type === 'dir') !== (b.type === 'dir') ? (a.type === 'dir' ? -1 : 1) : a.name.localeCompare(b.name))),
    [listing.loading, listing.data],
  );

  const crumbs = path.split('/').filter(Boolean);
  const toggle = (p: string, on: boolean) =>
    setSelected((s) => {
      const next = new Set(s);
      if (on) next.add(p);
      else next.delete(p);
      return next;
    });
  const allHere = entries !== null && entries.length > 0 && entries.every((e) => selected.has(e.path));

  return (
    <section className="card" aria-labelledby="browser-title" data-testid="snapshot-browser">
      <div className="title-row">
        <h2 id="browser-title">
          Snapshot <code>{shortId(snapshot.id)}</code> of {dateTime(snapshot.time)}
        </h2>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
      <FolderPath crumbs={crumbs} onOpen={setPath} />
      <ErrorText message={error} />
      {entries === null && !error && <p className="muted">Loading…</p>}
      {entries && entries.length === 0 && <p className="muted">This folder is empty.</p>}
      {entries && entries.length > 0 && (
        <div className="table-scroll tree-scroll">
          <table className="table" data-testid="browser-table">
            <thead>
              <tr>
                <th scope="col" className="select-col">
                  <span className="check-inline">
                    <input
                      id={allId}
                      type="checkbox"
                      checked={allHere}
                      onChange={(e) => {
                        const on = e.target.checked;
                        setSelected((s) => {
                          const next = new Set(s);
                          for (const en of entries) {
                            if (on) next.add(en.path);
                            else next.delete(en.path);
                          }
                          return next;
                        });
                      }}
                    />
                    <label htmlFor={allId}>All</label>
                  </span>
                </th>
                <th scope="col">Name</th>
                <th scope="col">Size</th>
                <th scope="col">Mode</th>
                <th scope="col">Modified</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e) => (
                <EntryRow key={e.path} entry={e} selected={selected.has(e.path)} onToggle={toggle} onOpen={setPath} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <RestoreForm
        repositoryId={repositoryId}
        snapshot={snapshot}
        selected={[...selected].sort()}
        busy={busy}
        onClear={() => setSelected(new Set())}
        onStarted={onRestoreStarted}
      />
    </section>
  );
}

function EntryRow({
  entry,
  selected,
  onToggle,
  onOpen,
}: {
  entry: Entry;
  selected: boolean;
  onToggle: (path: string, on: boolean) => void;
  onOpen: (path: string) => void;
}) {
  const id = useId();
  return (
    <tr className={selected ? 'selected-row' : undefined}>
      <td className="select-col">
        <input id={id} type="checkbox" checked={selected} aria-label={`Select ${entry.name}`} onChange={(e) => onToggle(entry.path, e.target.checked)} />
      </td>
      <td>
        {entry.type === 'dir' ? (
          <button type="button" className="link entry-dir" onClick={() => onOpen(entry.path)} aria-label={`Open folder ${entry.name}`}>
            {entry.name}/
          </button>
        ) : (
          <label htmlFor={id} className="entry-file">
            {entry.name}
            {entry.linkTarget !== null && <span className="muted"> (link to {entry.linkTarget})</span>}
            {KIND_NOTE[entry.type] && <span className="muted"> ({KIND_NOTE[entry.type]})</span>}
          </label>
        )}
      </td>
      <td>{entry.type === 'dir' ? '—' : formatBytes(entry.size)}</td>
      <td>
        <code>{formatMode(entry.mode, entry.type)}</code>
      </td>
      <td>{dateTime(entry.mtime)}</td>
    </tr>
  );
}

/** What an entry is, for the entries that are neither files, folders nor symlinks. */
const KIND_NOTE: Partial<Record<Entry['type'], string>> = {
  fifo: 'named pipe',
  socket: 'socket',
  chardev: 'character device',
  blockdev: 'block device',
};

/** Where in the snapshot the browser is: each folder up to here, a link back to it. */
function FolderPath({ crumbs, onOpen }: { crumbs: string[]; onOpen: (path: string) => void }) {
  return (
    <nav aria-label="Folder path" className="breadcrumbs">
      <ol>
        <li>
          {crumbs.length === 0 ? (
            <span aria-current="location">All folders</span>
          ) : (
            <button type="button" className="link" onClick={() => onOpen('')}>
              All folders
            </button>
          )}
        </li>
        {crumbs.map((c, i) => {
          const to = crumbs.slice(0, i + 1).join('/');
          return (
            <li key={to}>
              {i === crumbs.length - 1 ? (
                <span aria-current="location">{c}</span>
              ) : (
                <button type="button" className="link" onClick={() => onOpen(to)}>
                  {c}
                </button>
              )}
            </li>
          );
        })}
      </ol>
    </nav>
  );
}
