/**
 * Errors are values, never crashes. A process with the guards (src-shared/process-guards.ts)
 * logs an unhandled rejection and an uncaught exception, without their messages, and goes on;
 * and the real console, started as its own process, serves a restore and a check of a damaged
 * repository to the end (each damaged part named), keeps answering afterwards, and never needed
 * its last line of defence to do so.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobViewDto } from '../../src-shared/contract-backup.js';
import type { InputOf, MethodName, OutputOf } from '../../src-shared/contract.js';
import type { ApiResult } from '../../src-shared/errors.js';
import { Repository } from '../../src-main/core/backup/engine/repository.js';
import { flipByte, pseudoRandom, removeTree, tempDir } from '../helpers/backup-fixtures.js';
import { STRONG_PASSWORD } from '../helpers/app.js';
import { folderStorage } from '../../src-main/core/backup/engine/storage/folder.js';
import { packFile } from '../helpers/repo-files.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

let work: string;
let child: ChildProcess | null = null;

beforeEach(() => {
  work = tempDir('guards');
});
afterEach(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  child = null;
  removeTree(work);
});

/** Run a TypeScript file in its own Node process (through tsx); its output and exit code. */
function runTs(file: string): Promise<{ stdout: string; stderr: string; code: number | null }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', file], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  child = proc;
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => proc.on('close', (code) => resolve({ stdout, stderr, code })));
}

describe('the process guards', () => {
  it('log an unhandled rejection and an uncaught exception by kind, code and place, never their message, and the process goes on', async () => {
    const script = join(work, 'faulty.ts');
    writeFileSync(
      script,
      `import { installProcessGuards } from ${JSON.stringify(join(ROOT, 'src-shared', 'process-guards.ts'))};
installProcessGuards(process, (message, fields) => process.stdout.write(JSON.stringify({ message, ...fields }) + '\\n'));
void Promise.reject(Object.assign(new Error('the secret is 123456'), { code: 'EXAMPLE' }));
setTimeout(() => { throw new TypeError('password hunter2'); }, 0);
setTimeout(() => { process.stdout.write(JSON.stringify({ alive: true }) + '\\n'); }, 50);
`,
    );
    const { stdout, code } = await runTs(script);
    expect(code).toBe(0);
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([
      { message: 'unhandled promise rejection (the process goes on)', kind: 'Error', code: 'EXAMPLE', where: expect.stringMatching(/^at .*faulty\.ts:3:/) },
      { message: 'uncaught exception (the process goes on)', kind: 'TypeError', code: null, where: expect.stringMatching(/faulty\.ts:4:/) },
      { alive: true },
    ]);
    expect(stdout).not.toMatch(/123456|hunter2/);
  });
});

/** The console as a user starts it, in a process of its own, driven over its HTTP API. */
class ConsoleProcess {
  private cookie = '';
  constructor(
    readonly proc: ChildProcess,
    readonly origin: string,
  ) {}

  static async start(dataDir: string): Promise<ConsoleProcess> {
    const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src-main', 'console', 'main.ts'), '--data-dir', dataDir, '--port', '0'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child = proc;
    const loginUrl = await new Promise<string>((resolve, reject) => {
      let out = '';
      proc.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /open:\s+(\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      proc.once('exit', (code) => reject(new Error(`the console exited (${code})`)));
    });
    const c = new ConsoleProcess(proc, new URL(loginUrl).origin);
    const login = await fetch(loginUrl, { redirect: 'manual' });
    c.cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    return c;
  }

  async call<M extends MethodName>(method: M, input: InputOf<M>): Promise<ApiResult<OutputOf<M>>> {
    const r = await fetch(`${this.origin}/api/call`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: this.cookie },
      body: JSON.stringify({ method, input }),
    });
    return (await r.json()) as ApiResult<OutputOf<M>>;
  }

  async ok<M extends MethodName>(method: M, input: InputOf<M>): Promise<OutputOf<M>> {
    const r = await this.call(method, input);
    if (!r.ok) throw new Error(`${method}: ${r.error.code} ${r.error.message}`);
    return r.value;
  }

  /** Poll a job until it ends, as the UI does. */
  async job(jobId: string): Promise<JobViewDto> {
    for (;;) {
      const job = await this.ok('backup.jobs.get', { jobId });
      if (job.state !== 'running') return job;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

describe('the console process and a damaged repository', () => {
  it('restores and checks it to the end, naming each damaged part, and keeps serving', { timeout: 120_000 }, async () => {
    const source = join(work, 'Documents');
    mkdirSync(join(source, 'letters'), { recursive: true });
    mkdirSync(join(source, 'papers'));
    for (let i = 0; i < 5; i++) writeFileSync(join(source, 'letters', `letter-${i}.txt`), `Dear reader ${i},\n`);
    writeFileSync(join(source, 'papers', 'thesis.pdf'), pseudoRandom('thesis', 2_000_000));
    writeFileSync(join(source, 'notes.txt'), 'notes\n');
    const dataDir = join(work, 'data');
    const c = await ConsoleProcess.start(dataDir);

    await c.ok('account.setup', { accountName: 'Ada', password: STRONG_PASSWORD });
    const { repository, password } = await c.ok('backup.repositories.init', { name: 'Drive', path: join(work, 'repo') });
    const set = await c.ok('backup.sets.create', { name: 'Documents', repositoryId: repository.id, sources: [source] });
    const backedUp = await c.job((await c.ok('backup.sets.run', { setId: set.id })).jobId);
    if (backedUp.kind !== 'backup' || !backedUp.result) throw new Error(`the backup did not finish: ${backedUp.error?.message}`);

    // Damage the listing of letters/ and the data of papers/thesis.pdf.
    const { repo } = await Repository.openWithPassword(folderStorage(join(work, 'repo')), password);
    const { index } = await repo.loadIndex();
    const top = (await repo.loadTree((await repo.loadSnapshot(backedUp.result.snapshotId)).tree, index)).nodes[0]!;
    const docs = (await repo.loadTree(top.subtree!, index)).nodes;
    const letters = index.get(docs.find((n) => n.name === 'letters')!.subtree!, 'tree')!;
    const papers = (await repo.loadTree(docs.find((n) => n.name === 'papers')!.subtree!, index)).nodes;
    // Any chunk of it will do: how many there are depends on the repository's chunker key.
    const thesis = index.get(papers[0]!.content!.at(-1)!, 'data')!;
    flipByte(packFile(repo, letters.pack), letters.offset + 25);
    flipByte(packFile(repo, thesis.pack), thesis.offset + 25);

    const target = join(work, 'restored');
    const restored = await c.job(
      (await c.ok('backup.restore.start', { repositoryId: repository.id, snapshotId: backedUp.result.snapshotId, target: { kind: 'folder', path: target } }))
        .jobId,
    );
    if (restored.kind !== 'restore' || !restored.result) throw new Error(`the restore did not finish: ${restored.error?.message}`);
    expect(restored.result.errors.map((e) => e.path).sort()).toEqual([
      join(target, 'Documents', 'letters') + '/',
      join(target, 'Documents', 'papers', 'thesis.pdf'),
    ]);
    expect(readFileSync(join(target, 'Documents', 'notes.txt'), 'utf8')).toBe('notes\n');

    const checked = await c.job((await c.ok('backup.check.start', { repositoryId: repository.id, readData: 'all' })).jobId);
    if (checked.kind !== 'check' || !checked.result) throw new Error(`the check did not finish: ${checked.error?.message}`);
    expect(checked.result.ok).toBe(false);
    expect(checked.result.damagedSnapshots[0]!.files.sort()).toEqual(['Documents/letters/', 'Documents/papers/thesis.pdf']);

    // Still serving, and nothing reached the last line of defence.
    expect(c.proc.exitCode).toBeNull();
    expect((await c.ok('backup.repositories.list', {})).repositories).toHaveLength(1);
    const log = readFileSync(join(dataDir, 'logs', 'twofold.log'), 'utf8');
    expect(log).not.toMatch(/the process goes on/);
  });
});
