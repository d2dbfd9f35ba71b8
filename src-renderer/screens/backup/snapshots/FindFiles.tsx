/** Finds files by name across every snapshot of a repository. */
import { useState, type FormEvent } from 'react';
import { ErrorText, Field } from '../../../components/Field.js';
import { dateTime, formatBytes, shortId } from '../../../lib/format.js';
import { useMethod } from '../../../hooks/useMethod.js';
import type { Found } from './types.js';

export function FindFiles({ repositoryId, onShow }: { repositoryId: string; onShow: (f: Found) => void }) {
  const [pattern, setPattern] = useState('');
  const [found, setFound] = useState<{ pattern: string; entries: Found[] } | null>(null);
  const { run: find, busy, error } = useMethod('backup.snapshots.find');
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const r = await find({ repositoryId, pattern: pattern.trim(), limit: 200 });
    if (r.ok) setFound({ pattern: pattern.trim(), entries: r.value.entries });
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
