/** The core plus its router: what every face (Electron, console, tests) starts. */
import { createCore, type Core, type CoreOptions } from '../core/composition.js';
import type { LockReason } from '../core/gate.js';
import { createHandlers } from './handlers.js';
import { createRouter, type Handlers, type Router } from './router.js';
import { createTrayActions, type TrayActions } from './tray.js';

export interface App {
  readonly core: Core;
  readonly router: Router;
  /** For the desktop shell's tray: status and "back up now", without the window. */
  readonly tray: TrayActions;
  /** Lock from the shell: the OS locked the screen or went to sleep, or the tray asked. */
  lock(reason: LockReason): void;
  close(): void;
}

export function createApp(options: CoreOptions, wrapHandlers: (h: Handlers) => Handlers = (h) => h): App {
  const core = createCore(options);
  const router = createRouter({ handlers: wrapHandlers(createHandlers(core)), gate: core.gate, logger: core.logger });
  return { core, router, tray: createTrayActions(core), lock: (reason) => core.gate.lock(reason), close: () => core.close() };
}
