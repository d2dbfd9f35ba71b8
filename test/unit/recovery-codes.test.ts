import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashRecoveryCode, newRecoveryCodes, normalizeRecoveryCode, RECOVERY_CODE_BITS, RECOVERY_CODE_COUNT } from '../../src-main/core/gate/recovery-codes.js';

describe('recovery codes', () => {
  it('come ten at a time, distinct, in four groups of five unambiguous characters', () => {
    const codes = newRecoveryCodes();
    expect(codes).toHaveLength(RECOVERY_CODE_COUNT);
    expect(new Set(codes).size).toBe(RECOVERY_CODE_COUNT);
    for (const code of codes) expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){3}$/);
  });

  it('carry at least 80 bits each', () => {
    expect(RECOVERY_CODE_BITS).toBeGreaterThanOrEqual(80);
  });

  it('use every character of the alphabet (they are not biased to a subset)', () => {
    const seen = new Set(
      Array.from({ length: 20 }, () => newRecoveryCodes())
        .flat()
        .join('')
        .replace(/-/g, ''),
    );
    expect(seen.size).toBe(32);
  });

  it('read back what a person types: lower case, spaces, no dashes, O for 0, I and L for 1', () => {
    expect(normalizeRecoveryCode('7K3QX-M9D4H-2PZ8R-T6WNB')).toBe('7K3QXM9D4H2PZ8RT6WNB');
    expect(normalizeRecoveryCode(' 7k3qx m9d4h 2pz8r t6wnb ')).toBe('7K3QXM9D4H2PZ8RT6WNB');
    expect(normalizeRecoveryCode('7K3QX-M9D4H-2PZ8R-T6WNB'.replace('0', 'O'))).toBe('7K3QXM9D4H2PZ8RT6WNB');
    expect(normalizeRecoveryCode('1K3QX-M9D4H-2PZ8R-T6WNB'.replace('1', 'l'))).toBe('1K3QXM9D4H2PZ8RT6WNB');
    expect(normalizeRecoveryCode('OOOOO-IIIII-LLLLL-00000')).toBe('00000111111111100000');
  });

  it.each(['', '123456', '7K3QX-M9D4H-2PZ8R-T6WN', '7K3QX-M9D4H-2PZ8R-T6WNBB', '7K3QX-M9D4H-2PZ8R-T6WNU', '7K3QX_M9D4H_2PZ8R_T6WNB'])(
    'refuse %j, which cannot be a recovery code',
    (typed) => {
      expect(normalizeRecoveryCode(typed)).toBeNull();
    },
  );

  it('are stored as keyed hashes: the same code hashes differently under another key', () => {
    const code = '7K3QXM9D4H2PZ8RT6WNB';
    const key = randomBytes(32);
    expect(hashRecoveryCode(key, code)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashRecoveryCode(key, code)).toBe(hashRecoveryCode(key, code));
    expect(hashRecoveryCode(randomBytes(32), code)).not.toBe(hashRecoveryCode(key, code));
    expect(hashRecoveryCode(key, code)).not.toContain(code);
  });
});
