/** What changed between two snapshots: added, removed and changed paths. */
import { useId, useState, type FormEvent } from 'react';
import { ErrorText } from '../../../components/Field.js';
import { dateTime, shortId } from '../../../lib/format.js';
import { useMethod } from '../../../hooks/useMethod.js';
import type { Diff, Snapshot } from './types.js';

export function CompareSnapshots({ repositoryId, snapshots }: { repositoryId: string; snapshots: Snapshot[] }) {
  const [from, setFrom] = useState(snapshots[1]?.id ?? snapshots[0]?.id ?? '');
  const [to, setTo] = useState(snapshots[0]?.id ?? '');
  const [diff, setDiff] = useState<Diff | null>(null);
  const { run: compare, error } = useMethod('backup.snapshots.diff');
  const ids = { from: useId(), to: useId() };
  const option = (s: Snapshot) => (
    <option key={s.id} value={s.id}>
      {dateTime(s.time)} ({shortId(s.id)})
    </option>
  );
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const r = await compare({ repositoryId, from, to, limit: 1000 });
    if (r.ok) setDiff(r.value);
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
