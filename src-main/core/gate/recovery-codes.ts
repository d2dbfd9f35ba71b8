/**
 * Recovery codes: 10 single-use codes for when every device is lost. Each is 20 characters
 * of Crockford Base32 (100 bits, above the 80 docs/security.md, "Second factors" asks for), shown in four groups of
 * five. Crockford's alphabet has no I, L, O or U, and reading accepts the look-alikes
 * (O for 0, I and L for 1), lower case, spaces and dashes, so a code typed from paper works.
 * Only keyed hashes (HMAC-SHA-256) are stored.
 */
import { createHmac, randomBytes } from 'node:crypto';

export const RECOVERY_CODE_COUNT = 10;
export const RECOVERY_CODE_CHARS = 20;
export const RECOVERY_CODE_BITS = RECOVERY_CODE_CHARS * 5;
/** The UI warns when this few or fewer are left. */
export const RECOVERY_CODES_LOW = 3;

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

function randomCode(): string {
  // 100 bits: take 5 bits per character from 13 random bytes (104 bits, the last 4 unused).
  const bytes = randomBytes(13);
  let bits = 0n;
  for (const b of bytes) bits = (bits << 8n) | BigInt(b);
  let out = '';
  for (let i = 0; i < RECOVERY_CODE_CHARS; i++) out += ALPHABET[Number((bits >> BigInt(4 + 5 * i)) & 31n)];
  return out;
}

/** Ten fresh codes, formatted for display (XXXXX-XXXXX-XXXXX-XXXXX). */
export function newRecoveryCodes(): string[] {
  const codes = new Set<string>();
  while (codes.size < RECOVERY_CODE_COUNT) codes.add(randomCode());
  return [...codes].map(formatRecoveryCode);
}

export function formatRecoveryCode(normalized: string): string {
  return normalized.match(/.{1,5}/g)!.join('-');
}

/** The canonical form of what a person typed, or null when it cannot be a recovery code. */
export function normalizeRecoveryCode(typed: string): string | null {
  const cleaned = typed.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  if (cleaned.length !== RECOVERY_CODE_CHARS) return null;
  for (const ch of cleaned) if (!ALPHABET.includes(ch)) return null;
  return cleaned;
}

/** The stored form: HMAC-SHA-256 under a key only the unlocked vault can derive. */
export function hashRecoveryCode(key: Buffer, normalized: string): string {
  return createHmac('sha256', key).update(normalized, 'utf8').digest('hex');
}
