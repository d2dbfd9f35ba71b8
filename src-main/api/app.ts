/** The core plus its router: what every face (Electron, console, tests) starts. */
import { createCore, type Core, type CoreOptions } from '../core/composition.js';
import { createHandlers } from './handlers.js';
import { createRouter, type Handlers, type Router } from './router.js';

export interface App {
  readonly core: Core;
  readonly router: Router;
  close(): void;
}

export function createApp(options: CoreOptions, wrapHandlers: (h: Handlers) => Handlers = (h) => h): App {
  const core = createCore(options);
  const router = createRouter({ handlers: wrapHandlers(createHandlers(core)), gate: core.gate, logger: core.logger });
  return { core, router, close: () => core.close() };
}
