import type { ErrorCode } from '../../../src-shared/errors.js';

/**
 * A typed error with a stable code. `message` is shown to the user as is, so it must never
 * carry a secret, a code or a password: build it from constants only.
 */
export class CoreError extends Error {
  readonly code: ErrorCode;
  readonly retryAfterMs: number | undefined;

  constructor(code: ErrorCode, message: string, options: { retryAfterMs?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CoreError';
    this.code = code;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** The one message for every failed authentication, so a guess learns nothing from the wording. */
export const AUTH_FAILED_MESSAGE = 'That did not work. Check what you entered and try again.';
