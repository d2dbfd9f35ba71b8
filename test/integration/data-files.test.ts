/** The data folder on disk: private to the user (folder 0700, files 0600), and a log whose `level` is always a severity. */
import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { logLine } from '../../src-main/core/platform/logger.js';
import { DATABASE_FILE } from '../../src-main/core/platform/store.js';
import { makeTestApp, STRONG_PASSWORD, type TestApp } from '../helpers/app.js';

let t: TestApp | undefined;
afterEach(() => {
  t?.remove();
  t = undefined;
});

const mode = (path: string) => statSync(path).mode & 0o777;

describe('the data folder', () => {
  it('keeps the database, its -wal and -shm, and the log 0600, and the folders 0700', async () => {
    t = makeTestApp();
    await t.ok('account.setup', { accountName: 'Ada', password: STRONG_PASSWORD });
    await t.ok('gate.lock', {});
    const files = readdirSync(t.dataDir);
    expect(files).toEqual(expect.arrayContaining([DATABASE_FILE, `${DATABASE_FILE}-wal`, `${DATABASE_FILE}-shm`, 'logs']));
    for (const f of [DATABASE_FILE, `${DATABASE_FILE}-wal`, `${DATABASE_FILE}-shm`, join('logs', 'twofold.log')]) {
      expect([f, mode(join(t.dataDir, f)).toString(8)]).toEqual([f, '600']);
    }
    expect(mode(t.dataDir).toString(8)).toBe('700');
    expect(mode(join(t.dataDir, 'logs')).toString(8)).toBe('700');
  });

  it('tightens files and folders an earlier version left readable by others', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'twofold-modes-'));
    mkdirSync(join(dataDir, 'logs'));
    closeSync(openSync(join(dataDir, 'logs', 'twofold.log'), 'a', 0o644));
    chmodSync(dataDir, 0o755);
    chmodSync(join(dataDir, 'logs'), 0o755);
    chmodSync(join(dataDir, 'logs', 'twofold.log'), 0o644);
    t = makeTestApp({ dataDir });
    await t.ok('account.setup', { accountName: 'Ada', password: STRONG_PASSWORD });
    t.close();
    chmodSync(join(dataDir, DATABASE_FILE), 0o644);
    t = t.reopen();
    await t.ok('gate.submitPassword', { password: STRONG_PASSWORD });
    expect(mode(dataDir).toString(8)).toBe('700');
    expect(mode(join(dataDir, 'logs')).toString(8)).toBe('700');
    expect(mode(join(dataDir, 'logs', 'twofold.log')).toString(8)).toBe('600');
    expect(mode(join(dataDir, DATABASE_FILE)).toString(8)).toBe('600');
  });

  it('writes a severity, and only a severity, in every log line’s level', async () => {
    t = makeTestApp();
    await t.ok('account.setup', { accountName: 'Ada', password: STRONG_PASSWORD });
    await t.ok('gate.lock', {});
    await t.call('gate.submitPassword', { password: 'a wrong password 12' });
    await t.ok('gate.submitPassword', { password: STRONG_PASSWORD });
    const lines = readFileSync(join(t.dataDir, 'logs', 'twofold.log'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) expect(['info', 'warn', 'error']).toContain(line.level);
    expect(lines).toContainEqual(expect.objectContaining({ level: 'info', message: 'password accepted', sessionLevel: 'unlocked' }));
  });

  it('keeps a call site’s field named like the logger’s own under another name', () => {
    const line = JSON.parse(logLine('2026-11-22T12:00:00.000Z', 'warn', 'm', { level: 'unlocked', time: 1, message: 'x', other: true }));
    expect(line).toEqual({
      time: '2026-11-22T12:00:00.000Z',
      level: 'warn',
      message: 'm',
      'field.level': 'unlocked',
      'field.time': 1,
      'field.message': 'x',
      other: true,
    });
  });
});
