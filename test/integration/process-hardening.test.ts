/**
 * The process that holds the keys (src-main/api/process-tuning.ts, called by both shells) writes
 * no core file and, on Linux, is not dumpable: checked from outside the process where the kernel
 * shows it (/proc/<pid>/limits), and by the kernel's own answer (PR_GET_DUMPABLE) inside.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const TUNING = fileURLToPath(new URL('../../src-main/api/process-tuning.ts', import.meta.url));
const children: ChildProcess[] = [];

/** A Node child that calls tuneProcess() (or not), prints the result and stays alive to be looked at. */
async function child(tune: boolean): Promise<{ pid: number; result: unknown }> {
  const script = tune
    ? `const { tuneProcess } = await import(${JSON.stringify(TUNING)}); console.log(JSON.stringify(tuneProcess())); setInterval(() => {}, 1000);`
    : `console.log('null'); setInterval(() => {}, 1000);`;
  const proc = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(proc);
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0]!);
    });
    proc.on('exit', (code) => reject(new Error(`child exited with ${code}`)));
  });
  return { pid: proc.pid!, result: JSON.parse(line) };
}

/** [soft, hard] core-file limits of a process, as the kernel lists them. */
function coreLimits(pid: number): [string, string] {
  const row = readFileSync(`/proc/${pid}/limits`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max core file size'))!;
  const [soft, hard] = row.slice('Max core file size'.length).trim().split(/\s+/);
  return [soft!, hard!];
}

afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

describe.runIf(process.platform === 'linux')('the key-holding process is hardened at start', () => {
  it('sets both core-file limits to zero, so nothing the process does later can raise them', async () => {
    const plain = await child(false);
    expect(coreLimits(plain.pid)[1]).not.toBe('0'); // the test machine allows raising it: the check below means something
    const tuned = await child(true);
    expect(coreLimits(tuned.pid)).toEqual(['0', '0']);
  });

  it('is not dumpable (no same-user ptrace or /proc/<pid>/mem), and says so', async () => {
    const tuned = await child(true);
    expect(tuned.result).toEqual({ coreDumps: false, dumpable: false });
  });
});
