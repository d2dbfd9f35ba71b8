/**
 * One process per data folder (src-main/core/platform/instance-lock.ts): a second app on the same
 * data folder would run every scheduled backup a second time. Other processes are real children;
 * the lock file is on disk.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { holdDataFolder, INSTANCE_LOCK_FILE } from '../../src-main/core/platform/instance-lock.js';
import { makeTestApp } from '../helpers/app.js';

const LOCK_MODULE = fileURLToPath(new URL('../../src-main/core/platform/instance-lock.ts', import.meta.url));
let dir: string;
const children: ChildProcess[] = [];

/** Another process that holds `dir`, alive until killed; resolves once it holds it. */
async function otherHolder(): Promise<ChildProcess> {
  const script = `const { holdDataFolder } = await import(${JSON.stringify(LOCK_MODULE)}); holdDataFolder(${JSON.stringify(dir)}); console.log('held'); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('held') && resolve());
    child.on('exit', (code) => reject(new Error(`holder exited with ${code}`)));
  });
  return child;
}

function killed(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.on('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

const lockFile = () => join(dir, INSTANCE_LOCK_FILE);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'twofold-instance-'));
});
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('one process per data folder', () => {
  it('refuses a second process while the first lives, naming it, and leaves its lock alone', async () => {
    const first = await otherHolder();
    const before = readFileSync(lockFile(), 'utf8');
    expect(() => holdDataFolder(dir)).toThrow(
      expect.objectContaining({
        code: 'ALREADY_RUNNING',
        message: `Twofold Backup is already running with this data folder (process ${first.pid}). Use that window or console, or quit it first.`,
      }),
    );
    expect(readFileSync(lockFile(), 'utf8')).toBe(before);
    expect(statSync(lockFile()).mode & 0o777).toBe(0o600);
  });

  it('refuses to build a second app on the folder before it opens the database', async () => {
    await otherHolder();
    expect(() => makeTestApp({ dataDir: dir })).toThrow(expect.objectContaining({ code: 'ALREADY_RUNNING' }));
    expect(existsSync(join(dir, 'twofold.db'))).toBe(false);
  });

  it('takes over the lock of a process that was killed', async () => {
    const first = await otherHolder();
    await killed(first);
    const lock = holdDataFolder(dir);
    expect(JSON.parse(readFileSync(lockFile(), 'utf8'))).toMatchObject({ pid: process.pid });
    lock.release();
    lock.release(); // idempotent
    expect(existsSync(lockFile())).toBe(false);
  });

  it('takes over a lock whose pid now belongs to a process started at another time (a pid reused after a reboot)', async () => {
    const unrelated = await otherHolder(); // a live pid; its lock file is then rewritten with another start time
    writeFileSync(lockFile(), JSON.stringify({ pid: unrelated.pid, started: 1 }));
    const lock = holdDataFolder(dir);
    expect(JSON.parse(readFileSync(lockFile(), 'utf8'))).toMatchObject({ pid: process.pid });
    lock.release();
  });

  it('takes over a lock file with no readable holder', () => {
    writeFileSync(lockFile(), '');
    const lock = holdDataFolder(dir);
    expect(JSON.parse(readFileSync(lockFile(), 'utf8'))).toMatchObject({ pid: process.pid });
    lock.release();
  });

  it('is shared by the cores of one process and given up when the last one closes', () => {
    const a = makeTestApp({ dataDir: dir });
    const b = makeTestApp({ dataDir: dir });
    a.close();
    expect(existsSync(lockFile())).toBe(true);
    b.close();
    expect(existsSync(lockFile())).toBe(false);
  });
});
