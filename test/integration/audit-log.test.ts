import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AUDIT_CSV_HEADER, AuditLog, type AuditEvent } from '../../src-main/core/gate/audit.js';
import type { Clock } from '../../src-main/core/platform/clock.js';
import { randomKey } from '../../src-main/core/platform/crypto.js';
import { openStore, type Store } from '../../src-main/core/platform/store.js';

class TestClock implements Clock {
  constructor(public t = Date.UTC(2026, 0, 2, 3, 4, 5, 678)) {}
  now(): number {
    return this.t;
  }
}

const T0 = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
const KEY = randomKey();
const AT = { workstation: 'desk-1', ip: '10.0.0.3' } as const;

let dir: string;
let store: Store;
let clock: TestClock;

function setup(): AuditLog {
  dir = mkdtempSync(join(tmpdir(), 'twofold-audit-'));
  store = openStore(dir);
  clock = new TestClock(T0);
  return new AuditLog(store, KEY, clock);
}

afterEach(() => {
  if (store?.db.open) store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Five events, one second apart. */
function fill(log: AuditLog): void {
  const events: AuditEvent[] = [
    { ...AT, account: 'Ada', action: 'password.failed', outcome: 'failure' },
    { ...AT, account: 'Ada', action: 'password.ok', outcome: 'success' },
    { ...AT, account: 'Ada', device: 'Phone', action: 'factor.failed', outcome: 'failure', detail: 'sign-in, totp' },
    { ...AT, account: 'Ada', device: 'Phone', action: 'factor.ok', outcome: 'success' },
    { ...AT, account: 'Bob', action: 'setup', outcome: 'info' },
  ];
  for (const e of events) {
    log.append(e);
    clock.t += 1000;
  }
}

/** A second connection that edits the file as an attacker would, with the triggers dropped. */
function tamper(sql: string): void {
  const raw = new Database(store.path);
  for (const t of ['no_update', 'no_delete', 'no_replace']) raw.exec(`DROP TRIGGER IF EXISTS audit_log_${t}`);
  raw.exec(sql);
  raw.close();
}

const ids = (r: { rows: { id: number }[] }) => r.rows.map((row) => row.id);

describe('the audit log', () => {
  it('chains each row to the one before and verifies', () => {
    const log = setup();
    expect(log.verify()).toEqual({ ok: true, rows: 0 });
    fill(log);
    const stored = store.db.prepare('SELECT id, time, prev_mac, mac FROM audit_log ORDER BY id').all() as {
      id: number;
      time: number;
      prev_mac: Buffer;
      mac: Buffer;
    }[];
    expect(stored.map((r) => r.id)).toEqual([1, 2, 3, 4, 5]);
    expect(stored[0]!.prev_mac).toEqual(Buffer.alloc(32));
    for (let i = 1; i < stored.length; i++) expect(stored[i]!.prev_mac).toEqual(stored[i - 1]!.mac);
    expect(stored.every((r) => r.mac.length === 32)).toBe(true);
    expect(stored[4]!.time).toBe(T0 + 4000);
    expect(log.verify()).toEqual({ ok: true, rows: 5 });
  });

  it('returns the row it appended, with nulls for what was left out', () => {
    const log = setup();
    expect(log.append({ ...AT, action: 'locked', outcome: 'info' })).toEqual({
      id: 1,
      time: T0,
      account: null,
      device: null,
      action: 'locked',
      workstation: 'desk-1',
      ip: '10.0.0.3',
      outcome: 'info',
      detail: null,
    });
  });

  it('refuses a malformed event and a short key', () => {
    const log = setup();
    expect(() => log.append({ ...AT, action: 'password.guessed' as never, outcome: 'failure' })).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
    expect(() => log.append({ ...AT, action: 'lockout', outcome: 'failure', detail: 'x'.repeat(501) })).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
    expect(store.db.prepare('SELECT count(*) FROM audit_log').pluck().get()).toBe(0);
    expect(() => new AuditLog(store, Buffer.alloc(16), clock)).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
  });

  it('queries newest first, filtered by time range, action, outcome and account', () => {
    const log = setup();
    fill(log);
    expect(ids(log.query({}))).toEqual([5, 4, 3, 2, 1]);
    expect(log.query({}).total).toBe(5);
    // `from` inclusive, `to` exclusive.
    expect(log.query({ from: T0 + 1000, to: T0 + 3000 })).toMatchObject({ total: 2 });
    expect(ids(log.query({ from: T0 + 1000, to: T0 + 3000 }))).toEqual([3, 2]);
    expect(ids(log.query({ from: T0 + 3000 }))).toEqual([5, 4]);
    expect(ids(log.query({ to: T0 + 1 }))).toEqual([1]);
    expect(ids(log.query({ action: 'factor.failed' }))).toEqual([3]);
    expect(log.query({ action: 'factor.failed' }).rows[0]).toEqual({
      id: 3,
      time: T0 + 2000,
      account: 'Ada',
      device: 'Phone',
      action: 'factor.failed',
      workstation: 'desk-1',
      ip: '10.0.0.3',
      outcome: 'failure',
      detail: 'sign-in, totp',
    });
    expect(ids(log.query({ outcome: 'failure' }))).toEqual([3, 1]);
    expect(ids(log.query({ account: 'Bob' }))).toEqual([5]);
    expect(ids(log.query({ account: 'Ada', outcome: 'success', from: T0 + 2000 }))).toEqual([4]);
    expect(log.query({ action: 'push.sent' })).toEqual({ rows: [], total: 0 });
  });

  it('filters by any of several actions, as a person asks for "failed attempts" or "locks and lockouts"', () => {
    const log = setup();
    fill(log);
    expect(ids(log.query({ actions: ['password.failed', 'factor.failed'] }))).toEqual([3, 1]);
    expect(ids(log.query({ actions: ['factor.ok', 'setup'], account: 'Ada' }))).toEqual([4]);
    expect(log.exportCsv({ actions: ['password.ok'] }).split('\r\n')).toHaveLength(3); // header, one row, final newline
    expect(() => log.query({ actions: [] })).toThrow('That audit log filter is not valid.');
  });

  it('pages with limit and offset, and reports the total of all matches', () => {
    const log = setup();
    fill(log);
    expect(log.query({ limit: 2 })).toMatchObject({ total: 5 });
    expect(ids(log.query({ limit: 2 }))).toEqual([5, 4]);
    expect(ids(log.query({ limit: 2, offset: 2 }))).toEqual([3, 2]);
    expect(ids(log.query({ limit: 2, offset: 4 }))).toEqual([1]);
    expect(log.query({ limit: 2, offset: 6 })).toEqual({ rows: [], total: 5 });
    expect(log.query({ account: 'Ada', limit: 3, offset: 1 })).toMatchObject({ total: 4 });
    expect(ids(log.query({ account: 'Ada', limit: 3, offset: 1 }))).toEqual([3, 2, 1]);
  });

  it('defaults to 100 rows a page and refuses more than 1000 or a bad filter', () => {
    const log = setup();
    for (let i = 0; i < 105; i++) log.append({ ...AT, action: 'locked', outcome: 'info' });
    expect(log.query({})).toMatchObject({ total: 105 });
    expect(log.query({}).rows).toHaveLength(100);
    expect(log.query({ limit: 1000 }).rows).toHaveLength(105);
    for (const bad of [{ limit: 1001 }, { limit: 0 }, { offset: -1 }, { action: 'nope' }, { from: 1.5 }, { extra: 1 }]) {
      expect(() => log.query(bad as never)).toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
    }
  });

  it('exports RFC 4180 CSV, quoting commas, quotes and newlines and defusing formulas', () => {
    const log = setup();
    log.append({
      account: 'Lovelace, Ada',
      device: 'Pixel "8"',
      action: 'factor.failed',
      workstation: 'desk-1',
      ip: '192.0.2.7',
      outcome: 'failure',
      detail: 'first line\nsecond line',
    });
    clock.t += 1000;
    log.append({
      account: '=HYPERLINK("http://evil.example","x")',
      action: 'password.failed',
      workstation: '-2+3',
      ip: '::1',
      outcome: 'failure',
      detail: '@SUM(A1)',
    });
    expect(log.exportCsv()).toBe(
      `${AUDIT_CSV_HEADER}\r\n` +
        `2026-01-02T03:04:06.678Z,"'=HYPERLINK(""http://evil.example"",""x"")",,password.failed,'-2+3,::1,failure,'@SUM(A1)\r\n` +
        `2026-01-02T03:04:05.678Z,"Lovelace, Ada","Pixel ""8""",factor.failed,desk-1,192.0.2.7,failure,"first line\nsecond line"\r\n`,
    );
    expect(AUDIT_CSV_HEADER).toBe('time,account,device,action,workstation,ip,outcome,detail');
  });

  it('defuses a formula behind a leading tab or CR, and filters the export like a query', () => {
    const log = setup();
    log.append({ ...AT, action: 'lockout', outcome: 'failure', detail: '\t=1+1' });
    log.append({ ...AT, action: 'locked', outcome: 'info', detail: '\r=1+1' });
    log.append({ ...AT, action: 'locked', outcome: 'info', detail: '+1' });
    expect(log.exportCsv({ action: 'lockout' })).toBe(`${AUDIT_CSV_HEADER}\r\n2026-01-02T03:04:05.678Z,,,lockout,desk-1,10.0.0.3,failure,'\t=1+1\r\n`);
    expect(log.exportCsv({ action: 'locked' }).split('\r\n')).toEqual([
      AUDIT_CSV_HEADER,
      "2026-01-02T03:04:05.678Z,,,locked,desk-1,10.0.0.3,info,'+1",
      `2026-01-02T03:04:05.678Z,,,locked,desk-1,10.0.0.3,info,"'\r=1+1"`,
      '',
    ]);
    expect(log.exportCsv({ account: 'nobody' })).toBe(`${AUDIT_CSV_HEADER}\r\n`);
  });

  it('refuses UPDATE, DELETE and INSERT OR REPLACE through the triggers, even from our own connection', () => {
    const log = setup();
    fill(log);
    expect(() => store.db.prepare("UPDATE audit_log SET outcome = 'success' WHERE id = 1").run()).toThrow(/append-only/);
    expect(() => store.db.prepare('DELETE FROM audit_log WHERE id = 2').run()).toThrow(/append-only/);
    expect(() => store.db.prepare('DELETE FROM audit_log').run()).toThrow(/append-only/);
    expect(() =>
      store.db
        .prepare(
          `INSERT OR REPLACE INTO audit_log (id, time, action, workstation, ip, outcome, prev_mac, mac)
           VALUES (2, 0, 'setup', 'x', 'x', 'info', zeroblob(32), zeroblob(32))`,
        )
        .run(),
    ).toThrow(/append-only/);
    expect(log.verify()).toEqual({ ok: true, rows: 5 });
  });

  it.each([
    ['outcome', "UPDATE audit_log SET outcome = 'success' WHERE id = 3"],
    ['time', 'UPDATE audit_log SET time = time - 1 WHERE id = 3'],
    ['account', 'UPDATE audit_log SET account = NULL WHERE id = 3'],
    ['detail', "UPDATE audit_log SET detail = 'nothing happened' WHERE id = 3"],
    // Text slid from one column into the next: a plain concatenation would not see it.
    ['workstation/ip boundary', "UPDATE audit_log SET workstation = 'desk-', ip = '110.0.0.3' WHERE id = 3"],
  ])('reports an edited %s at the edited row', (_column, sql) => {
    const log = setup();
    fill(log);
    tamper(sql);
    expect(log.verify()).toEqual({
      ok: false,
      rows: 2,
      firstBrokenId: 3,
      reason: 'Entry 3 was changed after it was written, or the log was written under another key.',
    });
  });

  it('reports a deleted row at the row after it', () => {
    const log = setup();
    fill(log);
    tamper('DELETE FROM audit_log WHERE id = 2');
    expect(log.verify()).toEqual({ ok: false, rows: 1, firstBrokenId: 3, reason: 'The entry before entry 3 is missing.' });
  });

  it('reports a deleted first row, and a row renumbered to close a gap', () => {
    const log = setup();
    fill(log);
    tamper('DELETE FROM audit_log WHERE id = 1');
    expect(log.verify()).toMatchObject({ ok: false, rows: 0, firstBrokenId: 2 });
    tamper('UPDATE audit_log SET id = id - 1');
    expect(log.verify()).toEqual({
      ok: false,
      rows: 0,
      firstBrokenId: 1,
      reason: 'Entry 1 does not link to the entry before it.',
    });
  });

  it('fails at row 1 under a different key', () => {
    const log = setup();
    fill(log);
    expect(new AuditLog(store, randomKey(), clock).verify()).toEqual({
      ok: false,
      rows: 0,
      firstBrokenId: 1,
      reason: 'Entry 1 was changed after it was written, or the log was written under another key.',
    });
  });

  it('keeps the chain valid across a reopen and continues it', () => {
    fill(setup());
    store.close();
    store = openStore(dir);
    const log = new AuditLog(store, KEY, clock);
    expect(log.verify()).toEqual({ ok: true, rows: 5 });
    expect(log.append({ ...AT, account: 'Ada', action: 'step-up.ok', outcome: 'success' }).id).toBe(6);
    expect(log.verify()).toEqual({ ok: true, rows: 6 });
    const [five, six] = store.db.prepare('SELECT mac, prev_mac FROM audit_log WHERE id >= 5 ORDER BY id').all() as {
      mac: Buffer;
      prev_mac: Buffer;
    }[];
    expect(six!.prev_mac).toEqual(five!.mac);
  });

  it('stores text exactly as it will read it back, so odd characters do not look like tampering', () => {
    const log = setup();
    log.append({ ...AT, account: 'A\u0000da \ud800 Ωmega 🙂', action: 'setup', outcome: 'info', detail: 'ß"\\\n' });
    expect(log.verify()).toEqual({ ok: true, rows: 1 });
    expect(log.query({}).rows[0]!.account).toBe('A\u0000da \ufffd Ωmega 🙂');
  });
});
