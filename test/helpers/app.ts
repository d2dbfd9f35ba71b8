/** Builds the real app (SQLite file on disk, real keychain) in a throwaway folder, with a clock tests move. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InputOf, MethodName, OutputOf } from '../../src-shared/contract.js';
import type { ApiResult } from '../../src-shared/errors.js';
import { createApp, type App } from '../../src-main/api/app.js';
import type { CallContext, Handlers } from '../../src-main/api/router.js';
import { createShellClient, type ShellClient } from '../../src-main/api/shell-client.js';
import type { Clock } from '../../src-main/core/platform/clock.js';

export class FakeClock implements Clock {
  constructor(private t = Date.UTC(2026, 10, 22, 12, 0, 0)) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

export const TEST_CONTEXT: CallContext = { face: 'test', ip: '127.0.0.1', workstation: 'test-workstation' };
export const STRONG_PASSWORD = 'correct horse battery staple 1893';
export const OTHER_STRONG_PASSWORD = 'violet tugboat rehearses quietly 7741';

export interface TestApp {
  app: App;
  dataDir: string;
  clock: FakeClock;
  /** The desktop shell's tray and app menu, through the router as the `shell` face. */
  shell: ShellClient;
  call<M extends MethodName>(method: M, input: InputOf<M>, stepUpProof?: string): Promise<ApiResult<OutputOf<M>>>;
  /** Call and expect success; fails the test with the error code otherwise. */
  ok<M extends MethodName>(method: M, input: InputOf<M>, stepUpProof?: string): Promise<OutputOf<M>>;
  /** A step-up proof confirmed with the password (while 2FA is off), for exactly this call. */
  passwordProof<M extends MethodName>(method: M, input: InputOf<M>, password?: string): Promise<string>;
  reopen(): TestApp;
  close(): void;
  remove(): void;
}

export function makeTestApp(options: { dataDir?: string; clock?: FakeClock; wrapHandlers?: (h: Handlers) => Handlers } = {}): TestApp {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'twofold-test-'));
  const clock = options.clock ?? new FakeClock();
  // Tests run Argon2id at OWASP's minimum cost: the floor the calibration never goes below.
  const app = createApp({ dataDir, appVersion: '0.0.0-test', clock, idleCheckMs: 0, kdfTargetMs: 1 }, options.wrapHandlers);
  const call = async <M extends MethodName>(method: M, input: InputOf<M>, stepUpProof?: string) =>
    (await app.router.call({ method, input, ...(stepUpProof ? { stepUpProof } : {}) }, TEST_CONTEXT)) as ApiResult<OutputOf<M>>;
  const testApp: TestApp = {
    app,
    dataDir,
    clock,
    shell: createShellClient(app.router, 'test-workstation'),
    call,
    async ok(method, input, stepUpProof) {
      const result = await call(method, input, stepUpProof);
      if (!result.ok) throw new Error(`${method} failed: ${result.error.code} ${result.error.message}`);
      return result.value;
    },
    async passwordProof(method, input, password = STRONG_PASSWORD) {
      return (await testApp.ok('gate.stepUp', { method, input, password })).proof;
    },
    reopen() {
      app.close();
      return makeTestApp({ ...options, dataDir, clock });
    },
    close: () => app.close(),
    remove: () => {
      app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return testApp;
}
