/** Contract method -> service call. No gate checks here: the router did them before we run. */
import { contract, isMethodName } from '../../src-shared/contract.js';
import type { Core } from '../core/composition.js';
import { CoreError } from '../core/errors.js';
import { stepUpDigest, type Handlers } from './router.js';

export function createHandlers(core: Core): Handlers {
  const { accounts, gate, settings, throttle, clock } = core;
  return {
    'app.status': () => {
      const account = accounts.current();
      return {
        appName: core.appName,
        version: core.appVersion,
        setupNeeded: account === null,
        level: gate.level(),
        accountName: account?.name ?? null,
        throttle: account ? throttle.view(account.id, clock.now()) : null,
      };
    },

    'account.checkPasswordStrength': ({ password, accountName }) =>
      core.passwordPolicy.check(password, accountName ? [accountName] : []),

    'account.setup': async ({ accountName, password }) => {
      const { account, recordKey } = await accounts.setup(accountName, password);
      gate.openAfterSetup(account.id, recordKey);
      return { level: gate.level() };
    },

    'gate.submitPassword': async ({ password }) => ({ level: await gate.submitPassword(password) }),

    'gate.lock': () => {
      gate.lock('user');
      return { level: gate.level() };
    },

    'gate.stepUp': async ({ method, input, password }) => {
      if (!isMethodName(method) || contract[method].level !== 'step-up') {
        throw new CoreError('BAD_INPUT', 'That action does not need a confirmation.');
      }
      const parsed = contract[method].input.safeParse(input);
      if (!parsed.success) throw new CoreError('BAD_INPUT', 'The action to confirm has invalid input.');
      const grant = await gate.issueStepUp(method, stepUpDigest(method, parsed.data), password);
      return { ...grant, action: contract[method].action };
    },

    'settings.get': () => settings.get(),

    'settings.update': (patch) => settings.update(patch),

    'account.changePassword': async ({ currentPassword, newPassword }) => {
      const { accountId } = gate.unlocked();
      await accounts.changePassword(accountId, currentPassword, newPassword);
      return { changed: true as const };
    },
  };
}
