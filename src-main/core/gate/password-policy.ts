/**
 * Password strength, judged by zxcvbn-ts (a maintained port of Dropbox's estimator) rather than
 * by composition rules: length and guessability are what matter (NIST SP 800-63B §5.1.1.2).
 */
import type { ZxcvbnFactory } from '@zxcvbn-ts/core';
import type { PasswordStrength } from '../../../src-shared/contract.js';

export const MIN_PASSWORD_LENGTH = 10;
/** zxcvbn score 3: "safely unguessable: moderate protection from offline slow-hash scenario". */
export const MIN_PASSWORD_SCORE = 3;

export interface PasswordPolicy {
  check(password: string, userInputs?: string[]): Promise<PasswordStrength>;
  /** The reason a password is refused, or null when it is acceptable. */
  rejection(strength: PasswordStrength, password: string): string | null;
}

export function createPasswordPolicy(): PasswordPolicy {
  // The dictionaries take a moment to load and index (a fifth of a second here), so they are
  // loaded on first use, not at start-up: the lock screen never needs them.
  let estimator: Promise<ZxcvbnFactory> | null = null;
  const zxcvbn = () =>
    (estimator ??= Promise.all([import('@zxcvbn-ts/core'), import('@zxcvbn-ts/language-common'), import('@zxcvbn-ts/language-en')]).then(
      ([core, common, english]) =>
        new core.ZxcvbnFactory({
          dictionary: { ...common.dictionary, ...english.dictionary },
          graphs: common.adjacencyGraphs,
          translations: english.translations,
        }),
    ));

  return {
    async check(password, userInputs = []) {
      const result = (await zxcvbn()).check(password, ['twofold', 'backup', ...userInputs]);
      const tooShort = [...password].length < MIN_PASSWORD_LENGTH;
      return {
        score: result.score,
        acceptable: result.score >= MIN_PASSWORD_SCORE && !tooShort,
        warning: tooShort ? `Use at least ${MIN_PASSWORD_LENGTH} characters.` : (result.feedback.warning ?? ''),
        suggestions: result.feedback.suggestions,
        crackTimeDisplay: result.crackTimes.offlineSlowHashingXPerSecond.display,
      };
    },
    rejection(strength, password) {
      if ([...password].length < MIN_PASSWORD_LENGTH) return `Use at least ${MIN_PASSWORD_LENGTH} characters.`;
      if (strength.acceptable) return null;
      const why = strength.warning || 'This password would be easy to guess.';
      const hint = strength.suggestions[0] ?? 'Add more words or characters that are not a common pattern.';
      return `${why} ${hint}`.trim();
    },
  };
}
