/**
 * The audit log of gate events (docs/security.md, "The audit log"): append-only and hash-chained. Each row's MAC
 * covers the previous row's MAC and the row itself, so an edited, inserted or deleted row breaks
 * the chain from that row on. The SQLite triggers (migration 2) refuse UPDATE and DELETE; the
 * chain is what still shows an edit made by someone who dropped them.
 *
 * A row never holds a secret: `detail` is short free text for people, built by our code from
 * constants and names, never from a password, code, recovery code or key.
 */
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { AUDIT_ACTIONS, AuditFilterSchema as WireAuditFilterSchema, AuditPageShape } from '../../../src-shared/contract.js';
import type { Clock } from '../platform/clock.js';
import { constantTimeEqual, KEY_BYTES } from '../platform/crypto.js';
import { CoreError } from '../platform/errors.js';
import type { Store } from '../platform/store.js';

/** The actions are part of the contract (the UI filters by them), so the list lives in src-shared. */
export const AuditActionSchema = z.enum(AUDIT_ACTIONS);
export type AuditAction = z.infer<typeof AuditActionSchema>;

export const AuditOutcomeSchema = z.enum(['success', 'failure', 'info']);
export type AuditOutcome = z.infer<typeof AuditOutcomeSchema>;

const NAME_MAX = 256;
const DETAIL_MAX = 500;

/**
 * SQLite stores TEXT as UTF-8, which turns a lone surrogate into U+FFFD; MAC what will be read
 * back, or such a row would look tampered with.
 */
const text = (max: number) =>
  z
    .string()
    .max(max)
    .transform((s) => Buffer.from(s, 'utf8').toString('utf8'));

export const AuditEventSchema = z.strictObject({
  account: text(NAME_MAX).nullish(),
  device: text(NAME_MAX).nullish(),
  action: AuditActionSchema,
  workstation: text(NAME_MAX),
  ip: text(NAME_MAX),
  outcome: AuditOutcomeSchema,
  /** Short free text for people. Never a secret: no password, code, recovery code or key. */
  detail: text(DETAIL_MAX).nullish(),
});
export type AuditEvent = z.input<typeof AuditEventSchema>;

export interface AuditRow {
  id: number;
  /** Milliseconds since the epoch, from the injected clock. */
  time: number;
  account: string | null;
  device: string | null;
  action: AuditAction;
  workstation: string;
  ip: string;
  outcome: AuditOutcome;
  detail: string | null;
}

/**
 * The filter is the contract's (declared once in src-shared); a query adds the page to it. `from`
 * is inclusive and `to` exclusive, so consecutive ranges never count a row twice.
 */
export const AuditExportFilterSchema = WireAuditFilterSchema;
export const AuditFilterSchema = z.strictObject({
  ...WireAuditFilterSchema.shape,
  ...AuditPageShape,
});
export type AuditFilter = z.input<typeof AuditFilterSchema>;

export type AuditExportFilter = z.input<typeof AuditExportFilterSchema>;

export type AuditVerifyResult =
  | { ok: true; rows: number }
  /** `rows` counts the rows that verified before the first broken one. */
  | { ok: false; rows: number; firstBrokenId: number; reason: string };

export const AUDIT_CSV_HEADER = 'time,account,device,action,workstation,ip,outcome,detail';

/** The first row chains to this. */
const GENESIS_MAC = Buffer.alloc(32);
/** Names what the MAC covers, so a MAC made under this key for anything else never fits a row. */
const MAC_LABEL = 'twofold/v1/audit-row';
const COLUMNS = 'id, time, account, device, action, workstation, ip, outcome, detail';

interface StoredRow extends AuditRow {
  prev_mac: Buffer;
  mac: Buffer;
}

export class AuditLog {
  /**
   * The chain is an HMAC, not a plain hash, because `macKey` is derived from the vault key in the
   * OS keychain: someone who can edit the database file cannot recompute a valid chain after an edit.
   */
  constructor(
    private readonly store: Store,
    private readonly macKey: Buffer,
    private readonly clock: Clock,
  ) {
    if (macKey.length < KEY_BYTES) {
      throw new CoreError('INTERNAL', 'The audit log key is too short.');
    }
  }

  append(event: AuditEvent): AuditRow {
    const parsed = AuditEventSchema.safeParse(event);
    if (!parsed.success) {
      throw new CoreError('INTERNAL', 'An audit event was malformed, so it was not recorded.');
    }
    const e = parsed.data;
    // One write transaction: reading the head and inserting after it cannot interleave with another writer.
    return this.store.tx(() => {
      const last = this.store.db.prepare('SELECT id, mac FROM audit_log ORDER BY id DESC LIMIT 1').get() as { id: number; mac: Buffer } | undefined;
      const row: AuditRow = {
        id: (last?.id ?? 0) + 1,
        time: Math.floor(this.clock.now()),
        account: e.account ?? null,
        device: e.device ?? null,
        action: e.action,
        workstation: e.workstation,
        ip: e.ip,
        outcome: e.outcome,
        detail: e.detail ?? null,
      };
      const prevMac = last?.mac ?? GENESIS_MAC;
      this.store.db
        .prepare(`INSERT INTO audit_log (${COLUMNS}, prev_mac, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(row.id, row.time, row.account, row.device, row.action, row.workstation, row.ip, row.outcome, row.detail, prevMac, this.mac(prevMac, row));
      return row;
    });
  }

  /** Newest first (append order, which a clock set back cannot reorder). */
  query(filter: AuditFilter = {}): { rows: AuditRow[]; total: number } {
    const f = parseFilter(AuditFilterSchema, filter);
    const { where, params } = whereClause(f);
    // One read transaction, so the page and the total come from the same snapshot.
    return this.store.db.transaction(() => {
      const total = this.store.db.prepare(`SELECT count(*) FROM audit_log ${where}`).pluck().get(params) as number;
      const rows = this.store.db
        .prepare(`SELECT ${COLUMNS} FROM audit_log ${where} ORDER BY id DESC LIMIT @limit OFFSET @offset`)
        .all({ ...params, limit: f.limit, offset: f.offset }) as AuditRow[];
      return { rows, total };
    })();
  }

  /** RFC 4180 CSV (CRLF line ends), newest first like the screen, every matching row. */
  exportCsv(filter: AuditExportFilter = {}): string {
    const { where, params } = whereClause(parseFilter(AuditExportFilterSchema, filter));
    const lines = [AUDIT_CSV_HEADER];
    const rows = this.store.db.prepare(`SELECT ${COLUMNS} FROM audit_log ${where} ORDER BY id DESC`).iterate(params) as IterableIterator<AuditRow>;
    for (const r of rows) {
      const fields = [new Date(r.time).toISOString(), r.account, r.device, r.action, r.workstation, r.ip, r.outcome, r.detail];
      lines.push(fields.map(csvField).join(','));
    }
    return lines.map((line) => `${line}\r\n`).join('');
  }

  /**
   * Recompute the chain in id order and report the first row that breaks it. The chain cannot
   * see rows cut off the end (the last row then just looks like the head); it shows every other
   * edit, insertion or deletion.
   */
  verify(): AuditVerifyResult {
    return this.store.db.transaction((): AuditVerifyResult => {
      const rows = this.store.db.prepare(`SELECT ${COLUMNS}, prev_mac, mac FROM audit_log ORDER BY id`).iterate() as IterableIterator<StoredRow>;
      let prevId = 0;
      let prevMac: Buffer = GENESIS_MAC;
      let good = 0;
      for (const r of rows) {
        const broken = (reason: string): AuditVerifyResult => ({ ok: false, rows: good, firstBrokenId: r.id, reason });
        if (r.id !== prevId + 1) return broken(`The entry before entry ${r.id} is missing.`);
        if (!constantTimeEqual(r.prev_mac, prevMac)) return broken(`Entry ${r.id} does not link to the entry before it.`);
        if (!constantTimeEqual(r.mac, this.mac(r.prev_mac, r))) {
          return broken(`Entry ${r.id} was changed after it was written, or the log was written under another key.`);
        }
        prevId = r.id;
        prevMac = r.mac;
        good++;
      }
      return { ok: true, rows: good };
    })();
  }

  /**
   * HMAC-SHA-256(key, prev_mac || JSON array of the fields). JSON quotes and escapes each value
   * and keeps its position, so text cannot slide from one column into the next.
   */
  private mac(prevMac: Buffer, r: AuditRow): Buffer {
    const fields = [MAC_LABEL, r.id, r.time, r.account, r.device, r.action, r.workstation, r.ip, r.outcome, r.detail];
    return createHmac('sha256', this.macKey).update(prevMac).update(JSON.stringify(fields), 'utf8').digest();
  }
}

function parseFilter<S extends z.ZodType>(schema: S, filter: unknown): z.output<S> {
  const parsed = schema.safeParse(filter);
  if (!parsed.success) throw new CoreError('BAD_INPUT', 'That audit log filter is not valid.');
  return parsed.data;
}

const CONDITIONS = {
  from: 'time >= @from',
  to: 'time < @to',
  action: 'action = @action',
  actions: 'action IN (SELECT value FROM json_each(@actions))',
  outcome: 'outcome = @outcome',
  account: 'account = @account',
} as const;

function whereClause(f: z.output<typeof AuditExportFilterSchema>): { where: string; params: Record<string, unknown> } {
  const keys = (Object.keys(CONDITIONS) as (keyof typeof CONDITIONS)[]).filter((k) => f[k] !== undefined);
  return {
    where: keys.length ? `WHERE ${keys.map((k) => CONDITIONS[k]).join(' AND ')}` : '',
    params: Object.fromEntries(keys.map((k) => [k, k === 'actions' ? JSON.stringify(f.actions) : f[k]])),
  };
}

/**
 * One CSV field. A spreadsheet runs a cell that starts with =, +, -, @ (or a tab or CR before
 * one) as a formula, and account, workstation and detail text can come from whoever typed at the
 * gate; a leading ' makes it plain text (OWASP's CSV injection advice). Then RFC 4180 quoting.
 */
function csvField(value: string | null): string {
  if (value === null) return '';
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}
