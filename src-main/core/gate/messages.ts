/**
 * The words the gate's errors show a person, in one place (docs/design.md, "Errors and the words
 * people read"): the same situation reads the same wherever it is met (a code, a push, a
 * step-up). Every message is a constant: none carries what someone typed.
 */
export { AUTH_FAILED_MESSAGE } from '../platform/errors.js';

export const GATE_MESSAGES = {
  /** 20 failures in a row: only a recovery code completes an unlock (docs/security.md, "The throttle"). */
  hardStop: 'Too many failed attempts. Only a recovery code can finish unlocking now; codes from devices are not accepted.',
  throttled: 'Too many failed attempts. Wait before trying again.',
  /** A code accepted a moment ago, sent again (a double submit, a second tab): not a guess, so not a failure. */
  replay: 'That code was just used. Wait for the next code on your device.',
  enterPasswordFirst: 'Enter the password first.',
  lockedMeanwhile: 'The app was locked meanwhile. Start again.',
  unlockFirst: 'Unlock Twofold Backup first.',
  noAccount: 'No account has been set up yet.',
  setupDone: 'An account already exists; unlock it instead.',
  noSuchDevice: 'There is no such device.',
} as const;
