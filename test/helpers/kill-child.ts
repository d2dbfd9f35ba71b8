/**
 * The crash tests' child runs: a Node child (through tsx) that prints "started" when its work
 * begins, killed with SIGKILL `killAfterMs` later if it still runs. Resolves once it is gone.
 */
import { spawn } from 'node:child_process';

export interface ChildRun {
  killed: boolean;
  stdout: string;
  /** Milliseconds from "started" to the end (0 if it never started). */
  workMs: number;
}

export function runKilledAfter(script: string, args: string[], env: NodeJS.ProcessEnv, killAfterMs: number): Promise<ChildRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let startedAt = 0;
  let timer: NodeJS.Timeout | undefined;
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (!startedAt && stdout.includes('started')) {
      startedAt = Date.now();
      timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    }
  });
  return new Promise((resolve) => {
    child.on('close', (_code, signal) => {
      clearTimeout(timer);
      resolve({ killed: signal === 'SIGKILL', stdout, workMs: startedAt ? Date.now() - startedAt : 0 });
    });
  });
}
