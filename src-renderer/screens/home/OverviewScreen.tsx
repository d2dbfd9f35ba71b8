/**
 * The home screen: are my backups OK? One verdict, the warnings that need action (each with the
 * button that goes where to act), each set's health, the repositories' state, one "Back up now",
 * and the first-run checklist until every step is done.
 */
import { useState } from 'react';
import { call } from '../../api.js';
import { plural } from '../../lib/format.js';
import { Checklist } from './Checklist.js';
import { checklist, warnings, type Destination, type HomeState, type RepositoryStatuses, type Warning } from './health.js';
import { RepositoryHealth, SetHealth } from './HealthTables.js';
import { useHomeState } from './useHomeState.js';
import { useRepositoryStatuses } from './useRepositoryStatuses.js';

function verdict(state: HomeState, found: Warning[]): { text: string; tone: 'ok' | 'warn' | 'neutral' } {
  if (state.sets.length === 0) return { text: 'Nothing is backed up yet.', tone: 'neutral' };
  if (found.length > 0) return { text: `${plural(found.length, 'thing needs', 'things need')} your attention.`, tone: 'warn' };
  if (state.sets.some((s) => s.running)) return { text: 'A backup is running.', tone: 'neutral' };
  if (state.sets.every((s) => s.lastRun?.state === 'succeeded')) return { text: 'Your backups are OK.', tone: 'ok' };
  return { text: 'Some sets have not finished a backup yet.', tone: 'neutral' };
}

function BackUpNow({ state, onStarted }: { state: HomeState; onStarted: () => void }) {
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const idle = state.sets.filter((s) => !s.running);
  const run = async () => {
    setBusy(true);
    const results = await Promise.all(idle.map((s) => call('backup.sets.run', { setId: s.id })));
    setBusy(false);
    const failed = results.flatMap((r) => (r.ok ? [] : [r.error.message]));
    const started = results.length - failed.length;
    setMessage(failed.length ? `${failed[0]}` : `Started ${plural(started, 'backup')}.`);
    onStarted();
  };
  return (
    <div className="backup-now">
      <button type="button" className="primary" onClick={() => void run()} disabled={busy || idle.length === 0}>
        Back up now
      </button>
      <p className="small muted" role="status" data-testid="backup-now-status">
        {message ??
          (state.sets.length === 0
            ? 'Create a backup set first.'
            : idle.length === 0
              ? 'Every set is running.'
              : `Runs ${plural(idle.length, 'backup set')} at once.`)}
      </p>
    </div>
  );
}

export function OverviewScreen({ onGo }: { onGo: (to: Destination) => void }) {
  const { state, error, reload } = useHomeState();
  const statuses = useRepositoryStatuses(state ? state.repositories.map((r) => r.id) : null);
  const found = state ? warnings(state, Date.now(), statuses ?? undefined) : [];
  const v = state ? verdict(state, found) : null;
  // The heading stays the same element while the state loads, so the focus put on it stays.
  return (
    <div className="stack">
      <div className="title-row">
        <h1>Overview</h1>
        {state && <BackUpNow state={state} onStarted={() => void reload()} />}
      </div>
      {!state && <p className={error ? 'error' : 'muted'}>{error ?? 'Loading…'}</p>}
      {state && v && <Loaded state={state} statuses={statuses} found={found} verdict={v} error={error} onGo={onGo} />}
    </div>
  );
}

function Loaded({
  state,
  statuses,
  found,
  verdict: v,
  error,
  onGo,
}: {
  state: HomeState;
  statuses: RepositoryStatuses | null;
  found: Warning[];
  verdict: ReturnType<typeof verdict>;
  error: string | null;
  onGo: (to: Destination) => void;
}) {
  return (
    <>
      <p className={`verdict ${v.tone}`} data-testid="verdict">
        {v.text}
      </p>
      {error && <p className="error">{error}</p>}
      <Checklist items={checklist(state)} onGo={onGo} />
      {found.length > 0 && (
        <section className="card" aria-labelledby="warnings-title">
          <h2 id="warnings-title">Needs your attention</h2>
          <ul className="warnings" data-testid="warnings">
            {found.map((w) => (
              <li key={w.id}>
                <span>{w.text}</span>
                <button type="button" onClick={() => onGo(w.go)}>
                  {w.action}
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}
      <section className="card" aria-labelledby="sets-health-title">
        <h2 id="sets-health-title">Backup sets</h2>
        {state.sets.length ? <SetHealth sets={state.sets} /> : <p className="muted">No backup sets yet.</p>}
      </section>
      <section className="card" aria-labelledby="repos-health-title">
        <h2 id="repos-health-title">Repositories</h2>
        {state.repositories.length ? <RepositoryHealth state={state} statuses={statuses} /> : <p className="muted">No repositories yet.</p>}
      </section>
    </>
  );
}
