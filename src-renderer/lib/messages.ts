/**
 * What a refused secret means, in words that say what to do. The core answers every wrong
 * password, code and recovery code with the same AUTH_FAILED (it never says which part was
 * wrong); the screen knows only what the person typed, so the advice stays just as generic.
 */
import type { ApiError } from '../../src-shared/errors.js';

export type SecretKind = 'password' | 'code' | 'recovery';

const ADVICE: Record<SecretKind, string> = {
  password: 'That password did not work. Check Caps Lock and the keyboard layout (Show lets you see what you typed), then try again.',
  code: 'That code did not work. Enter the code your authenticator app or companion shows right now (it changes every 30 seconds), or use a recovery code.',
  recovery: 'That recovery code did not work. Check it against the list you saved; each code works only once.',
};

export function refusalText(error: ApiError, kind: SecretKind): string {
  return error.code === 'AUTH_FAILED' ? ADVICE[kind] : error.message;
}
