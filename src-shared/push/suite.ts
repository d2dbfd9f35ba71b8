/**
 * The push protocol's crypto suite (docs/protocol.md §1), all through WebCrypto so the same
 * code runs in Node 24, Electron and browsers: ECDH P-256, HKDF-SHA-256, AES-256-GCM,
 * ECDSA P-256/SHA-256, HMAC-SHA-256. Every function is pure apart from randomness.
 */
import { b64u, concatBytes, fromB64u, randomBytes, utf8, type Bytes } from './encoding.js';

type Subtle = typeof globalThis.crypto.subtle;
/** The runtime's Key (Node's webcrypto.Key or the DOM's), named without either lib. */
export type Key = Awaited<ReturnType<Subtle['importKey']>>;
export interface KeyPair {
  publicKey: Key;
  privateKey: Key;
}

const subtle = (): Subtle => globalThis.crypto.subtle;

const ECDH = { name: 'ECDH', namedCurve: 'P-256' } as const;
const ECDSA = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;
export const IV_BYTES = 12;
export const QR_SECRET_BYTES = 16;
/** An uncompressed P-256 point: 0x04 ‖ x ‖ y. */
export const PUBLIC_KEY_BYTES = 65;

export async function sha256(data: Bytes): Promise<Bytes> {
  return new Uint8Array(await subtle().digest('SHA-256', data));
}

/** A route id: the first 16 bytes of SHA-256 of the route token (docs/protocol.md §2.1). */
export async function routeIdOf(token: string): Promise<string> {
  return b64u((await sha256(fromB64u(token))).slice(0, 16));
}

export function newEcdhKeyPair(): Promise<KeyPair> {
  return subtle().generateKey(ECDH, false, ['deriveBits']) as Promise<KeyPair>;
}

/** The device's long-term signing key; `extractable` is false in browsers (IndexedDB keeps the Key). */
export function newSigningKeyPair(extractable: boolean): Promise<KeyPair> {
  return subtle().generateKey(ECDSA, extractable, ['sign', 'verify']) as Promise<KeyPair>;
}

export async function exportPublicKey(key: Key): Promise<string> {
  return b64u(new Uint8Array(await subtle().exportKey('raw', key)));
}

function rawPoint(encoded: string): Bytes {
  const raw = fromB64u(encoded);
  if (raw.length !== PUBLIC_KEY_BYTES || raw[0] !== 4) throw new Error('Not an uncompressed P-256 public key.');
  return raw;
}

/** Import a peer's ECDH public key; throws for anything that is not a point on P-256. */
export function importEcdhPublic(encoded: string): Promise<Key> {
  return subtle().importKey('raw', rawPoint(encoded), ECDH, true, []);
}

export function importVerifyKey(encoded: string): Promise<Key> {
  return subtle().importKey('raw', rawPoint(encoded), ECDSA, true, ['verify']);
}

export async function ecdh(privateKey: Key, peerPublic: Key): Promise<Bytes> {
  return new Uint8Array(await subtle().deriveBits({ name: 'ECDH', public: peerPublic }, privateKey, 256));
}

/** HKDF-SHA-256 (docs/protocol.md §1): info = "twofold/v1/<label>" ‖ transcript hash. */
export async function hkdf(ikm: Bytes, salt: Bytes, label: string, th: Bytes): Promise<Bytes> {
  const key = await subtle().importKey('raw', ikm, 'HKDF', false, ['deriveBits']);
  const info = concatBytes(utf8(`twofold/v1/${label}`), th);
  return new Uint8Array(await subtle().deriveBits({ name: 'HKDF', hash: 'SHA-256', salt, info }, key, 256));
}

export function importAesKey(raw: Bytes, extractable = false): Promise<Key> {
  return subtle().importKey('raw', raw, 'AES-GCM', extractable, ['encrypt', 'decrypt']);
}

export interface Sealed {
  iv: string;
  ct: string;
}

export async function encrypt(key: Key, plaintext: Bytes, aad: string): Promise<Sealed> {
  const iv = randomBytes(IV_BYTES);
  const ct = await subtle().encrypt({ name: 'AES-GCM', iv, additionalData: utf8(aad) }, key, plaintext);
  return { iv: b64u(iv), ct: b64u(new Uint8Array(ct)) };
}

/** Decrypt and authenticate; null for a wrong key, a wrong place (aad) or any flipped bit. */
export async function decrypt(key: Key, sealed: Sealed, aad: string): Promise<Bytes | null> {
  try {
    const iv = fromB64u(sealed.iv);
    if (iv.length !== IV_BYTES) return null;
    const plain = await subtle().decrypt({ name: 'AES-GCM', iv, additionalData: utf8(aad) }, key, fromB64u(sealed.ct));
    return new Uint8Array(plain);
  } catch {
    return null;
  }
}

export async function sign(privateKey: Key, data: Bytes): Promise<string> {
  return b64u(new Uint8Array(await subtle().sign(SIGN, privateKey, data)));
}

/** Verify an ECDSA signature; false (never a throw) for malformed input. */
export async function verify(publicKey: Key, signature: string, data: Bytes): Promise<boolean> {
  try {
    const sig = fromB64u(signature);
    if (sig.length !== 64) return false;
    return await subtle().verify(SIGN, publicKey, sig, data);
  } catch {
    return false;
  }
}

function hmacKey(secret: Bytes, usage: 'sign' | 'verify'): Promise<Key> {
  return subtle().importKey('raw', secret, { name: 'HMAC', hash: 'SHA-256' }, false, [usage]);
}

export async function hmac(secret: Bytes, data: Bytes): Promise<string> {
  return b64u(new Uint8Array(await subtle().sign('HMAC', await hmacKey(secret, 'sign'), data)));
}

/** Check an HMAC with WebCrypto's verify, which compares in constant time. */
export async function hmacVerify(secret: Bytes, mac: string, data: Bytes): Promise<boolean> {
  try {
    return await subtle().verify('HMAC', await hmacKey(secret, 'verify'), fromB64u(mac), data);
  } catch {
    return false;
  }
}
