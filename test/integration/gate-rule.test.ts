/**
 * The rule of docs/security.md: nothing reachable below step-up can destroy, hide or overwrite
 * what a step-up protects, alone or combined with backups running. The walk goes over every
 * method of the contract below step-up (the table of hostile inputs is typed over the contract,
 * so a new method cannot be added without one), calls each with inputs chosen to do harm, lets
 * every backup set run twice (so retention acts on whatever the call changed), and checks that
 * everything protected is as it was: the backed-up content, the repositories' files, the
 * protected sets' configuration, the devices and recovery codes, the settings, the audit log,
 * the source files, the data folder.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contract, METHOD_NAMES, type InputOf, type MethodName, type MethodSpec, type OutputOf, type StepUpMethodName } from '../../src-shared/contract.js';
import { removeTree, tempDir } from '../helpers/backup-fixtures.js';
import { makeTestApp, OTHER_STRONG_PASSWORD, STRONG_PASSWORD, type TestApp } from '../helpers/app.js';
import { oathtoolCode } from '../helpers/oathtool.js';

type BelowStepUp = Exclude<MethodName, StepUpMethodName>;
const NOBODY = '00000000-0000-4000-8000-000000000000';
const FAKE_SNAPSHOT = 'ab'.repeat(32);

interface Fixture {
  app: TestApp;
  work: string;
  secret: string;
  deviceId: string;
  source: string;
  /** A second backed-up folder, named like a repository's own folder and holding a file named like a snapshot. */
  lookalike: string;
  empty: string;
  repoA: { id: string; path: string };
  repoB: { id: string; path: string };
  /** A repository inside the backed-up folder: its files are in every snapshot of the set. */
  nested: { id: string; path: string };
  setId: string;
  snapshotId: string;
}

/** Inputs chosen to do harm, for every method below step-up. Calls may fail; what matters is what they leave. */
const HOSTILE: { [M in BelowStepUp]: (fx: Fixture) => InputOf<M>[] } = {
  'app.status': () => [{}],
  'account.checkPasswordStrength': () => [{ password: 'anything at all' }],
  'account.setup': () => [{ accountName: 'Eve', password: OTHER_STRONG_PASSWORD }],
  'gate.submitPassword': () => [{ password: 'a guess at the password 1' }, { password: STRONG_PASSWORD }],
  'gate.lock': () => [{}],
  'gate.submitCode': () => [{ code: '000000' }],
  'gate.submitRecoveryCode': () => [{ code: '7K3QX-M9D4H-2PZ8R-T6WNB' }],
  'gate.stepUp': (fx) => [
    { method: 'backup.sets.delete', input: { setId: fx.setId }, code: '000000' },
    { method: 'twofa.disable', input: {}, password: STRONG_PASSWORD },
  ],
  'gate.describeStepUp': (fx) => [{ method: 'backup.repositories.remove', input: { repositoryId: fx.repoA.id, deleteFiles: true } }],
  'settings.get': () => [{}],
  'devices.list': () => [{}],
  'devices.confirmTotp': (fx) => [{ deviceId: fx.deviceId, code: '000000' }],
  'devices.rename': (fx) => [{ deviceId: fx.deviceId, name: 'Not your phone' }],
  'audit.query': () => [{}],
  'audit.exportCsv': () => [{}],
  'audit.verify': () => [{}],
  'push.status': () => [{}],
  'push.start': () => [{}],
  'push.poll': () => [{ requestId: NOBODY }],
  'push.cancel': () => [{ requestId: NOBODY }],
  'push.startStepUp': (fx) => [{ method: 'backup.sets.delete', input: { setId: fx.setId } }],
  'push.pollStepUp': () => [{ requestId: NOBODY }],
  'push.pairingStatus': () => [{ pairingId: NOBODY }],
  'push.finishPairing': () => [{ pairingId: NOBODY, name: 'Evil phone' }],
  'push.cancelPairing': () => [{ pairingId: NOBODY }],
  'push.webCompanion': () => [{}],
  'backup.repositories.list': () => [{}],
  'backup.repositories.init': (fx) => [
    { name: 'In its snapshots', path: join(fx.repoA.path, 'snapshots', 'evil') },
    { name: 'In its data', path: join(fx.repoA.path, 'data', 'ff', 'evil') },
    { name: 'In the data folder', path: join(fx.app.dataDir, 'evil') },
    { name: 'Fresh', path: join(fx.work, `fresh-${Math.random().toString(36).slice(2)}`) },
    // A remote repository needs a step-up: refused here.
    {
      name: 'Elsewhere',
      location: { kind: 's3', endpoint: 'http://127.0.0.1:1', region: 'us-east-1', bucket: 'evil', accessKeyId: 'AKEVIL', secretAccessKey: 'evil' },
    },
  ],
  'backup.repositories.connect': (fx) => [
    { name: 'Twice', path: fx.repoA.path, password: 'AAAAA-BBBBB-CCCCC-DDDDD-EEEEE-FFFFF' },
    { name: 'Inside', path: join(fx.repoA.path, 'keys'), password: 'AAAAA' },
  ],
  // Reads the config only.
  'backup.repositories.status': (fx) => [{ repositoryId: fx.repoA.id }, { repositoryId: fx.repoB.id }],
  'backup.repositories.testConnection': () => [
    // Nothing listens there: the test reaches nothing and stores nothing.
    { location: { kind: 'sftp', host: '127.0.0.1', port: 1, username: 'eve', path: '/srv', auth: { kind: 'password', password: 'guess' } } },
    { location: { kind: 's3', endpoint: 'http://127.0.0.1:1', region: 'us-east-1', bucket: 'evil', accessKeyId: 'AKEVIL', secretAccessKey: 'evil' } },
  ],
  'backup.repositories.edit': (fx) => [
    // A folder repository is renamed below step-up; nothing else of it can change.
    { repositoryId: fx.repoB.id, name: 'Renamed spare' },
    { repositoryId: fx.repoA.id, connections: 1 },
    { repositoryId: fx.repoA.id, credentials: { kind: 's3', accessKeyId: 'AKEVIL', secretAccessKey: 'evil' } },
    { repositoryId: fx.repoA.id, hostKey: `SHA256:${'A'.repeat(43)}` },
  ],
  'backup.sets.list': () => [{}],
  'backup.sets.create': (fx) => [
    // Allowed: a new set's retention only ever forgets that set's own snapshots.
    { name: `Greedy ${Math.random().toString(36).slice(2, 8)}`, repositoryId: fx.repoA.id, sources: [fx.empty], retention: { last: 1 } },
  ],
  'backup.sets.update': (fx) => [
    { setId: fx.setId, sources: [fx.empty] },
    { setId: fx.setId, excludes: ['*'] },
    { setId: fx.setId, repositoryId: fx.repoB.id },
    { setId: fx.setId, schedule: '* * * * *' },
    { setId: fx.setId, sources: [fx.source], excludes: [] },
  ],
  'backup.sets.run': (fx) => [
    { setId: fx.setId },
    // Maintenance credentials make the run delete by retention: that needs a step-up, refused here.
    { setId: fx.setId, maintenance: { kind: 's3', accessKeyId: 'AKEVIL', secretAccessKey: 'evil' } },
  ],
  'backup.history': () => [{}],
  'backup.snapshots.list': (fx) => [{ repositoryId: fx.repoA.id }],
  'backup.snapshots.browse': (fx) => [{ repositoryId: fx.repoA.id, snapshotId: fx.snapshotId }],
  'backup.snapshots.find': (fx) => [{ repositoryId: fx.repoA.id, pattern: '**' }],
  'backup.snapshots.diff': (fx) => [{ repositoryId: fx.repoA.id, from: fx.snapshotId, to: fx.snapshotId }],
  'backup.restore.start': (fx) => {
    const base = { repositoryId: fx.repoA.id, snapshotId: fx.snapshotId };
    return [
      { ...base, target: { kind: 'folder', path: fx.repoA.path }, onExisting: 'skip' },
      { ...base, target: { kind: 'folder', path: join(fx.repoA.path, 'snapshots') }, onExisting: 'skip' },
      // Restored into the repository's folder, `snapshots/<hex>` would land among its snapshots and damage the listing.
      { ...base, paths: [`snapshots/${FAKE_SNAPSHOT}`], target: { kind: 'folder', path: fx.repoA.path }, onExisting: 'skip' },
      { ...base, target: { kind: 'folder', path: fx.app.dataDir }, onExisting: 'skip' },
      // The snapshot holds the nested repository: putting it back where it was would merge old files into it.
      { ...base, target: { kind: 'original' }, onExisting: 'skip' },
      { ...base, paths: ['Documents/nested-repo/snapshots'], target: { kind: 'original' }, onExisting: 'skip' },
      // Overwriting is a step-up: without one, nothing is replaced.
      { ...base, target: { kind: 'original' }, onExisting: 'overwrite' },
      { ...base, target: { kind: 'folder', path: fx.work }, onExisting: 'overwrite' },
      // Allowed: into a new folder.
      { ...base, target: { kind: 'folder', path: join(fx.work, `restored-${Math.random().toString(36).slice(2)}`) } },
    ];
  },
  'backup.check.start': (fx) => [{ repositoryId: fx.repoA.id, readData: 'all' }],
  'backup.prune.start': (fx) => [{ repositoryId: fx.repoA.id }, { repositoryId: fx.repoB.id }],
  'backup.jobs.list': () => [{}],
  'backup.jobs.get': () => [{ jobId: NOBODY }],
  'backup.jobs.cancel': () => [{ jobId: NOBODY }],
  'shell.status': () => [{}],
  'shell.backUpNow': () => [{}],
  'shell.quit': () => [{}],
};

const BELOW = METHOD_NAMES.filter((m): m is BelowStepUp => contract[m].level !== 'step-up');

// ---- the fixture and what it protects ----

const STEP = 30_000;

async function unlock(fx: Fixture): Promise<void> {
  const { app } = fx;
  if ((await app.ok('app.status', {})).level !== 'locked') await app.ok('gate.lock', {});
  app.clock.advance(STEP * 3); // a code from a step not used yet
  await app.ok('gate.submitPassword', { password: STRONG_PASSWORD });
  await app.ok('gate.submitCode', { code: oathtoolCode(fx.secret, app.clock.now()) });
}

async function waitForJobs(app: TestApp): Promise<void> {
  for (let i = 0; i < 1200 && app.app.core.backup.jobs.running(() => true); i++) await new Promise((r) => setTimeout(r, 25));
}

/** Every set runs, twice: what retention does with a changed set shows at once. */
async function runEverySet(app: TestApp): Promise<void> {
  for (let i = 0; i < 2; i++) {
    await waitForJobs(app);
    await app.shell.backUpNow();
    await waitForJobs(app);
    app.clock.advance(60_000);
  }
}

function hashTree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      if (statSync(p).isDirectory()) walk(p, r);
      else out[r] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(root, '');
  return out;
}

/** Files of a folder as a snapshot lists them: (path, size, mtime) says the content is there. */
type Content = Set<string>;
async function backedUp(app: TestApp, repositoryId: string): Promise<Content> {
  const { entries } = await app.ok('backup.snapshots.find', { repositoryId, pattern: '**', limit: 1000 });
  return new Set(entries.filter((e) => e.type === 'file').map((e) => `${e.path} ${e.size} ${e.mtime}`));
}

interface Protected {
  devices: { id: string; kind: string; active: boolean }[];
  recoveryCodesLeft: number;
  twoFactorEnabled: boolean;
  settings: OutputOf<'settings.get'>;
  repositories: { id: string; path: string }[];
  set: Pick<OutputOf<'backup.sets.list'>['sets'][number], 'sources' | 'excludes' | 'repositoryId' | 'schedule' | 'retention'>;
  content: Content;
  sources: Record<string, string>;
  repoFiles: Record<string, string>;
}

async function protectedState(fx: Fixture): Promise<Protected> {
  const { app } = fx;
  const overview = await app.ok('devices.list', {});
  const set = (await app.ok('backup.sets.list', {})).sets.find((s) => s.id === fx.setId)!;
  const repoFiles = hashTree(fx.repoA.path);
  // Snapshot files come and go with retention; the rest of the repository (config, keys) must not change.
  for (const k of Object.keys(repoFiles)) if (!k.startsWith('config') && !k.startsWith('keys/')) delete repoFiles[k];
  return {
    devices: overview.devices.map((d) => ({ id: d.id, kind: d.kind, active: d.active })),
    recoveryCodesLeft: overview.recoveryCodesLeft,
    twoFactorEnabled: overview.twoFactorEnabled,
    settings: await app.ok('settings.get', {}),
    repositories: (await app.ok('backup.repositories.list', {})).repositories
      .filter((r) => [fx.repoA.id, fx.repoB.id, fx.nested.id].includes(r.id))
      .map((r) => ({ id: r.id, path: r.path })),
    set: set && { sources: set.sources, excludes: set.excludes, repositoryId: set.repositoryId, schedule: set.schedule, retention: set.retention },
    content: await backedUp(app, fx.repoA.id),
    sources: { ...hashTree(fx.source), ...hashTree(fx.lookalike) },
    repoFiles,
  };
}

async function build(): Promise<Fixture> {
  const work = tempDir('gate-rule');
  const source = join(work, 'Documents');
  mkdirSync(join(source, 'letters'), { recursive: true });
  writeFileSync(join(source, 'letters', 'to-grace.txt'), 'Dear Grace,\n');
  writeFileSync(join(source, 'thesis.txt'), 'Chapter one.\n'.repeat(1000));
  const lookalike = join(work, 'snapshots');
  mkdirSync(lookalike);
  writeFileSync(join(lookalike, FAKE_SNAPSHOT), 'not a sealed snapshot');
  const empty = join(work, 'empty');
  mkdirSync(empty);
  const app = makeTestApp();
  await app.ok('account.setup', { accountName: 'Ada', password: STRONG_PASSWORD });
  const begun = await app.ok('devices.beginTotp', { name: 'Pixel 8' });
  const secret = begun.secretGrouped.replace(/ /g, '');
  await app.ok('devices.confirmTotp', { deviceId: begun.deviceId, code: oathtoolCode(secret, app.clock.now()) });
  const repoA = (await app.ok('backup.repositories.init', { name: 'Disk', path: join(work, 'repoA') })).repository;
  const repoB = (await app.ok('backup.repositories.init', { name: 'Spare', path: join(work, 'repoB') })).repository;
  const nested = (await app.ok('backup.repositories.init', { name: 'Nested', path: join(source, 'nested-repo') })).repository;
  const set = await app.ok('backup.sets.create', { name: 'Docs', repositoryId: repoA.id, sources: [source, lookalike], retention: { last: 2 } });
  const fx: Fixture = { app, work, secret, deviceId: begun.deviceId, source, lookalike, empty, repoA, repoB, nested, setId: set.id, snapshotId: '' };
  await runEverySet(app);
  fx.snapshotId = (await app.ok('backup.snapshots.list', { repositoryId: repoA.id })).snapshots[0]!.id;
  return fx;
}

async function expectProtected(fx: Fixture, before: Protected, auditRows: number): Promise<number> {
  const after = await protectedState(fx);
  expect(after.devices).toEqual(before.devices);
  expect(after.recoveryCodesLeft).toBe(before.recoveryCodesLeft);
  expect(after.twoFactorEnabled).toBe(true);
  expect(after.settings).toEqual(before.settings);
  expect(after.repositories).toEqual(before.repositories);
  expect(after.set).toEqual(before.set);
  // Every file the snapshots held is still in one of them.
  expect([...before.content].filter((c) => !after.content.has(c))).toEqual([]);
  expect(after.sources).toEqual(before.sources);
  expect(after.repoFiles).toEqual(before.repoFiles);
  const check = await fx.app.ok('backup.check.start', { repositoryId: fx.repoA.id });
  await fx.app.app.core.backup.jobs.settled(check.jobId);
  const report = await fx.app.ok('backup.jobs.get', { jobId: check.jobId });
  expect(report.kind === 'check' && report.result?.ok).toBe(true);
  const verify = await fx.app.ok('audit.verify', {});
  expect(verify.ok).toBe(true);
  expect(verify.rows).toBeGreaterThanOrEqual(auditRows);
  return verify.rows;
}

describe('nothing below step-up destroys, hides or overwrites what a step-up protects', () => {
  let fx: Fixture;
  let before: Protected;
  let rows = 0;
  beforeAll(async () => {
    fx = await build();
    before = await protectedState(fx);
    rows = (await fx.app.ok('audit.verify', {})).rows;
  }, 120_000);
  afterAll(() => {
    fx?.app.remove();
    if (fx) removeTree(fx.work);
  });

  it('walks every method below step-up, and the fixture has what the walk checks', () => {
    expect(BELOW.length).toBe(Object.keys(HOSTILE).length);
    expect(before.content.size).toBeGreaterThanOrEqual(3);
    expect(before.devices).toHaveLength(1);
  });

  it.each(BELOW)(
    '%s cannot reach a protected effect, alone or followed by backups',
    async (method) => {
      const hostile = HOSTILE[method] as (fx: Fixture) => unknown[];
      for (const input of hostile(fx)) {
        // The shell's own methods are reachable by the shell only: walked as it calls them.
        const face = (contract[method] as MethodSpec).shellOnly ? 'shell' : 'test';
        await fx.app.app.router.call({ method, input }, { face, ip: '127.0.0.1', workstation: 'test-workstation' });
        await waitForJobs(fx.app);
        if ((await fx.app.ok('app.status', {})).level !== 'unlocked') await unlock(fx);
      }
      await runEverySet(fx.app);
      rows = await expectProtected(fx, before, rows);
    },
    120_000,
  );
});

describe('the walk would see a loss', () => {
  it('when the same edit is confirmed: retention then forgets what was backed up before', async () => {
    const fx = await build();
    try {
      const before = await protectedState(fx);
      const input = { setId: fx.setId, sources: [fx.empty] };
      const described = await fx.app.ok('gate.describeStepUp', { method: 'backup.sets.update', input });
      expect(described.needed).toBe(true);
      fx.app.clock.advance(STEP * 3);
      const { proof } = await fx.app.ok('gate.stepUp', { method: 'backup.sets.update', input, code: oathtoolCode(fx.secret, fx.app.clock.now()) });
      await fx.app.ok('backup.sets.update', input, proof);
      await runEverySet(fx.app);
      const after = await protectedState(fx);
      expect([...before.content].filter((c) => !after.content.has(c)).length).toBe(before.content.size);
    } finally {
      fx.app.remove();
      removeTree(fx.work);
    }
  }, 120_000);
});
