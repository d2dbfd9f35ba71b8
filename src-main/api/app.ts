/** The core plus its router: what every face (Electron, console, tests) starts. */
import { createCore, type Core, type CoreOptions } from '../core/composition.js';
import { assertKeychainWorks, createOsKeychain } from '../core/platform/keychain.js';
import type { LockReason } from '../core/gate/gate.js';
import { createConfirmations } from './confirmations.js';
import { createHandlers } from './handlers.js';
import { createStepUpConditions, createStepUpPrechecks } from './step-up-conditions.js';
import { createRouter, createStepUpPolicy, type Handlers, type Router } from './router.js';

export interface App {
  readonly core: Core;
  /** Every face's one door, the desktop shell's tray included (src-main/api/shell-client.ts). */
  readonly router: Router;
  /** Lock from the shell: the OS locked the screen or went to sleep, or the tray asked. */
  lock(reason: LockReason): void;
  /** Stop; `reason` (the OS ended the app, a signal) goes to the audit log. */
  close(reason?: string): void;
}

/**
 * Start the app the way a face does: first ask the OS keychain whether it answers at all, and
 * stop (KEYCHAIN_UNAVAILABLE, with how to get one) before the data folder, the database or the
 * log is written; then build everything.
 */
export async function openApp(options: CoreOptions, wrapHandlers?: (h: Handlers) => Handlers): Promise<App> {
  const keychain = options.keychain ?? createOsKeychain();
  await assertKeychainWorks(keychain);
  return createApp({ ...options, keychain }, wrapHandlers);
}

export function createApp(options: CoreOptions, wrapHandlers: (h: Handlers) => Handlers = (h) => h): App {
  const core = createCore(options);
  const needsProof = createStepUpPolicy(core.gate, createStepUpConditions(core.backup));
  const prechecks = createStepUpPrechecks(core.gate, core.backup);
  const handlers = wrapHandlers(createHandlers(core, createConfirmations(core, needsProof, prechecks)));
  const router = createRouter({ handlers, gate: core.gate, logger: core.logger, needsProof, prechecks, ready: core.ready });
  return { core, router, lock: (reason) => core.gate.lock(reason), close: (reason) => core.close(reason) };
}
