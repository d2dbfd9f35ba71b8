/**
 * The desktop shell's side of its own methods (src-shared/contract-shell.ts): the tray and the
 * app menu call the router like any face, as `shell`, and get plain values back. A failed call
 * fails closed: no status line is made up, and a quit that could not be asked is not allowed.
 */
import type { QuitDecision, TrayStatus } from '../../src-shared/contract-shell.js';
import type { InputOf, MethodName, OutputOf } from '../../src-shared/contract.js';
import type { CallContext, Router } from './router.js';

export interface ShellClient {
  status(): Promise<TrayStatus>;
  /** Starts every set that is not already running; resolves to how many started. */
  backUpNow(): Promise<number>;
  /** The user asked to quit (tray, app menu, Cmd+Q). */
  quit(): Promise<QuitDecision>;
  /** "Lock now" from the tray. */
  lock(): Promise<void>;
}

export class ShellCallError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ShellCallError';
  }
}

export function createShellClient(router: Pick<Router, 'call'>, workstation: string): ShellClient {
  const ctx: CallContext = { face: 'shell', ip: 'local', workstation };
  async function call<M extends MethodName>(method: M, input: InputOf<M>): Promise<OutputOf<M>> {
    const result = await router.call({ method, input }, ctx);
    if (!result.ok) throw new ShellCallError(result.error.code, result.error.message);
    return result.value as OutputOf<M>;
  }
  return {
    status: () => call('shell.status', {}),
    backUpNow: async () => (await call('shell.backUpNow', {})).started,
    quit: () =>
      call('shell.quit', {}).catch((error: unknown) => ({
        allowed: false,
        message: error instanceof Error ? error.message : 'Twofold Backup could not be asked to quit.',
      })),
    lock: async () => {
      await call('gate.lock', {});
    },
  };
}
