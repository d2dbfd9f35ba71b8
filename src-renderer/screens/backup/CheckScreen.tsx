/**
 * Check & repair: check a repository (its structure, or also every byte or a random share of
 * the data) and name what is damaged; repair what a check found (save what damaged packs still
 * hold and remove them, rebuild the index, rewrite snapshots without what they lost), which
 * deletes files and so asks for a step-up; free the space no snapshot uses any more (prune).
 */
import { useId, useState, type FormEvent } from 'react';
import type { JobViewDto } from '../../../src-shared/contract-backup.js';
import type { InputOf } from '../../../src-shared/contract.js';
import { MaintenanceFields, useMaintenance } from '../../components/backup/MaintenanceFields.js';
import { call } from '../../api.js';
import { ErrorText } from '../../components/Field.js';
import { StepUpDialog } from '../../components/StepUpDialog.js';
import { plural, shortId } from '../../lib/format.js';
import { JobPanel } from '../../components/backup/JobPanel.js';
import { NoRepository } from '../../components/backup/NoRepository.js';
import { RepositoryPicker, useRememberedRepository } from '../../components/backup/RepositoryPicker.js';
import { useRepositories, type RepositoryView } from '../../hooks/useRepositories.js';

type ReadData = 'none' | 'all' | 'subset';
type CheckReportDto = NonNullable<Extract<JobViewDto, { kind: 'check' }>['result']>;

export function CheckScreen({ onOpenRepositories }: { onOpenRepositories: () => void }) {
  const { repositories, error: repoError } = useRepositories();
  const [repositoryId, setRepositoryId] = useState('');
  useRememberedRepository(repositories, repositoryId, setRepositoryId);
  const [readData, setReadData] = useState<ReadData>('none');
  const [percent, setPercent] = useState('10');
  const [jobs, setJobs] = useState<{ jobId: string; title: string }[]>([]);
  const [error, setError] = useState<string | null>(null);
  /** The last check of the chosen repository that finished here: what repair offers to mend. */
  const [lastCheck, setLastCheck] = useState<{ jobId: string; repositoryId: string; report: CheckReportDto } | null>(null);
  const ids = { form: useId() };

  const repoName = repositories?.find((r) => r.id === repositoryId)?.name ?? '';
  const pct = Number(percent);
  const pctValid = Number.isFinite(pct) && pct >= 0.1 && pct <= 100;

  const addJob = (jobId: string, title: string) => setJobs((js) => [{ jobId, title }, ...js]);

  const startCheck = async (e: FormEvent) => {
    e.preventDefault();
    const r = await call('backup.check.start', readData === 'subset' ? { repositoryId, readData, subsetPercent: pct } : { repositoryId, readData });
    if (!r.ok) return setError(r.error.message);
    setError(null);
    addJob(r.value.jobId, `Checking “${repoName}”`);
  };

  // An append-only repository frees space only with maintenance credentials, and a step-up.
  const repo = repositories?.find((r) => r.id === repositoryId);
  const maintenance = useMaintenance(repo);
  const [pruning, setPruning] = useState<InputOf<'backup.prune.start'> | null>(null);
  const startPrune = async (proof?: string) => {
    const input = pruning ?? { repositoryId };
    setPruning(null);
    const r = await call('backup.prune.start', input, proof);
    maintenance.clear();
    if (!r.ok) return setError(r.error.message);
    setError(null);
    addJob(r.value.jobId, `Freeing space in “${repoName}”`);
  };
  const askPrune = () => (maintenance.needed && maintenance.input ? setPruning({ repositoryId, maintenance: maintenance.input }) : void startPrune());

  const jobEnded = (job: JobViewDto) => {
    if (job.kind === 'check' && job.state === 'succeeded' && job.result) setLastCheck({ jobId: job.id, repositoryId: job.repositoryId, report: job.result });
    // A repair changes what a check would say: the old report no longer applies.
    if (job.kind === 'repair' && job.state === 'succeeded') setLastCheck((c) => (c?.repositoryId === job.repositoryId ? null : c));
  };

  if (repositories && repositories.length === 0) return <NoRepository title="Check & repair" onOpenRepositories={onOpenRepositories} />;

  return (
    <div className="stack wide">
      <h1>Check &amp; repair</h1>
      <ErrorText message={repoError ?? error} />
      {repositories && repositoryId && (
        <div className="card picker-bar">
          <RepositoryPicker repositories={repositories} value={repositoryId} onChange={setRepositoryId} />
        </div>
      )}
      {jobs.map((j) => (
        <JobPanel key={j.jobId} jobId={j.jobId} title={j.title} onEnd={jobEnded} onClose={() => setJobs((js) => js.filter((x) => x.jobId !== j.jobId))} />
      ))}
      <div className="two-col">
        <form className="card" aria-labelledby={`${ids.form}-title`} onSubmit={startCheck}>
          <h2 id={`${ids.form}-title`}>Check the repository</h2>
          <WhatToCheck readData={readData} onReadData={setReadData} percent={percent} onPercent={setPercent} pctValid={pctValid} />
          <div className="actions">
            <button type="submit" className="primary" disabled={!repositoryId || (readData === 'subset' && !pctValid)}>
              Run check
            </button>
          </div>
        </form>
        {repositoryId && (
          <RepairCard
            key={`${repositoryId}:${lastCheck?.repositoryId === repositoryId ? lastCheck.jobId : ''}`}
            repositoryId={repositoryId}
            repo={repo}
            report={lastCheck?.repositoryId === repositoryId ? lastCheck.report : null}
            onStarted={(jobId) => addJob(jobId, `Repairing “${repoName}”`)}
            onError={setError}
          />
        )}
      </div>
      <section className="card" aria-labelledby={`${ids.form}-prune`}>
        <h2 id={`${ids.form}-prune`}>Free space no snapshot uses</h2>
        <p>
          Deleting snapshots removes only their listing; the data they alone used stays until it is freed here. Pack files that hold unused data are rewritten
          or removed, and leftovers of interrupted backups are cleaned up. Damaged packs are left for repair.
        </p>
        <p className="small muted">The repository is locked for others while this runs.</p>
        {maintenance.needed && repo && <MaintenanceFields repo={repo} draft={maintenance.draft} onChange={maintenance.setDraft} />}
        <div className="actions">
          <button type="button" className="primary" disabled={!repositoryId || (maintenance.needed && !maintenance.input)} onClick={askPrune}>
            Free space
          </button>
        </div>
      </section>
      {pruning && <StepUpDialog method="backup.prune.start" input={pruning} onProof={(proof) => void startPrune(proof)} onCancel={() => setPruning(null)} />}
    </div>
  );
}

/**
 * What to repair, preselected from the last check: its damaged packs (to save what they hold,
 * then remove), the index (when an index file or a pack was damaged or missing), the snapshots
 * (when one lost data or cannot be opened). The step-up's confirmation, written by the core,
 * names each part.
 */
function RepairCard({
  repositoryId,
  repo,
  report,
  onStarted,
  onError,
}: {
  repositoryId: string;
  repo: RepositoryView | undefined;
  report: CheckReportDto | null;
  onStarted: (jobId: string) => void;
  onError: (message: string | null) => void;
}) {
  const damagedPacks = report?.damagedPacks ?? [];
  const [packs, setPacks] = useState(damagedPacks.length > 0);
  const [index, setIndex] = useState(report ? report.problems.some((p) => p.kind === 'index' || p.kind === 'pack') : false);
  const [snapshots, setSnapshots] = useState(report ? report.damagedSnapshots.length > 0 || report.problems.some((p) => p.kind === 'snapshot') : false);
  const [confirming, setConfirming] = useState(false);
  const id = useId();
  // An append-only repository repairs (deletes) only with maintenance credentials.
  const maintenance = useMaintenance(repo);
  const input = { repositoryId, packs: packs ? damagedPacks : [], index, snapshots, ...(maintenance.input ? { maintenance: maintenance.input } : {}) };
  const chosen = (input.packs.length > 0 || index || snapshots) && (!maintenance.needed || maintenance.input !== null);

  const start = async (proof: string) => {
    setConfirming(false);
    const r = await call('backup.repair.start', input, proof);
    maintenance.clear();
    if (!r.ok) return onError(r.error.message);
    onError(null);
    onStarted(r.value.jobId);
  };

  return (
    <section className="card" aria-labelledby={`${id}-title`} data-testid="repair-card">
      <h2 id={`${id}-title`}>Repair</h2>
      <p>
        Run a backup first: if the files are still on your disk, it stores again what damaged or missing packs held, and older snapshots that share that data
        are whole again. Then repair what is left. What cannot be saved is named in the report.
      </p>
      {report ? (
        <p className="small" data-testid="repair-basis">
          {report.ok ? 'The last check found no problems.' : `The last check found ${plural(report.problems.length, 'problem')}.`}
        </p>
      ) : (
        <p className="small muted">Run a check first: it names the damaged packs to remove.</p>
      )}
      <fieldset>
        <legend>What to repair</legend>
        <div className="check">
          <input id={`${id}-packs`} type="checkbox" checked={packs} disabled={damagedPacks.length === 0} onChange={(e) => setPacks(e.target.checked)} />
          <label htmlFor={`${id}-packs`}>
            Remove the damaged packs the check named
            {damagedPacks.length > 0 ? ` (${damagedPacks.map(shortId).join(', ')})` : ''}, saving every blob that still verifies
          </label>
        </div>
        <div className="check">
          <input
            id={`${id}-index`}
            type="checkbox"
            checked={index || input.packs.length > 0}
            disabled={input.packs.length > 0}
            onChange={(e) => setIndex(e.target.checked)}
          />
          <label htmlFor={`${id}-index`}>Rebuild the index from the packs (replaces damaged index files)</label>
        </div>
        <div className="check">
          <input id={`${id}-snapshots`} type="checkbox" checked={snapshots} onChange={(e) => setSnapshots(e.target.checked)} />
          <label htmlFor={`${id}-snapshots`}>Rewrite snapshots that lost data without it, and delete snapshot files that cannot be opened</label>
        </div>
      </fieldset>
      {maintenance.needed && repo && <MaintenanceFields repo={repo} draft={maintenance.draft} onChange={maintenance.setDraft} />}
      <p className="small muted">Repair deletes damaged files, so it asks you to confirm. The repository is locked for others while it runs.</p>
      <div className="actions">
        <button type="button" className="danger" disabled={!chosen} onClick={() => setConfirming(true)}>
          Repair…
        </button>
      </div>
      {confirming && <StepUpDialog method="backup.repair.start" input={input} onProof={(proof) => void start(proof)} onCancel={() => setConfirming(false)} />}
    </section>
  );
}

const OPTIONS: [ReadData, string, string][] = [
  ['none', 'Structure only', 'Index, packs, snapshots and folder trees: quick.'],
  ['all', 'All data', 'Also read and verify every byte stored: as slow as reading the whole repository.'],
  ['subset', 'A random part of the data', 'Read a random share of the packs; repeated checks cover all of it over time.'],
];

function WhatToCheck(props: { readData: ReadData; onReadData: (r: ReadData) => void; percent: string; onPercent: (p: string) => void; pctValid: boolean }) {
  const ids = { form: useId(), percent: useId() };
  const { readData, percent, pctValid } = props;
  return (
    <fieldset>
      <legend>What to check</legend>
      {OPTIONS.map(([v, label, hint]) => (
        <div className="radio" key={v}>
          <input
            id={`${ids.form}-${v}`}
            type="radio"
            name={`${ids.form}-read`}
            checked={readData === v}
            aria-describedby={`${ids.form}-${v}-hint`}
            onChange={() => props.onReadData(v)}
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
            onChange={(e) => props.onPercent(e.target.value)}
          />
        </div>
      )}
    </fieldset>
  );
}
