import { afterEach, describe, expect, it } from 'vitest';
import { contract, METHOD_NAMES, METHOD_RANK, SESSION_RANK, type InputOf, type MethodName, type MethodSpec } from '../../src-shared/contract.js';
import { SHELL_ONLY_MESSAGE, type Handlers } from '../../src-main/api/router.js';
import { makeTestApp, OTHER_STRONG_PASSWORD, STRONG_PASSWORD, TEST_CONTEXT, type TestApp } from '../helpers/app.js';

/** A valid input for every method. The type makes this list complete: a new method must add one. */
const SAMPLE_INPUTS: { [M in MethodName]: InputOf<M> } = {
  'app.status': {},
  'account.checkPasswordStrength': { password: 'anything' },
  'account.setup': { accountName: 'Ada', password: STRONG_PASSWORD },
  'gate.submitPassword': { password: STRONG_PASSWORD },
  'gate.lock': {},
  'gate.stepUp': { method: 'account.changePassword', input: {}, password: STRONG_PASSWORD },
  'gate.describeStepUp': { method: 'recovery.regenerate', input: {} },
  'settings.get': {},
  'settings.update': { autoLockMinutes: 5 },
  'account.changePassword': { currentPassword: STRONG_PASSWORD, newPassword: OTHER_STRONG_PASSWORD },
  'gate.submitCode': { code: '123456' },
  'gate.submitRecoveryCode': { code: '7K3QX-M9D4H-2PZ8R-T6WNB' },
  'devices.list': {},
  'devices.beginTotp': { name: 'Pixel 8' },
  'devices.confirmTotp': { deviceId: '00000000-0000-4000-8000-000000000000', code: '123456' },
  'devices.rename': { deviceId: '00000000-0000-4000-8000-000000000000', name: 'Work phone' },
  'devices.remove': { deviceId: '00000000-0000-4000-8000-000000000000' },
  'recovery.regenerate': {},
  'twofa.disable': {},
  'audit.query': {},
  'audit.exportCsv': {},
  'audit.verify': {},
  'push.status': {},
  'push.start': {},
  'push.poll': { requestId: '00000000-0000-4000-8000-000000000000' },
  'push.cancel': { requestId: '00000000-0000-4000-8000-000000000000' },
  'push.startStepUp': { method: 'devices.remove', input: { deviceId: '00000000-0000-4000-8000-000000000000' } },
  'push.pollStepUp': { requestId: '00000000-0000-4000-8000-000000000000' },
  'push.beginPairing': {},
  'push.pairingStatus': { pairingId: '00000000-0000-4000-8000-000000000000' },
  'push.finishPairing': { pairingId: '00000000-0000-4000-8000-000000000000', name: 'Pixel 8' },
  'push.cancelPairing': { pairingId: '00000000-0000-4000-8000-000000000000' },
  'push.webCompanion': {},
  'push.setWebCompanion': { choice: { source: 'url', url: 'https://companion.example/' } },
  'backup.repositories.list': {},
  'backup.repositories.init': { name: 'Home', path: '/tmp/twofold-no-such-parent/repo' },
  'backup.repositories.connect': { name: 'Home', path: '/tmp/twofold-no-such-parent/repo', password: 'AAAAA-BBBBB' },
  'backup.repositories.status': { repositoryId: '00000000-0000-4000-8000-000000000000' },
  'backup.repositories.testConnection': {
    location: { kind: 'sftp', host: '127.0.0.1', port: 1, username: 'backup', path: '/srv', auth: { kind: 'password', password: 'p' } },
  },
  'backup.repositories.edit': { repositoryId: '00000000-0000-4000-8000-000000000000', name: 'Renamed' },
  'backup.repositories.changePassword': { repositoryId: '00000000-0000-4000-8000-000000000000' },
  'backup.repositories.remove': { repositoryId: '00000000-0000-4000-8000-000000000000' },
  'backup.sets.list': {},
  'backup.sets.create': { name: 'Documents', repositoryId: '00000000-0000-4000-8000-000000000000', sources: ['/home/ada/Documents'] },
  'backup.sets.update': { setId: '00000000-0000-4000-8000-000000000000', schedule: '0 3 * * *' },
  'backup.sets.setRetention': { setId: '00000000-0000-4000-8000-000000000000', retention: { daily: 7 } },
  'backup.sets.delete': { setId: '00000000-0000-4000-8000-000000000000' },
  'backup.sets.run': { setId: '00000000-0000-4000-8000-000000000000' },
  'backup.history': {},
  'backup.snapshots.list': { repositoryId: '00000000-0000-4000-8000-000000000000' },
  'backup.snapshots.browse': { repositoryId: '00000000-0000-4000-8000-000000000000', snapshotId: 'abcdef01' },
  'backup.snapshots.find': { repositoryId: '00000000-0000-4000-8000-000000000000', pattern: '*.pdf' },
  'backup.snapshots.diff': { repositoryId: '00000000-0000-4000-8000-000000000000', from: 'abcdef01', to: 'abcdef02' },
  'backup.snapshots.forget': { repositoryId: '00000000-0000-4000-8000-000000000000', snapshotIds: ['abcdef01'] },
  'backup.restore.start': { repositoryId: '00000000-0000-4000-8000-000000000000', snapshotId: 'abcdef01', target: { kind: 'folder', path: '/tmp/restore' } },
  'backup.check.start': { repositoryId: '00000000-0000-4000-8000-000000000000' },
  'backup.prune.start': { repositoryId: '00000000-0000-4000-8000-000000000000' },
  'backup.repair.start': { repositoryId: '00000000-0000-4000-8000-000000000000', index: true },
  'backup.jobs.list': {},
  'backup.jobs.get': { jobId: '00000000-0000-4000-8000-000000000000' },
  'backup.jobs.cancel': { jobId: '00000000-0000-4000-8000-000000000000' },
  'shell.status': {},
  'shell.backUpNow': {},
  'shell.quit': {},
};

let t: TestApp;
let ran: string[] = [];
afterEach(() => t?.remove());

/** Wraps every real handler so the test sees whether a service was reached at all. */
function recording(handlers: Handlers): Handlers {
  const wrapped = {} as Record<string, unknown>;
  for (const name of METHOD_NAMES) {
    const real = handlers[name] as (...args: unknown[]) => unknown;
    wrapped[name] = (...args: unknown[]) => {
      ran.push(name);
      return real(...args);
    };
  }
  return wrapped as Handlers;
}

async function appAt(level: 'locked' | 'unlocked'): Promise<TestApp> {
  const app = makeTestApp({ wrapHandlers: recording });
  await app.ok('account.setup', { accountName: 'Ada', password: STRONG_PASSWORD });
  if (level === 'locked') await app.ok('gate.lock', {});
  ran = [];
  return app;
}

describe('the router enforces gate levels for every method of the contract', () => {
  const aboveLocked = METHOD_NAMES.filter((m) => METHOD_RANK[contract[m].level] > SESSION_RANK.locked);
  // Methods free during set-up are checked outside it in second-factor.test.ts and pairing.test.ts.
  const stepUp = METHOD_NAMES.filter((m) => contract[m].level === 'step-up' && !(contract[m] as MethodSpec).freeDuringSetup);

  it('has methods at every level it guards', () => {
    expect(aboveLocked.length).toBeGreaterThan(0);
    expect(stepUp.length).toBeGreaterThan(0);
  });

  it.each(aboveLocked)('refuses %s to a locked caller before any service runs', async (method) => {
    t = await appAt('locked');
    const result = await t.app.router.call({ method, input: SAMPLE_INPUTS[method] }, TEST_CONTEXT);
    expect(result).toEqual({ ok: false, error: { code: 'NOT_ALLOWED', message: 'Unlock Twofold Backup first.' } });
    expect(ran).toEqual([]);
  });

  it.each(aboveLocked)('refuses %s to a locked caller even with malformed input (level before schema)', async (method) => {
    t = await appAt('locked');
    const result = await t.app.router.call({ method, input: { unexpected: 1 } }, TEST_CONTEXT);
    expect(result.ok ? 'ok' : result.error.code).toBe('NOT_ALLOWED');
    expect(ran).toEqual([]);
  });

  it.each(stepUp)('refuses %s to an unlocked caller without a step-up proof', async (method) => {
    t = await appAt('unlocked');
    const result = await t.app.router.call({ method, input: SAMPLE_INPUTS[method] }, TEST_CONTEXT);
    expect(result).toEqual({
      ok: false,
      error: { code: 'STEP_UP_REQUIRED', message: `Confirm this action first: ${contract[method].action}.` },
    });
    expect(ran).toEqual([]);
  });

  it.each(stepUp)('refuses %s with a forged step-up proof', async (method) => {
    t = await appAt('unlocked');
    const result = await t.app.router.call({ method, input: SAMPLE_INPUTS[method], stepUpProof: 'A'.repeat(43) }, TEST_CONTEXT);
    expect(result.ok ? 'ok' : result.error.code).toBe('STEP_UP_REQUIRED');
    expect(ran).toEqual([]);
  });

  const shellOnly = METHOD_NAMES.filter((m) => (contract[m] as MethodSpec).shellOnly === true);

  it.each(shellOnly)("refuses %s to every face but the desktop shell's own menus, unlocked or not", async (method) => {
    for (const level of ['locked', 'unlocked'] as const) {
      t = await appAt(level);
      for (const face of ['electron', 'console', 'test'] as const) {
        const result = await t.app.router.call({ method, input: SAMPLE_INPUTS[method] }, { ...TEST_CONTEXT, face });
        expect(result).toEqual({ ok: false, error: { code: 'NOT_ALLOWED', message: SHELL_ONLY_MESSAGE } });
      }
      expect(ran).toEqual([]);
      const asShell = await t.app.router.call({ method, input: SAMPLE_INPUTS[method] }, { ...TEST_CONTEXT, face: 'shell' });
      expect(asShell.ok).toBe(true);
      expect(ran).toEqual([method]);
      if (level === 'locked') t.remove(); // the unlocked one goes in afterEach
    }
  });

  it('lets an unlocked caller reach the service of every unlocked method', async () => {
    t = await appAt('unlocked');
    const unlockedMethods = METHOD_NAMES.filter((m) => contract[m].level === 'unlocked' && m !== 'gate.stepUp');
    for (const method of unlockedMethods) {
      const result = await t.app.router.call({ method, input: SAMPLE_INPUTS[method] }, TEST_CONTEXT);
      // The service may still refuse (no such device, say), but with its own typed error.
      if (!result.ok) expect(['NOT_FOUND', 'AUTH_FAILED'], method).toContain(result.error.code);
    }
    expect(ran).toEqual(unlockedMethods);
  });

  it('answers unknown methods and malformed envelopes with typed errors', async () => {
    t = await appAt('unlocked');
    expect(await t.app.router.call({ method: 'vault.dumpKeys', input: {} }, TEST_CONTEXT)).toEqual({
      ok: false,
      error: { code: 'UNKNOWN_METHOD', message: 'There is no such method.' },
    });
    expect(await t.app.router.call({ method: 'constructor', input: {} }, TEST_CONTEXT)).toEqual({
      ok: false,
      error: { code: 'UNKNOWN_METHOD', message: 'There is no such method.' },
    });
    for (const bad of [null, 'app.status', { input: {} }, { method: 'app.status', input: {}, extra: true }]) {
      expect(await t.app.router.call(bad, TEST_CONTEXT)).toEqual({
        ok: false,
        error: { code: 'BAD_INPUT', message: 'The request is not a well-formed method call.' },
      });
    }
    expect(ran).toEqual([]);
  });
});
