/** Runs test/helpers/child-app.ts in a new Node process (through tsx) and collects its output. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./child-app.ts', import.meta.url));

export interface ChildScript {
  dataDir: string;
  now?: number;
  calls: { method: string; input: unknown; useLastProof?: boolean }[];
}

export function spawnChild(script: ChildScript, env: NodeJS.ProcessEnv = process.env): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(script)], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export interface ChildOutput {
  lines: Record<string, unknown>[];
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
}

export function collect(child: ChildProcess): Promise<ChildOutput> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      const lines = stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      resolve({ lines, stderr, code, signal });
    });
  });
}

export async function runChild(script: ChildScript, env?: NodeJS.ProcessEnv): Promise<ChildOutput> {
  return collect(spawnChild(script, env));
}

/** The results of a child's calls, in order. */
export function results(output: ChildOutput): unknown[] {
  return output.lines.filter((l) => 'result' in l).map((l) => l.result);
}
