/**
 * Backup sets: what to back up, where to, when, and how long to keep it. Run one now and follow
 * its progress; create, edit (retention changes are a step-up: they delete snapshots) and delete.
 */
import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import { retentionText, type BackupSetView } from '../../../src-shared/contract-backup.js';
import type { InputOf } from '../../../src-shared/contract.js';
import { call } from '../../api.js';
import { ErrorText, Field } from '../../components/Field.js';
import { StepUpDialog } from '../../components/StepUpDialog.js';
import { useConfirmedCall } from '../../hooks/useConfirmedCall.js';
import { lines } from '../../lib/format.js';
import { JobPanel } from '../../components/backup/JobPanel.js';
import { presetOf, SCHEDULE_PRESETS, type PresetId } from '../../components/backup/schedule.js';
import { useRepositories, type RepositoryView } from '../../hooks/useRepositories.js';
import { SetsTable } from './SetsTable.js';

type Retention = InputOf<'backup.sets.setRetention'>['retention'];
const RETENTION_KEYS = [
  ['last', 'Keep last'],
  ['hourly', 'Hourly'],
  ['daily', 'Daily'],
  ['weekly', 'Weekly'],
  ['monthly', 'Monthly'],
  ['yearly', 'Yearly'],
] as const;



function sameRetention(a: Retention, b: Retention): boolean {
  return RETENTION_KEYS.every(([k]) => (a[k] ?? 0) === (b[k] ?? 0));
}

export function BackupSetsScreen({ onOpenRepositories }: { onOpenRepositories: () => void }) {
  const { repositories, error: repoError } = useRepositories();
  const [sets, setSets] = useState<BackupSetView[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [editing, setEditing] = useState<BackupSetView | 'new' | null>(null);
  const [deleting, setDeleting] = useState<BackupSetView | null>(null);
  const [jobs, setJobs] = useState<{ jobId: string; setName: string }[]>([]);

  const reload = useCallback(async () => {
    const r = await call('backup.sets.list', {});
    if (r.ok) setSets(r.value.sets);
    setError(r.ok ? null : r.error.message);
    return r.ok ? r.value.sets : [];
  }, []);

  // Follow backups already running (started by the schedule, or before the screen was opened).
  useEffect(() => {
    void (async () => {
      const loaded = await reload();
      if (!loaded.some((s) => s.running)) return;
      const r = await call('backup.jobs.list', {});
      if (!r.ok) return;
      const running = r.value.jobs.filter((j) => j.kind === 'backup' && j.state === 'running' && j.setId);
      setJobs(running.map((j) => ({ jobId: j.id, setName: loaded.find((s) => s.id === j.setId)?.name ?? 'a backup set' })));
    })();
  }, [reload]);

  const run = async (set: BackupSetView) => {
    const r = await call('backup.sets.run', { setId: set.id });
    if (!r.ok) return setError(r.error.message);
    setError(null);
    setMessage(null);
    setJobs((js) => [{ jobId: r.value.jobId, setName: set.name }, ...js]);
    void reload();
  };

  const remove = async (set: BackupSetView, proof: string) => {
    setDeleting(null);
    const r = await call('backup.sets.delete', { setId: set.id }, proof);
    setError(r.ok ? null : r.error.message);
    setMessage(r.ok ? `Deleted the backup set “${set.name}”. Its snapshots stay in the repository.` : null);
    void reload();
  };

  const repoName = (id: string) => repositories?.find((r) => r.id === id)?.name ?? 'unknown repository';

  return (
    <div className="stack wide">
      <div className="title-row">
        <h1>Backup sets</h1>
        {editing === null && repositories && repositories.length > 0 && (
          <button type="button" className="primary" onClick={() => (setEditing('new'), setMessage(null))}>
            New backup set
          </button>
        )}
      </div>
      <ErrorText message={error ?? repoError} />
      {message && <p role="status">{message}</p>}
      {repositories && repositories.length === 0 && (
        <div className="notice banner">
          <p>
            Backups are stored in a repository. Create or connect one first.{' '}
            <button type="button" className="link" onClick={onOpenRepositories}>
              Go to Repositories
            </button>
          </p>
        </div>
      )}
      {jobs.map((j) => (
        <JobPanel
          key={j.jobId}
          jobId={j.jobId}
          title={`Backing up “${j.setName}”`}
          onEnd={() => void reload()}
          onClose={() => setJobs((js) => js.filter((x) => x.jobId !== j.jobId))}
        />
      ))}
      {editing !== null && repositories && (
        <SetForm
          set={editing === 'new' ? null : editing}
          repositories={repositories}
          onDone={(msg) => {
            setEditing(null);
            setMessage(msg);
            void reload();
          }}
        />
      )}
      {sets && sets.length === 0 && editing === null && repositories && repositories.length > 0 && (
        <p className="muted">No backup sets yet. Choose “New backup set” to pick the folders to back up.</p>
      )}
      {sets && sets.length > 0 && (
        <div className="card">
          <SetsTable
            sets={sets}
            repoName={repoName}
            onRun={(set) => void run(set)}
            onEdit={(set) => (setEditing(set), setMessage(null))}
            onDelete={setDeleting}
          />
        </div>
      )}
      {deleting && (
        <StepUpDialog
          method="backup.sets.delete"
          input={{ setId: deleting.id }}
          onProof={(proof) => void remove(deleting, proof)}
          onCancel={() => setDeleting(null)}
        />
      )}
    </div>
  );
}

function SetForm({ set, repositories, onDone }: { set: BackupSetView | null; repositories: RepositoryView[]; onDone: (message: string | null) => void }) {
  const [name, setName] = useState(set?.name ?? '');
  const [repositoryId, setRepositoryId] = useState(set?.repositoryId ?? repositories[0]?.id ?? '');
  const [sources, setSources] = useState(set?.sources.join('\n') ?? '');
  const [excludes, setExcludes] = useState(set?.excludes.join('\n') ?? '');
  const [preset, setPreset] = useState<PresetId>(set ? presetOf(set.schedule) : 'daily');
  const [cron, setCron] = useState(set?.schedule ?? '0 2 * * *');
  const [retention, setRetention] = useState<Record<string, string>>(() =>
    Object.fromEntries(RETENTION_KEYS.map(([k]) => [k, set?.retention[k] !== undefined ? String(set.retention[k]) : ''])),
  );
  const [pendingRetention, setPendingRetention] = useState<{ setId: string; retention: Retention; name: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const { run, dialog } = useConfirmedCall();
  const ids = { title: useId(), repo: useId(), sources: useId(), excludes: useId(), preset: useId(), cron: useId(), retention: useId() };

  const schedule = preset === 'custom' ? cron.trim() || null : (SCHEDULE_PRESETS.find((p) => p.id === preset)?.cron ?? null);
  const parsedRetention = (): Retention => {
    const r: Retention = {};
    for (const [k] of RETENTION_KEYS) {
      const v = retention[k]?.trim() ?? '';
      if (v !== '') r[k] = Math.max(0, Math.floor(Number(v)));
    }
    return r;
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    const input = { name: name.trim(), sources: lines(sources), excludes: lines(excludes), schedule };
    const want = parsedRetention();
    if (!set) {
      const r = await call('backup.sets.create', { ...input, repositoryId, retention: want });
      setBusy(false);
      if (!r.ok) return setError(r.error.message);
      return onDone(`Created the backup set “${r.value.name}”.`);
    }
    // A set with retention needs a confirmation to change what, where or when it backs up.
    const r = await run('backup.sets.update', { setId: set.id, ...input });
    setBusy(false);
    if (!r.ok) return setError(r.error.message);
    if (!sameRetention(want, set.retention)) setPendingRetention({ setId: set.id, retention: want, name: r.value.name });
    else onDone(`Saved “${r.value.name}”.`);
  };

  const applyRetention = async (proof: string) => {
    if (!pendingRetention) return;
    const r = await call('backup.sets.setRetention', { setId: pendingRetention.setId, retention: pendingRetention.retention }, proof);
    setPendingRetention(null);
    if (!r.ok) return setError(r.error.message);
    onDone(`Saved “${pendingRetention.name}” with the new retention (${retentionText(r.value.retention)}).`);
  };

  return (
    <>
      <form className="card set-form" aria-labelledby={ids.title} onSubmit={submit}>
        <h2 id={ids.title}>{set ? `Edit “${set.name}”` : 'New backup set'}</h2>
        <div className="two-col">
          <div>
            <Field label="Name" value={name} maxLength={60} required onChange={(e) => setName(e.target.value)} />
            <div className="field">
              <label htmlFor={ids.repo}>Repository</label>
              <select
                id={ids.repo}
                value={repositoryId}
                disabled={set !== null}
                aria-describedby={set ? `${ids.repo}-hint` : undefined}
                onChange={(e) => setRepositoryId(e.target.value)}
              >
                {repositories.map((r) => (
                  <option key={r.id} value={r.id}>
                    {r.name} ({r.path})
                  </option>
                ))}
              </select>
              {set && (
                <p id={`${ids.repo}-hint`} className="small muted">
                  A set keeps its repository; make a new set to back up somewhere else.
                </p>
              )}
            </div>
            <div className="field">
              <label htmlFor={ids.sources}>Folders to back up</label>
              <textarea
                id={ids.sources}
                rows={4}
                spellCheck={false}
                value={sources}
                required
                aria-describedby={`${ids.sources}-hint`}
                placeholder="/home/ada/Documents"
                onChange={(e) => setSources(e.target.value)}
              />
              <p id={`${ids.sources}-hint`} className="small muted">
                One full path per line, each starting with /.
              </p>
            </div>
            <div className="field">
              <label htmlFor={ids.excludes}>Leave out</label>
              <textarea
                id={ids.excludes}
                rows={4}
                spellCheck={false}
                value={excludes}
                aria-describedby={`${ids.excludes}-hint`}
                placeholder={'*.tmp\nnode_modules\n/home/ada/Videos/**'}
                onChange={(e) => setExcludes(e.target.value)}
              />
              <p id={`${ids.excludes}-hint`} className="small muted">
                One pattern per line. Without a slash a pattern matches a file or folder name anywhere (<code>*.tmp</code>,{' '}
                <code>node_modules</code>, <code>.cache</code>); with a slash it matches the full path (<code>/home/ada/Videos/**</code>).{' '}
                <code>*</code> matches within a name, <code>**</code> across folders.
              </p>
            </div>
          </div>
          <div>
            <ScheduleFields preset={preset} onPreset={setPreset} cron={cron} onCron={setCron} schedule={schedule} />
            <RetentionFields retention={retention} onChange={setRetention} editing={set !== null} />
          </div>
        </div>
        <ErrorText message={error} />
        <div className="actions">
          <button type="button" onClick={() => onDone(null)}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy || !name.trim() || lines(sources).length === 0 || !repositoryId}>
            {set ? 'Save changes' : 'Create backup set'}
          </button>
        </div>
      </form>
        {dialog}
        {pendingRetention && (
          <StepUpDialog
            method="backup.sets.setRetention"
            input={{ setId: pendingRetention.setId, retention: pendingRetention.retention }}
            onProof={(proof) => void applyRetention(proof)}
            onCancel={() => {
              setPendingRetention(null);
              onDone(`Saved “${pendingRetention.name}”; the retention was not changed.`);
            }}
          />
        )}
    </>
  );
}

function ScheduleFields(props: { preset: PresetId; onPreset: (p: PresetId) => void; cron: string; onCron: (c: string) => void; schedule: string | null }) {
  const ids = { preset: useId(), cron: useId() };
  const { preset, cron, schedule } = props;
  return (
    <>
      <div className="field">
        <label htmlFor={ids.preset}>Schedule</label>
        <select id={ids.preset} value={preset} onChange={(e) => props.onPreset(e.target.value as PresetId)}>
          {SCHEDULE_PRESETS.map((p) => (
            <option key={p.id} value={p.id}>
              {p.label}
            </option>
          ))}
          <option value="custom">Custom (cron expression)</option>
        </select>
      </div>
      {preset === 'custom' && (
        <div className="field">
          <label htmlFor={ids.cron}>Cron expression</label>
          <input
            id={ids.cron}
            value={cron}
            spellCheck={false}
            required
            aria-describedby={`${ids.cron}-hint`}
            onChange={(e) => props.onCron(e.target.value)}
          />
          <p id={`${ids.cron}-hint`} className="small muted">
            Minute, hour, day of month, month, day of week, in local time: <code>30 1 * * *</code> is 01:30 every day,{' '}
            <code>0 */4 * * 1-5</code> every four hours on weekdays.
          </p>
        </div>
      )}
      {preset !== 'custom' && schedule && (
        <p className="small muted">
          Cron: <code>{schedule}</code>. A run missed while the computer was off starts when it is next on.
        </p>
      )}
    </>
  );
}

function RetentionFields(props: {
  retention: Record<string, string>;
  onChange: (update: (r: Record<string, string>) => Record<string, string>) => void;
  editing: boolean;
}) {
  const ids = { retention: useId() };
  const { retention } = props;
  return (
    <fieldset className="retention" aria-describedby={`${ids.retention}-hint`}>
      <legend>Retention</legend>
      <p id={`${ids.retention}-hint`} className="small muted">
        After each backup, keep this many of the newest snapshots, and the newest one of each of this many hours, days, weeks,
        months and years; older ones are deleted. Leave all empty to keep everything.
        {props.editing && ' Changing retention needs confirmation, as it deletes snapshots.'}
      </p>
      <div className="retention-grid">
        {RETENTION_KEYS.map(([k, label]) => (
          <Field
            key={k}
            label={label}
            type="number"
            inputMode="numeric"
            min={0}
            max={10000}
            value={retention[k] ?? ''}
            onChange={(e) => props.onChange((r) => ({ ...r, [k]: e.target.value }))}
          />
        ))}
      </div>
    </fieldset>
  );
}
