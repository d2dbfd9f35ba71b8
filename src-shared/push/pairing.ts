/**
 * Pairing (docs/protocol.md §4) as pure async functions, one set for each side. The desktop
 * shows a one-time QR code; the companion proves it scanned it (HMAC keyed by the QR secret),
 * both derive the same keys and a short comparison code from the transcript, and the desktop
 * hands the companion its device id and OTP seed under a key the relay never sees.
 */
import { canonicalJson } from '../canonical-json.js';
import { b64u, concatBytes, fromB64u, fromUtf8, randomBytes, randomToken, utf8, type Bytes } from './encoding.js';
import {
  PairAckSchema,
  PairDoneInnerSchema,
  PairHelloInnerSchema,
  PairingPayloadSchema,
  PairResultInnerSchema,
  PROTOCOL_VERSION,
  type Body,
  type PairDoneInner,
  type PairingPayload,
  type PairRefusedReason,
  type PairResultInner,
} from './messages.js';
import {
  decrypt,
  ecdh,
  encrypt,
  exportPublicKey,
  hkdf,
  hmac,
  hmacVerify,
  importAesKey,
  importEcdhPublic,
  importVerifyKey,
  newEcdhKeyPair,
  QR_SECRET_BYTES,
  routeIdOf,
  sha256,
  sign,
  verify,
  type Key,
  type KeyPair,
} from './suite.js';

/** The longest a pairing QR code lives (docs/protocol.md §4). */
export const PAIRING_MAX_TTL_MS = 120_000;
export const PAIR_LINK_FRAGMENT = 'pair';

const AAD_HELLO = 'twofold/v1/pair-hello';
const AAD_DONE = 'twofold/v1/pair-done';
const AAD_RESULT = 'twofold/v1/pair-result';

/** What both sides derive from one pair-hello. Raw push keys are kept by the desktop (sealed) and the CLI. */
export interface PairingKeys {
  th: Bytes;
  c2d: Key;
  d2c: Key;
  reqKey: Bytes;
  ansKey: Bytes;
  /** Six digits, for people to compare on both screens. */
  code: string;
}

export function formatComparisonCode(code: string): string {
  return `${code.slice(0, 3)} ${code.slice(3)}`;
}

/** Binds the QR, the companion's ephemeral key and its route: the relay cannot swap any of them. */
export async function transcriptHash(payload: PairingPayload, companionEphemeral: string, companionRoute: string): Promise<Bytes> {
  return sha256(utf8(`twofold/v1/pair\n${canonicalJson(payload)}\n${companionEphemeral}\n${companionRoute}`));
}

async function deriveKeys(z: Bytes, secret: Bytes, th: Bytes): Promise<PairingKeys> {
  const [c2d, d2c, reqKey, ansKey, codeBytes] = await Promise.all([
    hkdf(z, secret, 'pair c2d', th),
    hkdf(z, secret, 'pair d2c', th),
    hkdf(z, secret, 'push req', th),
    hkdf(z, secret, 'push ans', th),
    hkdf(z, secret, 'code', th),
  ]);
  const n = new DataView(codeBytes.buffer).getUint32(0) % 1_000_000;
  return { th, c2d: await importAesKey(c2d), d2c: await importAesKey(d2c), reqKey, ansKey, code: String(n).padStart(6, '0') };
}

// ---------------------------------------------------------------- desktop side

export interface DesktopPairing {
  payload: PairingPayload;
  ephemeral: KeyPair;
  secret: Bytes;
  mailboxToken: string;
}

export async function startPairing(options: { relayUrl: string; account: string; workstation: string; now: number; ttlMs?: number }): Promise<DesktopPairing> {
  const ttl = Math.min(options.ttlMs ?? PAIRING_MAX_TTL_MS, PAIRING_MAX_TTL_MS);
  const ephemeral = await newEcdhKeyPair();
  const secret = randomBytes(QR_SECRET_BYTES);
  const mailboxToken = randomToken(32);
  const payload = PairingPayloadSchema.parse({
    v: PROTOCOL_VERSION,
    relay: options.relayUrl,
    mailbox: await routeIdOf(mailboxToken),
    ek: await exportPublicKey(ephemeral.publicKey),
    s: b64u(secret),
    exp: options.now + ttl,
    account: options.account.slice(0, 100),
    workstation: options.workstation.slice(0, 100),
  });
  return { payload, ephemeral, secret, mailboxToken };
}

/** The link in the QR code: the companion page, with the payload in the fragment the server never sees. */
export function pairingLink(companionUrl: string, payload: PairingPayload): string {
  return `${companionUrl}#${PAIR_LINK_FRAGMENT}=${b64u(utf8(canonicalJson(payload)))}`;
}

export interface AcceptedHello {
  keys: PairingKeys;
  deviceKey: string;
  deviceRoute: string;
}

/**
 * Check a pair-hello: the MAC (proof of the scan), the ciphertext, and the device's signature
 * over the transcript. Null for anything forged, tampered or from someone without the QR.
 */
export async function acceptPairHello(pairing: DesktopPairing, body: Body): Promise<AcceptedHello | null> {
  if (body.k !== 'pair-hello') return null;
  const th = await transcriptHash(pairing.payload, body.ek, body.route);
  if (!(await hmacVerify(pairing.secret, body.mac, th))) return null;
  let peer: Key;
  try {
    peer = await importEcdhPublic(body.ek);
  } catch {
    return null;
  }
  const keys = await deriveKeys(await ecdh(pairing.ephemeral.privateKey, peer), pairing.secret, th);
  const plain = await decrypt(keys.c2d, body, AAD_HELLO);
  const inner = plain && PairHelloInnerSchema.safeParse(safeJson(plain));
  if (!inner?.success) return null;
  try {
    const deviceKey = await importVerifyKey(inner.data.dk);
    if (!(await verify(deviceKey, inner.data.sig, concatBytes(utf8(`${AAD_HELLO}\n`), th)))) return null;
  } catch {
    return null;
  }
  return { keys, deviceKey: inner.data.dk, deviceRoute: body.route };
}

/** Whether a pair-hello carries a valid scan proof, so a refusal is worth sending back. */
export async function helloHasValidMac(pairing: DesktopPairing, body: Body): Promise<boolean> {
  if (body.k !== 'pair-hello') return false;
  return hmacVerify(pairing.secret, body.mac, await transcriptHash(pairing.payload, body.ek, body.route));
}

function refusedData(reason: PairRefusedReason, th: Bytes): Bytes {
  return concatBytes(utf8(`twofold/v1/pair-refused\n${reason}\n`), th);
}

export async function pairRefusedBody(secret: Bytes, th: Bytes, reason: PairRefusedReason): Promise<string> {
  return canonicalJson({ k: 'pair-refused', v: PROTOCOL_VERSION, reason, mac: await hmac(secret, refusedData(reason, th)) });
}

export async function pairDoneBody(keys: PairingKeys, inner: PairDoneInner): Promise<string> {
  const sealed = await encrypt(keys.d2c, utf8(canonicalJson(PairDoneInnerSchema.parse(inner))), AAD_DONE);
  return canonicalJson({ k: 'pair-done', v: PROTOCOL_VERSION, ...sealed });
}

export async function verifyPairAck(deviceKey: string, th: Bytes, body: Body): Promise<boolean> {
  if (body.k !== 'pair-ack') return false;
  return verify(await importVerifyKey(deviceKey), body.sig, concatBytes(utf8('twofold/v1/pair-ack\n'), th));
}

/** After a valid ack (or instead of one): whether the device was added. Sealed like pair-done, so only the companion can read it. */
export async function pairResultBody(d2c: Key, inner: PairResultInner): Promise<string> {
  const sealed = await encrypt(d2c, utf8(canonicalJson(PairResultInnerSchema.parse(inner))), AAD_RESULT);
  return canonicalJson({ k: 'pair-result', v: PROTOCOL_VERSION, ...sealed });
}

// ---------------------------------------------------------------- companion side

/** Read a pairing link (or the bare fragment value); throws a readable error for anything else. */
export function parsePairingLink(link: string): PairingPayload {
  const hash = link.includes('#') ? link.slice(link.indexOf('#') + 1) : link;
  const value = new URLSearchParams(hash).get(PAIR_LINK_FRAGMENT);
  if (!value) throw new Error('That is not a Twofold pairing link.');
  let json: unknown;
  try {
    json = JSON.parse(fromUtf8(fromB64u(value)));
  } catch {
    throw new Error('The pairing link is damaged.');
  }
  const parsed = PairingPayloadSchema.safeParse(json);
  if (!parsed.success) throw new Error('The pairing link is damaged or from an unknown version.');
  return parsed.data;
}

export interface CompanionPairing {
  payload: PairingPayload;
  keys: PairingKeys;
  routeToken: string;
  route: string;
  helloBody: string;
}

/** Make the pair-hello for a scanned link; the device key pair was made on this device. */
export async function companionHello(payload: PairingPayload, device: KeyPair, now: number): Promise<CompanionPairing> {
  if (payload.exp <= now) throw new Error('This pairing code has expired. Start pairing again on the computer.');
  const ephemeral = await newEcdhKeyPair();
  const ek = await exportPublicKey(ephemeral.publicKey);
  const secret = fromB64u(payload.s);
  const routeToken = randomToken(32);
  const route = await routeIdOf(routeToken);
  const th = await transcriptHash(payload, ek, route);
  const keys = await deriveKeys(await ecdh(ephemeral.privateKey, await importEcdhPublic(payload.ek)), secret, th);
  const dk = await exportPublicKey(device.publicKey);
  const sig = await sign(device.privateKey, concatBytes(utf8(`${AAD_HELLO}\n`), th));
  const sealed = await encrypt(keys.c2d, utf8(canonicalJson({ dk, sig })), AAD_HELLO);
  const helloBody = canonicalJson({ k: 'pair-hello', v: PROTOCOL_VERSION, ek, route, ...sealed, mac: await hmac(secret, th) });
  return { payload, keys, routeToken, route, helloBody };
}

export async function openPairDone(pairing: CompanionPairing, body: Body): Promise<PairDoneInner | null> {
  if (body.k !== 'pair-done') return null;
  const plain = await decrypt(pairing.keys.d2c, body, AAD_DONE);
  const inner = plain && PairDoneInnerSchema.safeParse(safeJson(plain));
  return inner?.success ? inner.data : null;
}

/** The desktop's word on the pairing, for the device it named in pair-done; null for anything else. */
export async function openPairResult(pairing: CompanionPairing, deviceId: string, body: Body): Promise<PairResultInner['outcome'] | null> {
  if (body.k !== 'pair-result') return null;
  const plain = await decrypt(pairing.keys.d2c, body, AAD_RESULT);
  const inner = plain && PairResultInnerSchema.safeParse(safeJson(plain));
  return inner?.success && inner.data.deviceId === deviceId ? inner.data.outcome : null;
}

/** A refusal counts only with a MAC under the QR secret: the relay cannot fake one. */
export async function openPairRefused(pairing: CompanionPairing, body: Body): Promise<PairRefusedReason | null> {
  if (body.k !== 'pair-refused') return null;
  const ok = await hmacVerify(fromB64u(pairing.payload.s), body.mac, refusedData(body.reason, pairing.keys.th));
  return ok ? body.reason : null;
}

export async function pairAckBody(device: KeyPair, th: Bytes): Promise<string> {
  const sig = await sign(device.privateKey, concatBytes(utf8('twofold/v1/pair-ack\n'), th));
  return canonicalJson(PairAckSchema.parse({ k: 'pair-ack', v: PROTOCOL_VERSION, sig }));
}

export function safeJson(bytes: Bytes): unknown {
  try {
    return JSON.parse(fromUtf8(bytes));
  } catch {
    return null;
  }
}
