/**
 * The remote steps of npm run bench:backup: first backup, no-change backup and restore over S3
 * and over SFTP on loopback, restic and Twofold (and borg over SSH; borg has no S3) on the same
 * servers and data in one run; then the same through a latency proxy of the bench's own that
 * delays each direction by 10 ms (20 ms round trip; this kernel has no netem).
 *
 * Servers, as the tests start them: s3rver (test/helpers/s3-server.ts: a Node process of its own,
 * buckets as folders on this disk) and Debian's sshd (test/helpers/sshd.ts: its own host key and
 * config, key login as root). restic uses its `s3:` backend with AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY, and its `sftp:` backend with `-o sftp.command=` running ssh on the test
 * port and key; borg goes over `ssh://` with BORG_RSH; Twofold uses S3Storage and SftpStorage
 * (bench/backup-cli.ts). Each tool keeps its default number of connections (restic 5, Twofold 4).
 *
 * The tools run as child processes under /usr/bin/time, spawned asynchronously: the servers'
 * pipes and the latency proxy live in this process and must keep running meanwhile.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startS3Server } from '../helpers/s3-server.js';
import { startSshd } from '../helpers/sshd.js';
import { startLatencyProxy, type LatencyProxy } from './latency-proxy.js';

export type RemoteTool = 'restic' | 'borg' | 'twofold';
export type Network = 's3' | 'sftp';

export interface RemoteContext {
  work: string;
  /** The folders backed up (absolute). */
  sources: string[];
  /** The compiled Twofold command line (bench/backup-cli.ts). */
  cli: string;
  env: NodeJS.ProcessEnv;
  say: (line: string) => void;
  /** Reads what a backup reads into the page cache first, as the local steps do. */
  warm: () => void;
}

/** Seconds of each step of one tool over one network at one added latency. */
export interface RemoteRow {
  network: Network;
  rttMs: number;
  tool: RemoteTool;
  first: number;
  noChange: number;
  restore: number;
  restoreOk: boolean;
}

const TOOLS: Record<Network, RemoteTool[]> = { s3: ['restic', 'twofold'], sftp: ['restic', 'borg', 'twofold'] };

/** Runs a command to its end without blocking this process's event loop. */
function runAsync(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) =>
    spawn(cmd, args, { stdio: 'ignore' }).on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} failed (${code})`)))),
  );
}

/** Run under /usr/bin/time without blocking this process's event loop; elapsed seconds. */
function timed(env: NodeJS.ProcessEnv, cmd: string, args: string[], cwd: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', 'TIME %e %M', cmd, ...args], { env, cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err = (err + b.toString()).slice(-8000)));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = err
        .split('\n')
        .reverse()
        .find((l) => l.startsWith('TIME '));
      if (code !== 0 || !line) reject(new Error(`${cmd} ${args.join(' ')} failed (${code}): ${err.slice(-2000)}`));
      else resolve(Number(line.split(' ')[1]));
    });
  });
}

/** Where a server is reached: straight, or through a latency proxy in front of it. */
interface Endpoint {
  port: number;
  close(): Promise<void>;
}

async function through(port: number, rttMs: number): Promise<Endpoint> {
  if (rttMs === 0) return { port, close: async () => undefined };
  const proxy: LatencyProxy = await startLatencyProxy(port, rttMs / 2);
  return proxy;
}

interface Server {
  network: Network;
  port: number;
  /** The repository location of `tool` for round `tag`, reached on `port`, and the env it needs. */
  location(tool: RemoteTool, tag: string, port: number): { repo: string; args: string[]; env: NodeJS.ProcessEnv };
  close(): Promise<void>;
}

/**
 * S3 over HTTPS, as every real S3 is: restic's minio-go signs plain-HTTP uploads as aws-chunked
 * streams, which s3rver stores undecoded. A certificate for 127.0.0.1 made for this run; restic
 * trusts it by --cacert, Node (Twofold) by NODE_EXTRA_CA_CERTS.
 */
async function s3Server(ctx: RemoteContext): Promise<Server> {
  const keyFile = join(ctx.work, 'bench-s3-key.pem');
  const certFile = join(ctx.work, 'bench-s3-cert.pem');
  await runAsync('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
    '-keyout',
    keyFile,
    '-out',
    certFile,
  ]);
  const s3 = await startS3Server('bench', { keyFile, certFile });
  const port = Number(new URL(s3.endpoint).port);
  const env = { AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey, AWS_DEFAULT_REGION: 'us-east-1', NODE_EXTRA_CA_CERTS: certFile };
  ctx.say(`  s3rver on ${s3.endpoint}, bucket ${s3.bucket}`);
  return {
    network: 's3',
    port,
    location: (tool, tag, at) => ({
      repo: `s3:https://127.0.0.1:${at}/${s3.bucket}/${tool}-${tag}`,
      args: tool === 'restic' ? ['--cacert', certFile] : [],
      env,
    }),
    close: () => s3.close(),
  };
}

async function sftpServer(ctx: RemoteContext): Promise<Server> {
  const sshd = await startSshd();
  const key = join(ctx.work, 'bench-ssh-key');
  writeFileSync(key, sshd.keys.plain, { mode: 0o600 });
  // A loopback server started for this run: its host key is not pinned for ssh (Twofold pins it).
  const ssh = (port: number) => `ssh -p ${port} -i ${key} -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR`;
  const root = join(sshd.root, 'bench');
  mkdirSync(root, { recursive: true });
  ctx.say(`  sshd on 127.0.0.1:${sshd.port}, repositories in ${root}`);
  return {
    network: 'sftp',
    port: sshd.port,
    location: (tool, tag, at) => {
      const path = join(root, `${tool}-${tag}`);
      if (tool === 'restic')
        return { repo: `sftp:${sshd.user}@127.0.0.1:${path}`, args: ['-o', `sftp.command=${ssh(at)} ${sshd.user}@127.0.0.1 -s sftp`], env: {} };
      if (tool === 'borg') return { repo: `ssh://${sshd.user}@127.0.0.1:${at}${path}`, args: [], env: { BORG_RSH: ssh(at).replace(/ -p \d+/, '') } };
      return { repo: `sftp://${sshd.user}@127.0.0.1:${at}${path}`, args: [], env: { TWOFOLD_SFTP_KEY: key, TWOFOLD_SFTP_HOST_KEY: sshd.fingerprint() } };
    },
    close: () => sshd.close(),
  };
}

function commands(ctx: RemoteContext, tool: RemoteTool, repo: string, extra: string[], target: string) {
  if (tool === 'restic') {
    return {
      init: ['restic', ['init', '-q', '-r', repo, ...extra]] as const,
      backup: ['restic', ['-r', repo, ...extra, 'backup', '-q', '--host', 'bench', ...ctx.sources]] as const,
      restore: ['restic', ['-r', repo, ...extra, 'restore', 'latest', '--target', target, '-q']] as const,
    };
  }
  if (tool === 'borg') {
    const rel = ctx.sources.map((s) => s.slice(ctx.work.length + 1));
    return {
      init: ['borg', ['init', '--encryption', 'repokey-blake2', repo]] as const,
      backup: (n: number) => ['borg', ['create', '--compression', 'zstd,3', `${repo}::snap-${n}`, ...rel]] as const,
      restore: ['borg', ['extract', `${repo}::snap-2`]] as const,
    };
  }
  return {
    init: [process.execPath, [ctx.cli, 'init', repo]] as const,
    backup: [process.execPath, [ctx.cli, 'backup', repo, ...ctx.sources]] as const,
    restore: [process.execPath, [ctx.cli, 'restore', repo, target]] as const,
  };
}

/** Where a tool puts the restored sources under its target (as the local steps have it). */
function restored(ctx: RemoteContext, tool: RemoteTool, target: string, source: string): string {
  if (tool === 'restic') return join(target, source);
  return tool === 'borg' ? join(target, source.slice(ctx.work.length + 1)) : join(target, source.split('/').pop()!);
}

async function sameTree(a: string, b: string): Promise<boolean> {
  return new Promise((resolve) => spawn('diff', ['-rq', '--no-dereference', a, b], { stdio: 'ignore' }).on('exit', (code) => resolve(code === 0)));
}

async function oneTool(ctx: RemoteContext, server: Server, tool: RemoteTool, rttMs: number, endpoint: Endpoint): Promise<RemoteRow> {
  const tag = `rtt${rttMs}`;
  const { repo, args, env: more } = server.location(tool, tag, endpoint.port);
  const env = { ...ctx.env, ...more };
  const target = join(ctx.work, `remote-restore-${server.network}-${tool}-${tag}`);
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target);
  const c = commands(ctx, tool, repo, args, target);
  const step = async (what: string, [cmd, argv]: readonly [string, readonly string[]], cwd = ctx.work) => {
    // As in the local steps: no tool pays for another's writeback, nor reads its data cold.
    await runAsync('sync', []);
    if (what !== 'restore') ctx.warm();
    const seconds = await timed(env, cmd, [...argv], cwd);
    ctx.say(`  ${server.network} +${rttMs} ms ${tool} ${what}: ${seconds.toFixed(2)} s`);
    return seconds;
  };
  await timed(env, c.init[0], [...c.init[1]], ctx.work);
  const backup = (n: number) => (typeof c.backup === 'function' ? c.backup(n) : c.backup);
  const first = await step('first backup', backup(1));
  const noChange = await step('no-change backup', backup(2));
  const restore = await step('restore', c.restore, tool === 'borg' ? target : ctx.work);
  const checks = await Promise.all(ctx.sources.map((s) => sameTree(s, restored(ctx, tool, target, s))));
  rmSync(target, { recursive: true, force: true });
  return { network: server.network, rttMs, tool, first, noChange, restore, restoreOk: checks.every(Boolean) };
}

/** Every remote step: each network, straight and with the added round trip, the tools' order rotating. */
export async function remoteSteps(ctx: RemoteContext, rtts: number[], networks: Network[]): Promise<RemoteRow[]> {
  const rows: RemoteRow[] = [];
  for (const network of networks) {
    const server = network === 's3' ? await s3Server(ctx) : await sftpServer(ctx);
    try {
      for (const [round, rttMs] of rtts.entries()) {
        const endpoint = await through(server.port, rttMs);
        try {
          const tools = TOOLS[network];
          for (let i = 0; i < tools.length; i++) rows.push(await oneTool(ctx, server, tools[(i + round) % tools.length]!, rttMs, endpoint));
        } finally {
          await endpoint.close();
        }
      }
    } finally {
      await server.close();
    }
  }
  return rows;
}

/** The remote rows as docs/benchmarks.md shows them. */
export function remoteTable(rows: RemoteRow[]): string {
  const get = (network: Network, rttMs: number, tool: RemoteTool) => rows.find((r) => r.network === network && r.rttMs === rttMs && r.tool === tool);
  const out = ['| Step | restic | borg | Twofold | Twofold ÷ restic | Target | Met |', '|---|---|---|---|---|---|---|'];
  const combos = [...new Set(rows.map((r) => `${r.network} ${r.rttMs}`))].map((k) => k.split(' ') as [Network, string]);
  for (const [network, rtt] of combos) {
    const rttMs = Number(rtt);
    const where = `${network === 's3' ? 'S3' : 'SFTP'}${rttMs > 0 ? `, +${rttMs} ms round trip` : ''}`;
    for (const [key, label, target] of [
      ['first', 'first backup', 1],
      ['noChange', 'no-change backup', null],
      ['restore', 'restore', 1],
    ] as const) {
      const r = get(network, rttMs, 'restic');
      const b = get(network, rttMs, 'borg');
      const t = get(network, rttMs, 'twofold');
      const q = r && t && r[key] > 0 ? t[key] / r[key] : NaN;
      const cell = (x: RemoteRow | undefined) => (x ? `${x[key].toFixed(2)} s` : '—');
      const met = target === null ? '—' : q <= target ? 'yes' : '**no**';
      out.push(`| ${where}: ${label} | ${cell(r)} | ${cell(b)} | ${cell(t)} | ${q.toFixed(2)}× | ${target === null ? '—' : '≤ 1.00×'} | ${met} |`);
    }
  }
  return out.join('\n');
}
