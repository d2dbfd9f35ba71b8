/** The fields of the backup set form (SetForm.tsx): what, where to, when, and how long to keep. */
import { useId } from 'react';
import type { BackupSetView } from '../../../src-shared/contract-backup.js';
import type { InputOf } from '../../../src-shared/contract.js';
import { Field } from '../../components/Field.js';
import { SCHEDULE_PRESETS, type PresetId } from '../../components/backup/schedule.js';
import type { RepositoryView } from '../../hooks/useRepositories.js';

export type Retention = InputOf<'backup.sets.setRetention'>['retention'];
export const RETENTION_KEYS = [
  ['last', 'Keep last'],
  ['hourly', 'Hourly'],
  ['daily', 'Daily'],
  ['weekly', 'Weekly'],
  ['monthly', 'Monthly'],
  ['yearly', 'Yearly'],
] as const;

export function sameRetention(a: Retention, b: Retention): boolean {
  return RETENTION_KEYS.every(([k]) => (a[k] ?? 0) === (b[k] ?? 0));
}

/** What a set backs up and where to: its name, repository, folders and what it leaves out. */
export function WhatFields(props: {
  set: BackupSetView | null;
  repositories: RepositoryView[];
  name: string;
  onName: (name: string) => void;
  repositoryId: string;
  onRepositoryId: (id: string) => void;
  sources: string;
  onSources: (sources: string) => void;
  excludes: string;
  onExcludes: (excludes: string) => void;
}) {
  const { set, repositories, name, repositoryId, sources, excludes } = props;
  const ids = { repo: useId(), sources: useId(), excludes: useId() };
  return (
    <div>
      <Field label="Name" value={name} maxLength={60} required onChange={(e) => props.onName(e.target.value)} />
      <div className="field">
        <label htmlFor={ids.repo}>Repository</label>
        <select
          id={ids.repo}
          value={repositoryId}
          disabled={set !== null}
          aria-describedby={set ? `${ids.repo}-hint` : undefined}
          onChange={(e) => props.onRepositoryId(e.target.value)}
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
          onChange={(e) => props.onSources(e.target.value)}
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
          onChange={(e) => props.onExcludes(e.target.value)}
        />
        <p id={`${ids.excludes}-hint`} className="small muted">
          One pattern per line. Without a slash a pattern matches a file or folder name anywhere (<code>*.tmp</code>, <code>node_modules</code>,{' '}
          <code>.cache</code>); with a slash it matches the full path (<code>/home/ada/Videos/**</code>). <code>*</code> matches within a name, <code>**</code>{' '}
          across folders.
        </p>
      </div>
    </div>
  );
}

/** When a set runs: a preset or a cron expression. */
export function ScheduleFields(props: {
  preset: PresetId;
  onPreset: (p: PresetId) => void;
  cron: string;
  onCron: (c: string) => void;
  schedule: string | null;
}) {
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
          <input id={ids.cron} value={cron} spellCheck={false} required aria-describedby={`${ids.cron}-hint`} onChange={(e) => props.onCron(e.target.value)} />
          <p id={`${ids.cron}-hint`} className="small muted">
            Minute, hour, day of month, month, day of week, in local time: <code>30 1 * * *</code> is 01:30 every day, <code>0 */4 * * 1-5</code> every four
            hours on weekdays.
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

/** How long a set's snapshots are kept. */
export function RetentionFields(props: {
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
        After each backup, keep this many of the newest snapshots, and the newest one of each of this many hours, days, weeks, months and years; older ones are
        deleted. Leave all empty to keep everything.
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
