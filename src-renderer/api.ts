/**
 * The contract client: the renderer's only way to the core. In Electron the preload exposes
 * `window.twofold.call`; in the console it is a same-origin JSON POST. Either way the router
 * decides what is allowed; the UI only shows what it is told.
 */
import type { InputOf, MethodName, OutputOf, Request } from '../src-shared/contract.js';
import type { ApiResult } from '../src-shared/errors.js';

declare global {
  interface Window {
    twofold?: { call(request: Request): Promise<ApiResult<unknown>> };
  }
}

async function transport(request: Request): Promise<ApiResult<unknown>> {
  if (window.twofold) return window.twofold.call(request);
  try {
    const response = await fetch('api/call', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(request),
    });
    return (await response.json()) as ApiResult<unknown>;
  } catch {
    return { ok: false, error: { code: 'INTERNAL', message: 'Twofold Backup is not reachable. Is it still running?' } };
  }
}

export function call<M extends MethodName>(method: M, input: InputOf<M>, stepUpProof?: string): Promise<ApiResult<OutputOf<M>>> {
  const request: Request = stepUpProof ? { method, input, stepUpProof } : { method, input };
  return transport(request) as Promise<ApiResult<OutputOf<M>>>;
}
