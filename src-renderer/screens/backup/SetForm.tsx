/** Create or edit a backup set; a retention change is confirmed on its own (it deletes snapshots). */
import { useId, useState, type FormEvent } from 'react';
import { retentionText, type BackupSetView } from '../../../src-shared/contract-backup.js';
import { call } from '../../api.js';
import { ErrorText } from '../../components/Field.js';
import { StepUpDialog } from '../../components/StepUpDialog.js';
import { presetOf, SCHEDULE_PRESETS, type PresetId } from '../../components/backup/schedule.js';
import { useConfirmedCall } from '../../hooks/useConfirmedCall.js';
import type { RepositoryView } from '../../hooks/useRepositories.js';
import { lines } from '../../lib/format.js';
import { RETENTION_KEYS, RetentionFields, sameRetention, ScheduleFields, WhatFields, type Retention } from './SetFields.js';

export function SetForm({
  set,
  repositories,
  onDone,
}: {
  set: BackupSetView | null;
  repositories: RepositoryView[];
  onDone: (message: string | null) => void;
}) {
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
  const titleId = useId();

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
      <form className="card set-form" aria-labelledby={titleId} onSubmit={submit}>
        <h2 id={titleId}>{set ? `Edit “${set.name}”` : 'New backup set'}</h2>
        <div className="two-col">
          <WhatFields
            set={set}
            repositories={repositories}
            name={name}
            onName={setName}
            repositoryId={repositoryId}
            onRepositoryId={setRepositoryId}
            sources={sources}
            onSources={setSources}
            excludes={excludes}
            onExcludes={setExcludes}
          />
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
