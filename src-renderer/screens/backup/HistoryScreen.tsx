/**
 * History: every backup run, newest first, with a link from each run to its snapshot, and a
 * chart per backup set of the data each finished run added and how long it took (cancelled runs
 * left out; inline SVG, the table and the chart's description are its text alternative).
 */
import { useId, useMemo, useState } from 'react';
import type { BackupSetView } from '../../../src-shared/contract-backup.js';
import type { OutputOf } from '../../../src-shared/contract.js';
import { ErrorText } from '../../components/Field.js';
import { Table, type Column } from '../../components/Table.js';
import { useLoad } from '../../hooks/useMethod.js';
import { dateTime, formatBytes, formatCount, formatDuration, plural, shortId } from '../../lib/format.js';
import { RUN_STATE_LABEL } from '../../lib/run-labels.js';
import type { SnapshotTarget } from './SnapshotsScreen.js';

type Run = OutputOf<'backup.history'>['runs'][number];

const TRIGGER_LABEL: Record<Run['trigger'], string> = { manual: 'Manual', schedule: 'Scheduled', 'catch-up': 'Catch-up' };

export function HistoryScreen({ onOpenSnapshot }: { onOpenSnapshot?: (target: SnapshotTarget) => void }) {
  const [setId, setSetId] = useState('');
  const setsLoad = useLoad('backup.sets.list', {});
  const sets = useMemo(() => setsLoad.data?.sets ?? [], [setsLoad.data]);
  const history = useLoad('backup.history', setId ? { setId, limit: 200 } : { limit: 200 });
  const runs = history.data?.runs ?? null;
  const filterId = useId();
  const columns = useMemo(() => runColumns(sets, onOpenSnapshot), [sets, onOpenSnapshot]);
  // One chart per set: runs of different sets back up different folders and do not compare.
  const bySet = useMemo(() => {
    const groups = new Map<string, Run[]>();
    for (const r of runs ?? []) groups.set(r.setId, [...(groups.get(r.setId) ?? []), r]);
    return [...groups.entries()];
  }, [runs]);
  const setName = (id: string) => sets.find((s) => s.id === id)?.name ?? 'a deleted set';

  return (
    <div className="stack wide">
      <h1>History</h1>
      <form className="card filters" aria-label="Filter the history" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor={filterId}>Backup set</label>
          <select id={filterId} value={setId} onChange={(e) => setSetId(e.target.value)}>
            <option value="">All backup sets</option>
            {sets.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
        </div>
        <div className="actions">
          <button type="button" onClick={() => void history.reload()}>
            Refresh
          </button>
        </div>
      </form>
      <ErrorText message={history.error} />
      {runs && runs.length === 0 && <p className="muted">No backups have run yet.</p>}
      {runs && runs.length > 0 && (
        <>
          {bySet.map(([id, setRuns]) => (
            <RunChart key={id} runs={setRuns} setName={setName(id)} />
          ))}
          <div className="card">
            <h2>Runs</h2>
            <Table rows={runs} columns={columns} rowKey={(r) => r.id} testId="history-table" />
          </div>
        </>
      )}
    </div>
  );
}

function runColumns(sets: BackupSetView[], onOpenSnapshot: ((target: SnapshotTarget) => void) | undefined): Column<Run>[] {
  const setOf = (id: string) => sets.find((s) => s.id === id);
  return [
    { header: 'Started', cell: (r) => dateTime(r.startedAt) },
    { header: 'Backup set', cell: (r) => setOf(r.setId)?.name ?? 'a deleted set' },
    { header: 'Trigger', cell: (r) => TRIGGER_LABEL[r.trigger] },
    {
      header: 'Result',
      cell: (r) => (
        <>
          <span className={`badge ${r.state}`}>{RUN_STATE_LABEL[r.state]}</span>
          {r.message && <div className="small muted">{r.message}</div>}
        </>
      ),
    },
    { header: 'Duration', cell: (r) => (r.finishedAt === null ? '—' : formatDuration(r.finishedAt - r.startedAt)) },
    { header: 'Files', cell: (r) => formatCount(r.files) },
    { header: 'Size', cell: (r) => formatBytes(r.bytes) },
    { header: 'Data added', cell: (r) => formatBytes(r.dataAdded) },
    { header: 'Errors', cell: (r) => formatCount(r.errors) },
    {
      header: 'Snapshot',
      cell: (r) => {
        if (!r.snapshotId) return '—';
        const set = setOf(r.setId);
        if (!set || !onOpenSnapshot) return <code>{shortId(r.snapshotId)}</code>;
        const target = { repositoryId: set.repositoryId, snapshotId: r.snapshotId };
        return (
          <button type="button" className="link" aria-label={`Open snapshot ${shortId(r.snapshotId)}`} onClick={() => onOpenSnapshot(target)}>
            <code>{shortId(r.snapshotId)}</code>
          </button>
        );
      },
    },
  ];
}

const W = 760;
const H = 240;
const PAD = { left: 64, right: 64, top: 16, bottom: 40 };
const MAX_RUNS = 40;

/** Runs that tell how long a backup takes and what it adds: finished ones, not cancelled or still running. */
const charted = (r: Run) => r.finishedAt !== null && r.state !== 'cancelled';

function RunChart({ runs, setName }: { runs: Run[]; setName: string }) {
  const titleId = useId();
  const descId = useId();
  const shown = runs.filter(charted).slice(0, MAX_RUNS).reverse();
  if (shown.length === 0) return null;
  const durations = shown.map((r) => (r.finishedAt ?? r.startedAt) - r.startedAt);
  const added = shown.map((r) => r.dataAdded ?? 0);
  const maxBytes = Math.max(1, ...added);
  const maxMs = Math.max(1, ...durations);
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const slot = plotW / shown.length;
  const barW = Math.max(2, Math.min(36, slot * 0.6));
  const yBytes = (b: number) => PAD.top + plotH - (b / maxBytes) * plotH;
  const yMs = (ms: number) => PAD.top + plotH - (ms / maxMs) * plotH;
  const x = (i: number) => PAD.left + slot * i + slot / 2;
  const line = durations.map((d, i) => `${i === 0 ? 'M' : 'L'}${x(i).toFixed(1)},${yMs(d).toFixed(1)}`).join(' ');
  const ticks = [0, 0.5, 1];
  const first = shown[0]!;
  const last = shown[shown.length - 1]!;
  const description =
    `${plural(shown.length, 'finished run')} of “${setName}” from ${dateTime(first.startedAt)} to ${dateTime(last.startedAt)}. ` +
    `Data added per run ranged from ${formatBytes(Math.min(...added))} to ${formatBytes(Math.max(...added))}; ` +
    `duration from ${formatDuration(Math.min(...durations))} to ${formatDuration(Math.max(...durations))}. ` +
    'The table below lists every run.';
  // Times along the bottom, as precise as the span of the runs needs.
  const span = last.startedAt - first.startedAt;
  const tickLabel = (ms: number) =>
    span > 2 * 86_400_000
      ? new Date(ms).toLocaleDateString([], { month: 'short', day: 'numeric' })
      : new Date(ms).toLocaleTimeString(
          [],
          span < 3_600_000 ? { hour: '2-digit', minute: '2-digit', second: '2-digit' } : { hour: '2-digit', minute: '2-digit' },
        );
  // Label at most about 8 runs along the bottom.
  const labelEvery = Math.ceil(shown.length / 8);
  return (
    <figure className="card chart" data-testid="history-chart">
      <h2>“{setName}”: data added and duration per run</h2>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby={`${titleId} ${descId}`} className="chart-svg">
        <title id={titleId}>
          Data added (bars) and duration (line) of the last {plural(shown.length, 'backup run')} of “{setName}”
        </title>
        <desc id={descId}>{description}</desc>
        {ticks.map((t) => (
          <g key={t}>
            <line className="chart-grid" x1={PAD.left} x2={W - PAD.right} y1={PAD.top + plotH * (1 - t)} y2={PAD.top + plotH * (1 - t)} />
            <text className="chart-axis" x={PAD.left - 6} y={PAD.top + plotH * (1 - t) + 4} textAnchor="end">
              {formatBytes(Math.round(maxBytes * t))}
            </text>
            <text className="chart-axis" x={W - PAD.right + 6} y={PAD.top + plotH * (1 - t) + 4} textAnchor="start">
              {formatDuration(Math.round(maxMs * t))}
            </text>
          </g>
        ))}
        {shown.map((r, i) => (
          <rect
            key={r.id}
            className={`chart-bar ${r.state}`}
            x={x(i) - barW / 2}
            y={yBytes(added[i]!)}
            width={barW}
            height={Math.max(1, PAD.top + plotH - yBytes(added[i]!))}
          >
            <title>{`${dateTime(r.startedAt)}: ${formatBytes(added[i])} added in ${formatDuration(durations[i])} (${RUN_STATE_LABEL[r.state]})`}</title>
          </rect>
        ))}
        <path className="chart-line" d={line} />
        {shown.map((r, i) => (
          <circle key={r.id} className="chart-dot" cx={x(i)} cy={yMs(durations[i]!)} r={3.5} />
        ))}
        {shown.map((r, i) =>
          i % labelEvery === 0 ? (
            <text key={r.id} className="chart-axis" x={x(i)} y={H - PAD.bottom + 16} textAnchor="middle">
              {tickLabel(r.startedAt)}
            </text>
          ) : null,
        )}
        <text className="chart-axis" x={PAD.left} y={H - 6} textAnchor="start">
          Run start time (oldest left)
        </text>
      </svg>
      <figcaption className="chart-legend small">
        <span className="legend-bar" aria-hidden="true" /> Data added (left axis)
        <span className="legend-line" aria-hidden="true" /> Duration (right axis)
        <span className="visually-hidden">. {description}</span>
      </figcaption>
    </figure>
  );
}
