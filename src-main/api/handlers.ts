/** Contract method -> service call. No gate checks here: the router did them before we run. */
import { contract, type AuditRowView, type Settings } from '../../src-shared/contract.js';
import type { Core } from '../core/composition.js';
import type { StepUpFactor } from '../core/gate/gate.js';
import type { Confirmations } from './confirmations.js';
import { createBackupHandlers } from './handlers-backup.js';
import { createPushHandlers } from './handlers-push.js';
import { createShellHandlers } from './handlers-shell.js';
import type { Handlers } from './router.js';

/** What a settings change changes, for the audit log ("auto-lock 10 → 1440 min; relay built-in → wss://…"). */
function settingsChange(before: Settings, after: Settings): string {
  const relay = (url: string | null | undefined) => url ?? 'built-in';
  const parts: string[] = [];
  if (before.autoLockMinutes !== after.autoLockMinutes) parts.push(`auto-lock ${before.autoLockMinutes} → ${after.autoLockMinutes} min`);
  if ((before.relayUrl ?? null) !== (after.relayUrl ?? null)) parts.push(`push relay ${relay(before.relayUrl)} → ${relay(after.relayUrl)}`);
  return parts.length ? parts.join('; ') : 'saved unchanged';
}

/** What the handlers use of the core: no more (the store, the vault and the seal stay behind the services). */
export type HandlerDeps = Pick<
  Core,
  | 'appName'
  | 'appVersion'
  | 'accounts'
  | 'gate'
  | 'settings'
  | 'throttle'
  | 'clock'
  | 'devices'
  | 'audit'
  | 'passwordPolicy'
  | 'push'
  | 'pairing'
  | 'backup'
  | 'logger'
>;

export function createHandlers(deps: HandlerDeps, confirmations: Confirmations): Handlers {
  const { accounts, gate, settings, throttle, clock, devices, audit } = deps;
  const session = () => gate.unlocked();

  return {
    'app.status': () => {
      const account = accounts.current();
      const level = gate.level();
      const list = level === 'second-factor' ? gate.factorList() : null;
      return {
        appName: deps.appName,
        version: deps.appVersion,
        setupNeeded: account === null,
        level,
        accountName: account?.name ?? null,
        throttle: account ? throttle.view(account.id, clock.now()) : null,
        secondFactors: list
          ? [
              // A companion shows one-time passwords too, so any active device can give a code.
              ...(list.devices.some((d) => d.active) ? (['totp'] as const) : []),
              ...(list.devices.some((d) => d.active && d.kind === 'push') ? (['push'] as const) : []),
              ...(list.recovery?.hashes.some((h) => h !== null) ? (['recovery'] as const) : []),
            ]
          : [],
      };
    },

    'account.checkPasswordStrength': ({ password, accountName }) => deps.passwordPolicy.check(password, accountName ? [accountName] : []),

    'account.setup': async ({ accountName, password }, ctx) => {
      await accounts.setup(accountName, password, (account, recordKey) => gate.openAfterSetup(account, recordKey, ctx));
      return { level: gate.level() };
    },

    'gate.submitPassword': async ({ password }, ctx) => ({ level: await gate.submitPassword(password, ctx) }),

    'gate.submitCode': async ({ code }, ctx) => {
      const { level, recoveryCodesLeft } = await gate.submitSecondFactor({ code }, ctx);
      return { level, recoveryCodesLeft };
    },

    'gate.submitRecoveryCode': async ({ code }, ctx) => {
      const { level, recoveryCodesLeft } = await gate.submitSecondFactor({ recoveryCode: code }, ctx);
      return { level, recoveryCodesLeft };
    },

    'gate.lock': (_input, ctx) => {
      gate.lock('user', ctx);
      return { level: gate.level() };
    },

    'gate.stepUp': async ({ method, input, password, code, recoveryCode }, ctx) => {
      const request = await confirmations.describe(method, input);
      const factor: StepUpFactor = password !== undefined ? { password } : code !== undefined ? { code } : { recoveryCode: recoveryCode! };
      const grant = await gate.issueStepUp(request.method, request.digest, factor, ctx, request.confirmation.title);
      return { ...grant, action: contract[request.method].action, confirmation: request.confirmation };
    },

    'gate.describeStepUp': async ({ method, input }) => {
      const { needed, confirmation } = await confirmations.describe(method, input);
      return { needed, confirmation };
    },

    'settings.get': () => settings.get(),

    'settings.update': async (patch, ctx) => {
      const before = settings.get();
      const after = settings.update(patch);
      await audit.record(ctx, {
        action: 'settings.changed',
        outcome: 'success',
        account: accounts.current()?.name ?? null,
        detail: settingsChange(before, after),
      });
      return after;
    },

    'account.changePassword': async ({ currentPassword, newPassword }, ctx) => {
      const { account } = session();
      await accounts.changePassword(account.id, currentPassword, newPassword);
      await audit.record(ctx, { action: 'password.changed', outcome: 'success', account: account.name });
      return { changed: true as const };
    },

    'devices.list': () => devices.overview(session()),

    'devices.beginTotp': ({ name }) => devices.beginTotp(session(), name),

    'devices.confirmTotp': ({ deviceId, code }, ctx) => devices.confirmTotp(session(), deviceId, code, ctx),

    'devices.rename': ({ deviceId, name }, ctx) => devices.rename(session(), deviceId, name, ctx),

    'devices.remove': ({ deviceId, confirmDisableTwoFactor }, ctx) => devices.remove(session(), deviceId, confirmDisableTwoFactor, ctx),

    'recovery.regenerate': async (_input, ctx) => ({ codes: await devices.regenerateRecoveryCodes(session(), ctx) }),

    'twofa.disable': async (_input, ctx) => {
      await devices.disableTwoFactor(session(), ctx);
      return devices.overview(session());
    },

    ...createAuditHandlers(deps),

    ...createPushHandlers(deps, confirmations),

    ...createBackupHandlers(deps.backup),

    ...createShellHandlers(deps),
  };
}

/** The audit log: query, export and verify (unlocked; the router checked). */
function createAuditHandlers({ audit, clock }: Pick<HandlerDeps, 'audit' | 'clock'>): Pick<Handlers, 'audit.query' | 'audit.exportCsv' | 'audit.verify'> {
  const auditLog = () => audit.open();
  return {
    'audit.query': async ({ filter, limit, offset }) => {
      const { rows, total } = (await auditLog()).query({ ...filter, limit, offset });
      return { rows: rows.map(auditRowView), total };
    },

    'audit.exportCsv': async ({ filter }) => ({
      csv: (await auditLog()).exportCsv(filter),
      filename: `twofold-audit-${new Date(clock.now()).toISOString().slice(0, 10)}.csv`,
    }),

    'audit.verify': async () => {
      const result = (await auditLog()).verify();
      return result.ok
        ? { ok: true, rows: result.rows, firstBrokenId: null, reason: null }
        : { ok: false, rows: result.rows, firstBrokenId: result.firstBrokenId, reason: result.reason };
    },
  };
}

function auditRowView(row: AuditRowView): AuditRowView {
  const { id, time, account, device, action, workstation, ip, outcome, detail } = row;
  return { id, time, account, device, action, workstation, ip, outcome, detail };
}
