/**
 * Snapshots and restore: a repository's snapshots, a browser for one snapshot's tree, search
 * across snapshots, a diff of two, and restoring chosen files and folders (or everything) to
 * where they came from or into another folder. Forgetting a snapshot is a step-up.
 */
import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import type { BackupSetView } from '../../../src-shared/contract-backup.js';
import type { OutputOf } from '../../../src-shared/contract.js';
import { call } from '../../api.js';
import { ErrorText, Field } from '../../components/Field.js';
import { StepUpDialog } from '../../components/StepUpDialog.js';
import { dateTime, formatBytes, formatCount, formatMode, shortId } from '../../lib/format.js';
import { JobPanel } from '../../components/backup/JobPanel.js';
import { RepositoryPicker, useRememberedRepository } from '../../components/backup/RepositoryPicker.js';
import { RestoreForm } from '../../components/backup/RestoreForm.js';
import { useRepositories } from '../../hooks/useRepositories.js';

type Snapshot = OutputOf<'backup.snapshots.list'>['snapshots'][number];
type Entry = OutputOf<'backup.snapshots.browse'>['entries'][number];
type Found = OutputOf<'backup.snapshots.find'>['entries'][number];
type Diff = OutputOf<'backup.snapshots.diff'>;

const newestFirst = (a: Snapshot, b: Snapshot) => b.time.localeCompare(a.time);
const parentOf = (path: string) => path.split('/').slice(0, -1).join('/');

export function SnapshotsScreen({ onOpenRepositories }: { onOpenRepositories: () => void }) {
  const { repositories, error: repoError } = useRepositories();
  const [repositoryId, setRepositoryId] = useState('');
  useRememberedRepository(repositories, repositoryId, setRepositoryId);
  const [sets, setSets] = useState<BackupSetView[]>([]);
  const [snapshots, setSnapshots] = useState<Snapshot[] | null>(null);
  const [damaged, setDamaged] = useState<OutputOf<'backup.snapshots.list'>['damaged']>([]);
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [open, setOpen] = useState<{ snapshot: Snapshot; path: string; select?: string } | null>(null);
  const [forgetting, setForgetting] = useState<Snapshot | null>(null);
  const [restoreJob, setRestoreJob] = useState<{ id: string; running: boolean; destination: string | null } | null>(null);

  useEffect(() => {
    void call('backup.sets.list', {}).then((r) => r.ok && setSets(r.value.sets));
  }, []);

  const load = useCallback(async () => {
    if (!repositoryId) return;
    const r = await call('backup.snapshots.list', { repositoryId });
    if (r.ok) {
      setSnapshots([...r.value.snapshots].sort(newestFirst));
      setDamaged(r.value.damaged);
    }
    setError(r.ok ? null : r.error.message);
  }, [repositoryId]);
  useEffect(() => {
    setSnapshots(null);
    setOpen(null);
    void load();
  }, [load]);

  const forget = async (s: Snapshot, proof: string) => {
    setForgetting(null);
    const r = await call('backup.snapshots.forget', { repositoryId, snapshotIds: [s.id] }, proof);
    setError(r.ok ? null : r.error.message);
    setMessage(r.ok ? `Deleted the snapshot ${shortId(s.id)}. “Free space” under Check & repair releases the data only it used.` : null);
    if (open?.snapshot.id === s.id) setOpen(null);
    void load();
  };

  const tagText = (tag: string) => {
    if (!tag.startsWith('set:')) return tag;
    const set = sets.find((s) => s.id === tag.slice(4));
    return set ? `set: ${set.name}` : 'set: (deleted)';
  };

  if (repositories && repositories.length === 0) {
    return (
      <div className="stack wide">
        <h1>Snapshots &amp; restore</h1>
        <p className="notice">
          No repository is connected.{' '}
          <button type="button" className="link" onClick={onOpenRepositories}>
            Go to Repositories
          </button>
        </p>
      </div>
    );
  }

  return (
    <div className="stack wide">
      <h1>Snapshots &amp; restore</h1>
      <ErrorText message={repoError ?? error} />
      {message && <p role="status">{message}</p>}
      {repositories && repositoryId && (
        <div className="card picker-bar">
          <RepositoryPicker repositories={repositories} value={repositoryId} onChange={setRepositoryId} />
          <div className="actions">
            <button type="button" onClick={() => void load()}>
              Refresh
            </button>
          </div>
        </div>
      )}
      {damaged.length > 0 && (
        <div className="notice" role="status" data-testid="damaged-snapshots">
          <p>
            {damaged.length === 1 ? 'One snapshot file cannot be opened' : `${damaged.length} snapshot files cannot be opened`}: nothing
            in {damaged.length === 1 ? 'it' : 'them'} can be read. The others are listed below. “Check &amp; repair” removes{' '}
            {damaged.length === 1 ? 'it' : 'them'}.
          </p>
          <ul>
            {damaged.map((d) => (
              <li key={d.id}>{d.message}</li>
            ))}
          </ul>
        </div>
      )}
      {snapshots && snapshots.length === 0 && damaged.length === 0 && <p className="muted">This repository holds no snapshots yet. Run a backup set first.</p>}
      {snapshots && snapshots.length > 0 && (
        <section className="card" aria-labelledby="snapshots-title">
          <h2 id="snapshots-title">Snapshots ({snapshots.length})</h2>
          <div className="table-scroll">
            <table className="table" data-testid="snapshots-table">
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Snapshot</th>
                  <th scope="col">Host</th>
                  <th scope="col">Folders</th>
                  <th scope="col">Tags</th>
                  <th scope="col">Files</th>
                  <th scope="col">Size</th>
                  <th scope="col">Added</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {snapshots.map((s) => (
                  <tr key={s.id} className={open?.snapshot.id === s.id ? 'selected-row' : undefined}>
                    <td>{dateTime(s.time)}</td>
                    <td>
                      <code>{shortId(s.id)}</code>
                      {s.repaired && (
                        <>
                          {' '}
                          <span className="badge failed" title={`Repaired on ${dateTime(s.repaired.time)}: ${s.repaired.lostCount} item(s) lost`}>
                            Repaired: {s.repaired.lostCount === 1 ? '1 item lost' : `${formatCount(s.repaired.lostCount)} items lost`}
                          </span>
                        </>
                      )}
                    </td>
                    <td>{s.host}</td>
                    <td>
                      {s.paths.map((p) => (
                        <div key={p}>
                          <code>{p}</code>
                        </div>
                      ))}
                    </td>
                    <td>{s.tags.map(tagText).join(', ') || '—'}</td>
                    <td>{formatCount(s.summary.files)}</td>
                    <td>{formatBytes(s.summary.bytes)}</td>
                    <td>{formatBytes(s.summary.dataAdded)}</td>
                    <td>
                      <div className="row-actions nowrap">
                        <button
                          type="button"
                          aria-label={`Browse the snapshot of ${dateTime(s.time)}`}
                          onClick={() => (setOpen({ snapshot: s, path: '' }), setMessage(null))}
                        >
                          Browse
                        </button>
                        <button
                          type="button"
                          className="danger"
                          aria-label={`Delete the snapshot of ${dateTime(s.time)}`}
                          onClick={() => setForgetting(s)}
                        >
                          Delete
                        </button>
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      )}
      {open && (
        <SnapshotBrowser
          key={`${open.snapshot.id}:${open.select ?? ''}`}
          repositoryId={repositoryId}
          snapshot={open.snapshot}
          initialPath={open.path}
          initialSelection={open.select}
          busy={restoreJob?.running ?? false}
          onRestoreStarted={(id, destination) => setRestoreJob({ id, running: true, destination })}
          onClose={() => setOpen(null)}
        />
      )}
      {restoreJob && (
        <JobPanel
          key={restoreJob.id}
          jobId={restoreJob.id}
          title="Restoring"
          destination={restoreJob.destination}
          onEnd={() => setRestoreJob((j) => (j ? { ...j, running: false } : j))}
          onClose={() => setRestoreJob(null)}
        />
      )}
      {snapshots && snapshots.length > 0 && (
        <div className="two-col">
          <FindFiles
            repositoryId={repositoryId}
            onShow={(f) => {
              const s = snapshots.find((x) => x.id === f.snapshotId);
              if (s) setOpen({ snapshot: s, path: f.type === 'dir' ? f.path : parentOf(f.path), select: f.type === 'dir' ? undefined : f.path });
            }}
          />
          <CompareSnapshots repositoryId={repositoryId} snapshots={snapshots} />
        </div>
      )}
      {forgetting && (
        <StepUpDialog
          method="backup.snapshots.forget"
          input={{ repositoryId, snapshotIds: [forgetting.id] }}
          onProof={(proof) => void forget(forgetting, proof)}
          onCancel={() => setForgetting(null)}
        />
      )}
    </div>
  );
}

function SnapshotBrowser({
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
  const [entries, setEntries] = useState<Entry[] | null>(null);
  const [selected, setSelected] = useState<Set<string>>(() => new Set(initialSelection ? [initialSelection] : []));
  const [error, setError] = useState<string | null>(null);
  const allId = useId();

  useEffect(() => {
    let stale = false;
    setEntries(null);
    void call('backup.snapshots.browse', { repositoryId, snapshotId: snapshot.id, path }).then((r) => {
      if (stale) return;
      if (r.ok)
        setEntries(
          [...r.value.entries].sort((a, b) => (a.type === 'dir') !== (b.type === 'dir') ? (a.type === 'dir' ? -1 : 1) : a.name.localeCompare(b.name)),
        );
      setError(r.ok ? null : r.error.message);
    });
    return () => {
      stale = true;
    };
  }, [repositoryId, snapshot.id, path]);

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
      <nav aria-label="Folder path" className="breadcrumbs">
        <ol>
          <li>
            {crumbs.length === 0 ? (
              <span aria-current="location">All folders</span>
            ) : (
              <button type="button" className="link" onClick={() => setPath('')}>
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
                  <button type="button" className="link" onClick={() => setPath(to)}>
                    {c}
                  </button>
                )}
              </li>
            );
          })}
        </ol>
      </nav>
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

function FindFiles({ repositoryId, onShow }: { repositoryId: string; onShow: (f: Found) => void }) {
  const [pattern, setPattern] = useState('');
  const [found, setFound] = useState<{ pattern: string; entries: Found[] } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    const r = await call('backup.snapshots.find', { repositoryId, pattern: pattern.trim(), limit: 200 });
    setBusy(false);
    if (r.ok) setFound({ pattern: pattern.trim(), entries: r.value.entries });
    setError(r.ok ? null : r.error.message);
  };
  return (
    <section className="card" aria-labelledby="find-title">
      <h2 id="find-title">Find files in all snapshots</h2>
      <form onSubmit={submit} role="search" aria-label="Find files in snapshots">
        <Field
          label="Name or pattern"
          hint="A name or glob such as report*.pdf (matches names anywhere), or a path pattern with a slash such as docs/**/*.txt."
          value={pattern}
          spellCheck={false}
          required
          onChange={(e) => setPattern(e.target.value)}
        />
        <ErrorText message={error} />
        <div className="actions">
          <button type="submit" className="primary" disabled={busy || !pattern.trim()}>
            {busy ? 'Searching…' : 'Search'}
          </button>
        </div>
      </form>
      {found && (
        <>
          <p className="small muted" role="status">
            {found.entries.length === 0
              ? `Nothing matches “${found.pattern}”.`
              : `${found.entries.length}${found.entries.length >= 200 ? '+' : ''} match(es) for “${found.pattern}”, newest snapshot first.`}
          </p>
          {found.entries.length > 0 && (
            <div className="table-scroll result-scroll">
              <table className="table" data-testid="find-table">
                <thead>
                  <tr>
                    <th scope="col">Path</th>
                    <th scope="col">Snapshot</th>
                    <th scope="col">Size</th>
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {found.entries.map((f) => (
                    <tr key={`${f.snapshotId}:${f.path}`}>
                      <td>
                        <code>{f.path}</code>
                      </td>
                      <td>
                        {dateTime(f.snapshotTime)} <code className="muted">{shortId(f.snapshotId)}</code>
                      </td>
                      <td>{f.type === 'dir' ? '—' : formatBytes(f.size)}</td>
                      <td>
                        <button type="button" aria-label={`Show ${f.path} of ${dateTime(f.snapshotTime)}`} onClick={() => onShow(f)}>
                          Show
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
    </section>
  );
}

function CompareSnapshots({ repositoryId, snapshots }: { repositoryId: string; snapshots: Snapshot[] }) {
  const [from, setFrom] = useState(snapshots[1]?.id ?? snapshots[0]?.id ?? '');
  const [to, setTo] = useState(snapshots[0]?.id ?? '');
  const [diff, setDiff] = useState<Diff | null>(null);
  const [error, setError] = useState<string | null>(null);
  const ids = { from: useId(), to: useId() };
  const option = (s: Snapshot) => (
    <option key={s.id} value={s.id}>
      {dateTime(s.time)} ({shortId(s.id)})
    </option>
  );
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const r = await call('backup.snapshots.diff', { repositoryId, from, to, limit: 1000 });
    if (r.ok) setDiff(r.value);
    setError(r.ok ? null : r.error.message);
  };
  return (
    <section className="card" aria-labelledby="compare-title">
      <h2 id="compare-title">Compare two snapshots</h2>
      <form onSubmit={submit}>
        <div className="field">
          <label htmlFor={ids.from}>Older snapshot</label>
          <select id={ids.from} value={from} onChange={(e) => setFrom(e.target.value)}>
            {snapshots.map(option)}
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.to}>Newer snapshot</label>
          <select id={ids.to} value={to} onChange={(e) => setTo(e.target.value)}>
            {snapshots.map(option)}
          </select>
        </div>
        <ErrorText message={error} />
        <div className="actions">
          <button type="submit" className="primary" disabled={!from || !to}>
            Compare
          </button>
        </div>
      </form>
      {diff && (
        <div className="diff" data-testid="diff-result" role="status">
          {diff.added.length + diff.removed.length + diff.modified.length === 0 ? (
            <p className="small">No differences: the two snapshots hold the same files.</p>
          ) : (
            <>
              <DiffList title="Added" className="added" paths={diff.added} />
              <DiffList title="Removed" className="removed" paths={diff.removed} />
              <DiffList title="Changed" className="modified" paths={diff.modified} />
              {diff.truncated && <p className="small muted">Only the first 1000 of each kind are listed.</p>}
            </>
          )}
        </div>
      )}
    </section>
  );
}

function DiffList({ title, className, paths }: { title: string; className: string; paths: string[] }) {
  if (paths.length === 0) return null;
  return (
    <details open={paths.length <= 20}>
      <summary>
        {title}: {paths.length}
      </summary>
      <ul className={`diff-list ${className}`}>
        {paths.map((p) => (
          <li key={p}>
            <code>{p}</code>
          </li>
        ))}
      </ul>
    </details>
  );
}
