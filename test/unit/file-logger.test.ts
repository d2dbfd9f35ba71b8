import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createFileLogger, LOG_FILE } from '../../src-main/core/platform/logger.js';

const dirs: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'twofold-logger-'));
  dirs.push(dir);
  return dir;
}

describe('the file logger', () => {
  it('writes JSON lines, readable by the owner only', () => {
    const dir = dataDir();
    const logger = createFileLogger(dir, () => Date.UTC(2026, 11, 3, 12));
    logger.warn('state anchor not written', { code: 'KEYCHAIN_UNAVAILABLE', level: 'x' });
    const file = join(dir, LOG_FILE);
    expect(readFileSync(file, 'utf8')).toBe(
      '{"time":"2026-12-03T12:00:00.000Z","level":"warn","message":"state anchor not written","code":"KEYCHAIN_UNAVAILABLE","field.level":"x"}\n',
    );
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('never throws when the log cannot be written, and says so on stderr once', () => {
    const dir = dataDir();
    const logger = createFileLogger(dir);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    rmSync(join(dir, 'logs'), { recursive: true });
    expect(() => logger.warn('one')).not.toThrow();
    expect(() => logger.error('two')).not.toThrow();
    expect(stderr.mock.calls.map((c) => String(c[0]))).toEqual(['Twofold Backup could not write its log file (ENOENT).\n']);
  });
});
