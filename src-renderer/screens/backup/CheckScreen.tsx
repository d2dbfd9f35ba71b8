/**
 * Check a repository (its structure, or also every byte or a random share of the data) and
 * name what is damaged; free the space no snapshot uses any more (prune).
 */
import { useId, useState, type FormEvent } from 'react';
import { call } from '../../api.js';
import { ErrorText } from '../../components/Field.js';
import { JobPanel } from '../../components/backup/JobPanel.js';
import { RepositoryPicker, useRememberedRepository } from '../../components/backup/RepositoryPicker.js';
import { useRepositories } from '../../components/backup/useRepositories.js';

type ReadData = 'none' | 'all' | 'subset';

export function CheckScreen({ onOpenRepositories }: { onOpenRepositories: () => void }) {
  const { repositories, error: repoError } = useRepositories();
  const [repositoryId, setRepositoryId] = useState('');
  useRememberedRepository(repositories, repositoryId, setRepositoryId);
  const [readData, setReadData] = useState<ReadData>('none');
  const [percent, setPercent] = useState('10');
  const [jobs, setJobs] = useState<{ jobId: string; title: string }[]>([]);
  const [error, setError] = useState<string | null>(null);
  const ids = { form: useId(), percent: useId() };

  const repoName = repositories?.find((r) => r.id === repositoryId)?.name ?? '';
  const pct = Number(percent);
  const pctValid = Number.isFinite(pct) && pct >= 0.1 && pct <= 100;

  const startCheck = async (e: FormEvent) => {
    e.preventDefault();
    const r = await call('backup.check.start', readData === 'subset' ? { repositoryId, readData, subsetPercent: pct } : { repositoryId, readData });
    if (!r.ok) return setError(r.error.message);
    setError(null);
    setJobs((js) => [{ jobId: r.value.jobId, title: `Checking “${repoName}”` }, ...js]);
  };

  const startPrune = async () => {
    const r = await call('backup.prune.start', { repositoryId });
    if (!r.ok) return setError(r.error.message);
    setError(null);
    setJobs((js) => [{ jobId: r.value.jobId, title: `Freeing space in “${repoName}”` }, ...js]);
  };

  if (repositories && repositories.length === 0) {
    return (
      <div className="stack wide">
        <h1>Check &amp; free space</h1>
        <p className="notice">
          No repository is connected.{' '}
          <button type="button" className="link" onClick={onOpenRepositories}>
            Go to Repositories
          </button>
        </p>
      </div>
    );
  }

  const options: [ReadData, string, string][] = [
    ['none', 'Structure only', 'Index, packs, snapshots and folder trees: quick.'],
    ['all', 'All data', 'Also read and verify every byte stored: as slow as reading the whole repository.'],
    ['subset', 'A random part of the data', 'Read a random share of the packs; repeated checks cover all of it over time.'],
  ];

  return (
    <div className="stack wide">
      <h1>Check &amp; free space</h1>
      <ErrorText message={repoError ?? error} />
      {repositories && repositoryId && (
        <div className="card picker-bar">
          <RepositoryPicker repositories={repositories} value={repositoryId} onChange={setRepositoryId} />
        </div>
      )}
      {jobs.map((j) => (
        <JobPanel key={j.jobId} jobId={j.jobId} title={j.title} onClose={() => setJobs((js) => js.filter((x) => x.jobId !== j.jobId))} />
      ))}
      <div className="two-col">
        <form className="card" aria-labelledby={`${ids.form}-title`} onSubmit={startCheck}>
          <h2 id={`${ids.form}-title`}>Check the repository</h2>
          <fieldset>
            <legend>What to check</legend>
            {options.map(([v, label, hint]) => (
              <div className="radio" key={v}>
                <input
                  id={`${ids.form}-${v}`}
                  type="radio"
                  name={`${ids.form}-read`}
                  checked={readData === v}
                  aria-describedby={`${ids.form}-${v}-hint`}
                  onChange={() => setReadData(v)}
                />
                <label htmlFor={`${ids.form}-${v}`}>{label}</label>
                <p id={`${ids.form}-${v}-hint`} className="small muted radio-hint">
                  {hint}
                </p>
              </div>
            ))}
            {readData === 'subset' && (
              <div className="field inline-field">
                <label htmlFor={ids.percent}>Share of the data to read (%)</label>
                <input
                  id={ids.percent}
                  type="number"
                  min={0.1}
                  max={100}
                  step={0.1}
                  value={percent}
                  aria-invalid={!pctValid}
                  onChange={(e) => setPercent(e.target.value)}
                />
              </div>
            )}
          </fieldset>
          <div className="actions">
            <button type="submit" className="primary" disabled={!repositoryId || (readData === 'subset' && !pctValid)}>
              Run check
            </button>
          </div>
        </form>
        <section className="card" aria-labelledby={`${ids.form}-prune`}>
          <h2 id={`${ids.form}-prune`}>Free space no snapshot uses</h2>
          <p>
            Deleting snapshots removes only their listing; the data they alone used stays until it is freed here. Pack files that
            hold unused data are rewritten or removed, and leftovers of interrupted backups are cleaned up.
          </p>
          <p className="small muted">The repository is locked for others while this runs.</p>
          <div className="actions">
            <button type="button" className="primary" disabled={!repositoryId} onClick={() => void startPrune()}>
              Free space
            </button>
          </div>
        </section>
      </div>
    </div>
  );
}
