/**
 * The audit log: every gate event, newest first, in words (what happened, and a coloured badge
 * for how it ended), with filters by what a person looks for, paging, CSV export, and a check of
 * the hash chain that names the first row that was tampered with. The raw action, row id and
 * address are in each row's details and in the CSV.
 */
import { useId, useState } from 'react';
import { AUDIT_ACTIONS, type AuditRowView, type InputOf } from '../../src-shared/contract.js';
import { ErrorText } from '../components/Field.js';
import { Table, type Column } from '../components/Table.js';
import { useLoad, useMethod } from '../hooks/useMethod.js';
import { ACTION_GROUPS, actionLabel, detailText, outcomeBadge, type AuditAction } from '../lib/audit-labels.js';
import { downloadText } from '../lib/download.js';
import { plural } from '../lib/plural.js';

const PAGE = 50;
type Filter = NonNullable<InputOf<'audit.query'>['filter']>;

/** A yyyy-mm-dd from a date input, as the start of that local day in ms. */
function dayStart(value: string): number | undefined {
  if (!value) return undefined;
  const ms = new Date(`${value}T00:00:00`).getTime();
  return Number.isFinite(ms) ? ms : undefined;
}

/** The filter from the form: `event` is "group:<id>", "action:<action>" or empty. */
function toFilter(event: string, outcome: string, from: string, to: string): Filter {
  const f: Filter = {};
  const group = event.startsWith('group:') ? ACTION_GROUPS.find((g) => g.id === event.slice(6)) : undefined;
  if (group) f.actions = [...group.actions];
  if (event.startsWith('action:')) f.action = event.slice(7) as AuditAction;
  if (outcome) f.outcome = outcome as Filter['outcome'];
  const fromMs = dayStart(from);
  const toMs = dayStart(to);
  if (fromMs !== undefined) f.from = fromMs;
  if (toMs !== undefined) f.to = toMs + 24 * 3600_000; // through the end of that day
  return f;
}

const COLUMNS: readonly Column<AuditRowView>[] = [
  { header: 'Time', cell: (r) => new Date(r.time).toLocaleString() },
  {
    header: 'Event',
    cell: (r) => (
      <>
        <span className="event-name">{actionLabel(r.action)}</span>
        {r.detail && <div className="small muted">{detailText(r.detail)}</div>}
      </>
    ),
  },
  {
    header: 'Outcome',
    cell: (r) => {
      const badge = outcomeBadge(r.outcome);
      return <span className={`badge ${badge.tone}`}>{badge.label}</span>;
    },
  },
  { header: 'Account', cell: (r) => r.account ?? '' },
  { header: 'Device', cell: (r) => r.device ?? '' },
  { header: 'Workstation', cell: (r) => r.workstation },
  {
    header: 'Details',
    hideHeader: true,
    cell: (r) => (
      <details className="row-details">
        <summary>Details</summary>
        <dl>
          <dt>Event code</dt>
          <dd>
            <code>{r.action}</code>
          </dd>
          <dt>Row</dt>
          <dd>{r.id}</dd>
          <dt>IP address</dt>
          <dd>{r.ip}</dd>
          {r.detail && (
            <>
              <dt>Recorded detail</dt>
              <dd>{r.detail}</dd>
            </>
          )}
        </dl>
      </details>
    ),
  },
];

export function AuditLogScreen() {
  const [event, setEvent] = useState('');
  const [outcome, setOutcome] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [offset, setOffset] = useState(0);
  const filter = toFilter(event, outcome, from, to);
  const page = useLoad('audit.query', { filter, limit: PAGE, offset });
  const exporter = useMethod('audit.exportCsv');
  const verifier = useMethod('audit.verify');
  const [verify, setVerify] = useState<Awaited<ReturnType<typeof verifier.run>> | null>(null);

  const exportCsv = async () => {
    const r = await exporter.run({ filter });
    if (r.ok) downloadText(r.value.filename, r.value.csv, 'text/csv');
  };
  const check = async () => setVerify(await verifier.run({}));
  const rows = page.data;

  return (
    <div className="stack wide">
      <h1>Audit log</h1>
      <AuditFilters
        values={{ event, outcome, from, to }}
        onChange={(change) => {
          if (change.event !== undefined) setEvent(change.event);
          if (change.outcome !== undefined) setOutcome(change.outcome);
          if (change.from !== undefined) setFrom(change.from);
          if (change.to !== undefined) setTo(change.to);
          setOffset(0);
        }}
        onExport={() => void exportCsv()}
        onCheck={() => void check()}
      />
      <ErrorText message={page.error ?? exporter.error ?? verifier.error} />
      {verify?.ok && (
        <p className={verify.value.ok ? 'ok-text' : 'notice'} role="status" data-testid="audit-verify">
          {verify.value.ok
            ? `The log is intact: all ${plural(verify.value.rows, 'row')} verify.`
            : `The log was tampered with: row ${verify.value.firstBrokenId} does not verify (${verify.value.reason}). ${plural(verify.value.rows, 'row')} before it are intact.`}
        </p>
      )}
      {rows && (
        <>
          <p className="small muted" role="status">
            {rows.total === 0
              ? 'No events match. Choose “All events” or widen the dates to see more.'
              : `Events ${offset + 1}–${offset + rows.rows.length} of ${rows.total.toLocaleString()}, newest first.`}
          </p>
          {rows.rows.length > 0 && <Table rows={rows.rows} columns={COLUMNS} rowKey={(r) => r.id} testId="audit-table" caption="Audit log events" />}
          <div className="actions">
            <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
              Newer
            </button>
            <button type="button" disabled={offset + PAGE >= rows.total} onClick={() => setOffset(offset + PAGE)}>
              Older
            </button>
          </div>
        </>
      )}
    </div>
  );
}

interface FilterValues {
  event: string;
  outcome: string;
  from: string;
  to: string;
}

function AuditFilters(props: { values: FilterValues; onChange: (change: Partial<FilterValues>) => void; onExport: () => void; onCheck: () => void }) {
  const ids = { event: useId(), outcome: useId(), from: useId(), to: useId() };
  const { values, onChange } = props;
  return (
    <form className="card filters" aria-label="Filter the audit log" onSubmit={(e) => e.preventDefault()}>
      <div className="field">
        <label htmlFor={ids.event}>Event</label>
        <select id={ids.event} value={values.event} onChange={(e) => onChange({ event: e.target.value })}>
          <option value="">All events</option>
          <optgroup label="What happened">
            {ACTION_GROUPS.map((g) => (
              <option key={g.id} value={`group:${g.id}`}>
                {g.label}
              </option>
            ))}
          </optgroup>
          <optgroup label="One kind of event">
            {[...AUDIT_ACTIONS]
              .sort((a, b) => actionLabel(a).localeCompare(actionLabel(b)))
              .map((a) => (
                <option key={a} value={`action:${a}`}>
                  {actionLabel(a)}
                </option>
              ))}
          </optgroup>
        </select>
      </div>
      <div className="field">
        <label htmlFor={ids.outcome}>Outcome</label>
        <select id={ids.outcome} value={values.outcome} onChange={(e) => onChange({ outcome: e.target.value })}>
          <option value="">Any</option>
          <option value="success">Succeeded</option>
          <option value="failure">Failed</option>
          <option value="info">Noted</option>
        </select>
      </div>
      <div className="field">
        <label htmlFor={ids.from}>From</label>
        <input id={ids.from} type="date" value={values.from} onChange={(e) => onChange({ from: e.target.value })} />
      </div>
      <div className="field">
        <label htmlFor={ids.to}>To</label>
        <input id={ids.to} type="date" value={values.to} onChange={(e) => onChange({ to: e.target.value })} />
      </div>
      <div className="actions">
        <button type="button" onClick={props.onExport}>
          Export CSV
        </button>
        <button type="button" onClick={props.onCheck}>
          Check integrity
        </button>
      </div>
    </form>
  );
}
