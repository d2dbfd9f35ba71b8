import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  base32Decode,
  base32Encode,
  groupForTyping,
  hotpCode,
  matchTotp,
  newTotpSecret,
  nextDrift,
  otpauthUri,
  TOTP_MAX_DRIFT_STEPS,
  totpCode,
} from '../../src-shared/totp.js';
import { oathtoolCode } from '../helpers/oathtool.js';

const ascii = (s: string) => new TextEncoder().encode(s);
const SEED_SHA1 = ascii('12345678901234567890');
const SEED_SHA256 = ascii('12345678901234567890123456789012');
const SEED_SHA512 = ascii('1234567890123456789012345678901234567890123456789012345678901234');

describe('HOTP (RFC 4226 Appendix D)', () => {
  const expected = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
  it.each(expected.map((code, counter) => [counter, code] as const))('counter %i gives %s', (counter, code) => {
    expect(hotpCode(SEED_SHA1, counter)).toBe(code);
  });
});

describe('TOTP (RFC 6238 Appendix B, 8 digits)', () => {
  const vectors: [number, string, string, string][] = [
    [59, '94287082', '46119246', '90693936'],
    [1111111109, '07081804', '68084774', '25091201'],
    [1111111111, '14050471', '67062674', '99943326'],
    [1234567890, '89005924', '91819424', '93441116'],
    [2000000000, '69279037', '90698825', '38618901'],
    [20000000000, '65353130', '77737706', '47863826'],
  ];
  it.each(vectors)('at %i s: SHA-1 %s, SHA-256 %s, SHA-512 %s', (seconds, sha1, sha256, sha512) => {
    const ms = seconds * 1000;
    expect(totpCode(SEED_SHA1, ms, { algorithm: 'sha1', digits: 8 })).toBe(sha1);
    expect(totpCode(SEED_SHA256, ms, { algorithm: 'sha256', digits: 8 })).toBe(sha256);
    expect(totpCode(SEED_SHA512, ms, { algorithm: 'sha512', digits: 8 })).toBe(sha512);
  });
});

describe('codes agree with oathtool', () => {
  it('for a fresh 20-byte secret at several times', () => {
    const secret = newTotpSecret();
    expect(secret).toHaveLength(20);
    const b32 = base32Encode(secret);
    for (const t of [Date.UTC(2026, 0, 1), Date.UTC(2026, 10, 22, 12, 0, 7), Date.UTC(2031, 5, 30, 23, 59, 59)]) {
      expect(totpCode(secret, t)).toBe(oathtoolCode(b32, t));
    }
  });
});

describe('matchTotp', () => {
  const secret = SEED_SHA1;
  const now = Date.UTC(2026, 10, 22, 12, 0, 10);
  const step = Math.floor(now / 30_000);
  const codeAt = (offset: number) => totpCode(secret, now + offset * 30_000);

  it('accepts the current step and one either side, telling the step and the offset', () => {
    expect(matchTotp(secret, codeAt(0), now, 0)).toEqual({ step, offset: 0 });
    expect(matchTotp(secret, codeAt(-1), now, 0)).toEqual({ step: step - 1, offset: -1 });
    expect(matchTotp(secret, codeAt(1), now, 0)).toEqual({ step: step + 1, offset: 1 });
  });

  it('refuses two steps away', () => {
    expect(matchTotp(secret, codeAt(-2), now, 0)).toBeNull();
    expect(matchTotp(secret, codeAt(2), now, 0)).toBeNull();
  });

  it('centres the window on the learned drift', () => {
    expect(matchTotp(secret, codeAt(-2), now, -1)).toEqual({ step: step - 2, offset: -2 });
    expect(matchTotp(secret, codeAt(1), now, -1)).toBeNull();
  });

  it('refuses anything but exactly six digits', () => {
    const code = codeAt(0);
    for (const bad of [code.slice(1), `${code}0`, ` ${code}`, `${code.slice(0, 5)}a`, '', '１２３４５６']) {
      expect(matchTotp(secret, bad, now, 0)).toBeNull();
    }
  });
});

describe('drift', () => {
  it('follows the offset last seen, within bounds', () => {
    expect(nextDrift(0, -1)).toBe(-1);
    expect(nextDrift(-1, 0)).toBe(0);
    expect(nextDrift(0, 50)).toBe(TOTP_MAX_DRIFT_STEPS);
    expect(nextDrift(0, -50)).toBe(-TOTP_MAX_DRIFT_STEPS);
  });
});

describe('secrets and URIs', () => {
  it('round-trips Base32 and reads what people type', () => {
    const secret = newTotpSecret();
    const b32 = base32Encode(secret);
    expect(b32).toMatch(/^[A-Z2-7]{32}$/);
    expect(base32Decode(groupForTyping(b32).toLowerCase())).toEqual(secret);
  });

  it('groups the secret in fours', () => {
    expect(groupForTyping('ABCDEFGHIJ')).toBe('ABCD EFGH IJ');
  });

  it('writes the otpauth URI with the issuer prefix, issuer= and every parameter, which oathtool-compatible apps read', () => {
    const uri = otpauthUri({ issuer: 'Twofold Backup', account: 'ada@example.com', secret: SEED_SHA1 });
    expect(uri).toBe(
      'otpauth://totp/Twofold%20Backup:ada%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Twofold%20Backup&algorithm=SHA1&digits=6&period=30',
    );
    const secretParam = new URL(uri).searchParams.get('secret')!;
    expect(execFileSync('oathtool', ['--totp', '-b', secretParam, '--now', '1970-01-01 00:00:59 UTC'], { encoding: 'utf8' }).trim()).toBe('287082');
  });
});
