import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src-shared/canonical-json.js';
import { constantTimeEqual, deriveKey, open, randomKey, seal } from '../../src-main/core/platform/crypto.js';
import { calibrateKdf, OWASP_MINIMUM } from '../../src-main/core/platform/password-kdf.js';

describe('sealing with AES-256-GCM', () => {
  const key = randomKey();

  it('opens what it sealed, with a fresh nonce each time', () => {
    const a = seal(key, Buffer.from('secret'), 'place');
    const b = seal(key, Buffer.from('secret'), 'place');
    expect(a.equals(b)).toBe(false);
    expect(a[0]).toBe(1);
    expect(a).toHaveLength(1 + 12 + 6 + 16);
    expect(open(key, a, 'place').toString()).toBe('secret');
  });

  it.each([
    ['another key', () => open(randomKey(), seal(key, Buffer.from('x'), 'p'), 'p')],
    ['another place', () => open(key, seal(key, Buffer.from('x'), 'p'), 'q')],
    ['a truncated blob', () => open(key, seal(key, Buffer.from('x'), 'p').subarray(0, 20), 'p')],
    ['an unknown version', () => open(key, Buffer.concat([Buffer.from([2]), seal(key, Buffer.from('x'), 'p').subarray(1)]), 'p')],
  ])('fails closed with VAULT_CORRUPT for %s', (_name, attempt) => {
    expect(attempt).toThrow(expect.objectContaining({ code: 'VAULT_CORRUPT' }));
  });
});

describe('key derivation', () => {
  it('gives different keys for different labels from the same secret', () => {
    const ikm = randomKey();
    const salt = Buffer.from('install');
    expect(deriveKey(ikm, salt, 'a').equals(deriveKey(ikm, salt, 'b'))).toBe(false);
    expect(deriveKey(ikm, salt, 'a').equals(deriveKey(ikm, salt, 'a'))).toBe(true);
  });

  it('matches the RFC 5869 test case 1 for HKDF-SHA-256', () => {
    const ikm = Buffer.alloc(22, 0x0b);
    const salt = Buffer.from('000102030405060708090a0b0c', 'hex');
    const info = Buffer.from('f0f1f2f3f4f5f6f7f8f9', 'hex');
    expect(deriveKey(ikm, salt, info, 42).toString('hex')).toBe('3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865');
  });

  it('never calibrates Argon2id below OWASP’s minimum (m=19 MiB, t=2, p=1)', async () => {
    for (const target of [1, 400]) {
      const cost = await calibrateKdf(target);
      expect(cost.memoryKiB).toBeGreaterThanOrEqual(OWASP_MINIMUM.memoryKiB);
      expect(cost.iterations).toBeGreaterThanOrEqual(OWASP_MINIMUM.iterations);
      expect(cost.parallelism).toBe(1);
    }
    expect(await calibrateKdf(1)).toEqual(OWASP_MINIMUM);
  });
});

describe('constant-time comparison and canonical JSON', () => {
  it('compares equal and unequal buffers, including different lengths', () => {
    expect(constantTimeEqual(Buffer.from('abc'), Buffer.from('abc'))).toBe(true);
    expect(constantTimeEqual(Buffer.from('abc'), Buffer.from('abd'))).toBe(false);
    expect(constantTimeEqual(Buffer.from('abc'), Buffer.from('abcd'))).toBe(false);
  });

  it('writes the same text for the same value whatever the key order', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], c: { z: 1, y: undefined, x: 2 } })).toBe('{"a":[true,null,"x"],"b":1,"c":{"x":2,"z":1}}');
    expect(canonicalJson({ a: 1, b: 2 })).toBe(canonicalJson({ b: 2, a: 1 }));
  });
});
