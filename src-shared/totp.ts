/**
 * TOTP (RFC 6238) over HOTP (RFC 4226), through otplib. Pure and runtime-neutral: the desktop
 * core checks codes with it, and the companions (CLI and web) make their one-time passwords
 * with it. The defaults are what every authenticator app honours (docs/security.md, "Second factors"): SHA-1,
 * 6 digits, 30-second steps, 20-byte secrets.
 */
import { generateSync, ScureBase32Plugin, verifySync, type HashAlgorithm } from 'otplib';

export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_PERIOD_MS = TOTP_PERIOD_SECONDS * 1000;
export const TOTP_DIGITS = 6;
export const TOTP_SECRET_BYTES = 20;
/** Steps accepted either side of where the device is expected to be. */
export const TOTP_WINDOW_STEPS = 1;
/** The most drift we learn: a device further off than five minutes needs its clock fixed. */
export const TOTP_MAX_DRIFT_STEPS = 10;

export interface OtpOptions {
  algorithm?: HashAlgorithm;
  digits?: 6 | 7 | 8;
}

const base32 = new ScureBase32Plugin();

export function base32Encode(bytes: Uint8Array): string {
  return base32.encode(bytes, { padding: false });
}

/** Accepts what people type: lower case, spaces and padding are ignored. */
export function base32Decode(text: string): Uint8Array {
  return base32.decode(text.toUpperCase().replace(/[\s=]/g, ''));
}

/** The Base32 secret in groups of four, as people type it into an app. */
export function groupForTyping(base32Secret: string): string {
  return base32Secret.match(/.{1,4}/g)?.join(' ') ?? '';
}

export function newTotpSecret(): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(TOTP_SECRET_BYTES));
}

/** The time step that `timeMs` falls in. */
export function timeStep(timeMs: number): number {
  return Math.floor(timeMs / TOTP_PERIOD_MS);
}

/** The HOTP value for one counter (RFC 4226). */
export function hotpCode(secret: Uint8Array, counter: number, options: OtpOptions = {}): string {
  return generateSync({
    strategy: 'hotp',
    secret,
    counter,
    algorithm: options.algorithm ?? 'sha1',
    digits: options.digits ?? TOTP_DIGITS,
  });
}

/** The TOTP code shown at `timeMs` (RFC 6238). */
export function totpCode(secret: Uint8Array, timeMs: number, options: OtpOptions = {}): string {
  return hotpCode(secret, timeStep(timeMs), options);
}

export interface TotpMatch {
  /** The time step the code belongs to; a (device, step) pair is accepted once. */
  step: number;
  /** How many steps the device's clock is off from ours (negative: behind). */
  offset: number;
}

/**
 * Check `code` within ±1 step of where the device is expected to be: our time plus its learned
 * drift (RFC 6238 §6). Anything but exactly six digits fails without a comparison.
 */
export function matchTotp(secret: Uint8Array, code: string, timeMs: number, drift: number): TotpMatch | null {
  if (!/^\d{6}$/.test(code)) return null;
  const expected = timeStep(timeMs) + drift;
  const result = verifySync({
    secret,
    token: code,
    algorithm: 'sha1',
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
    // The middle of the expected step, so the tolerance spans exactly one step either side.
    epoch: expected * TOTP_PERIOD_SECONDS + TOTP_PERIOD_SECONDS / 2,
    epochTolerance: TOTP_WINDOW_STEPS * TOTP_PERIOD_SECONDS,
  });
  if (!result.valid) return null;
  const step = expected + result.delta;
  return { step, offset: step - timeStep(timeMs) };
}

/** The drift to expect next time, from the offset just seen; bounded so it cannot run away. */
export function nextDrift(_previous: number, offset: number): number {
  return Math.max(-TOTP_MAX_DRIFT_STEPS, Math.min(TOTP_MAX_DRIFT_STEPS, offset));
}

/**
 * The otpauth URI apps scan (Key URI Format): the issuer both as the label's prefix and as
 * `issuer=`, and the parameters spelled out even where they are the defaults, so no app guesses.
 */
export function otpauthUri(options: { issuer: string; account: string; secret: Uint8Array }): string {
  const label = `${encodeURIComponent(options.issuer)}:${encodeURIComponent(options.account)}`;
  const query = [
    `secret=${base32Encode(options.secret)}`,
    `issuer=${encodeURIComponent(options.issuer)}`,
    'algorithm=SHA1',
    `digits=${TOTP_DIGITS}`,
    `period=${TOTP_PERIOD_SECONDS}`,
  ];
  return `otpauth://totp/${label}?${query.join('&')}`;
}
