/**
 * The audit log: every gate event, newest first, with filters, paging, CSV export, and a check
 * of the hash chain that names the first row that was tampered with.
 */
import { useCallback, useEffect, useId, useState } from 'react';
import { AUDIT_ACTIONS, type AuditRowView, type InputOf, type OutputOf } from '../../src-shared/contract.js';
import { call } from '../api.js';
import { downloadText } from '../lib/download.js';
import { ErrorText } from '../components/Field.js';

const PAGE = 50;
type Filter = NonNullable<InputOf<'audit.query'>['filter']>;

/** A yyyy-mm-dd from a date input, as the start of that local day in ms. */
function dayStart(value: string): number | undefined {
  if (!value) return undefined;
  const ms = new Date(`${value}T00:00:00`).getTime();
  return Number.isFinite(ms) ? ms : undefined;
}

export function AuditLogScreen() {
  const [action, setAction] = useState('');
  const [outcome, setOutcome] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [offset, setOffset] = useState(0);
  const [page, setPage] = useState<{ rows: AuditRowView[]; total: number } | null>(null);
  const [verify, setVerify] = useState<OutputOf<'audit.verify'> | null>(null);
  const [error, setError] = useState<string | null>(null);
  const ids = { action: useId(), outcome: useId(), from: useId(), to: useId() };

  const filter = useCallback((): Filter => {
    const f: Filter = {};
    if (action) f.action = action as Filter['action'];
    if (outcome) f.outcome = outcome as Filter['outcome'];
    const fromMs = dayStart(from);
    const toMs = dayStart(to);
    if (fromMs !== undefined) f.from = fromMs;
    if (toMs !== undefined) f.to = toMs + 24 * 3600_000; // through the end of that day
    return f;
  }, [action, outcome, from, to]);

  const load = useCallback(async () => {
    const r = await call('audit.query', { filter: filter(), limit: PAGE, offset });
    if (r.ok) setPage(r.value);
    setError(r.ok ? null : r.error.message);
  }, [filter, offset]);

  useEffect(() => {
    void load();
  }, [load]);

  const exportCsv = async () => {
    const r = await call('audit.exportCsv', { filter: filter() });
    if (!r.ok) return setError(r.error.message);
    downloadText(r.value.filename, r.value.csv, 'text/csv');
  };

  const check = async () => {
    const r = await call('audit.verify', {});
    if (r.ok) setVerify(r.value);
    else setError(r.error.message);
  };

  return (
    <div className="stack wide">
      <h1>Audit log</h1>
      <form className="card filters" aria-label="Filter the audit log" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor={ids.action}>Event</label>
          <select id={ids.action} value={action} onChange={(e) => (setAction(e.target.value), setOffset(0))}>
            <option value="">All events</option>
            {AUDIT_ACTIONS.map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.outcome}>Outcome</label>
          <select id={ids.outcome} value={outcome} onChange={(e) => (setOutcome(e.target.value), setOffset(0))}>
            <option value="">Any</option>
            <option value="success">Success</option>
            <option value="failure">Failure</option>
            <option value="info">Info</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.from}>From</label>
          <input id={ids.from} type="date" value={from} onChange={(e) => (setFrom(e.target.value), setOffset(0))} />
        </div>
        <div className="field">
          <label htmlFor={ids.to}>To</label>
          <input id={ids.to} type="date" value={to} onChange={(e) => (setTo(e.target.value), setOffset(0))} />
        </div>
        <div className="actions">
          <button type="button" onClick={() => void exportCsv()}>
            Export CSV
          </button>
          <button type="button" onClick={() => void check()}>
            Check integrity
          </button>
        </div>
      </form>
      <ErrorText message={error} />
      {verify && (
        <p className={verify.ok ? 'ok-text' : 'notice'} role="status" data-testid="audit-verify">
          {verify.ok
            ? `The log is intact: all ${verify.rows} rows verify.`
            : `The log was tampered with: row ${verify.firstBrokenId} does not verify (${verify.reason}). ${verify.rows} rows before it are intact.`}
        </p>
      )}
      {page && (
        <>
          <p className="small muted">
            {page.total === 0 ? 'No events match.' : `Events ${offset + 1}–${offset + page.rows.length} of ${page.total}, newest first.`}
          </p>
          <div className="table-scroll">
            <table className="table" data-testid="audit-table">
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Event</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">Account</th>
                  <th scope="col">Device</th>
                  <th scope="col">Workstation</th>
                  <th scope="col">IP</th>
                  <th scope="col">Detail</th>
                </tr>
              </thead>
              <tbody>
                {page.rows.map((r) => (
                  <tr key={r.id}>
                    <td>{new Date(r.time).toLocaleString()}</td>
                    <td>{r.action}</td>
                    <td>{r.outcome}</td>
                    <td>{r.account ?? ''}</td>
                    <td>{r.device ?? ''}</td>
                    <td>{r.workstation}</td>
                    <td>{r.ip}</td>
                    <td>{r.detail ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="actions">
            <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
              Newer
            </button>
            <button type="button" disabled={offset + PAGE >= page.total} onClick={() => setOffset(offset + PAGE)}>
              Older
            </button>
          </div>
        </>
      )}
    </div>
  );
}
