/**
 * Approval requests and answers (docs/protocol.md §5) as pure async functions. The desktop
 * seals a request per device under its kReq; the companion answers with a decision signed by
 * its device key over the request hash, sealed under kAns. `judgeAnswer` is the desktop's whole
 * acceptance rule in one place.
 */
import { canonicalJson } from '../canonical-json.js';
import { b64u, randomBytes, utf8, type Bytes } from './encoding.js';
import {
  AnyApprovalSchema,
  APPROVAL_VERSION,
  ApprovalRequestSchema,
  CHOICE_COUNT,
  ClosedInnerSchema,
  PROTOCOL_VERSION,
  SignedAnswerSchema,
  type ApprovalAnswer,
  type ApprovalRequest,
  type Body,
  type ClosedInner,
  type Decision,
} from './messages.js';
import { safeJson } from './pairing.js';
import { decrypt, encrypt, sha256, sign, verify, type Key } from './suite.js';

export const PUSH_TTL_MS = 60_000;
/**
 * How far an answer's `time` (the companion's clock) may lie outside the request's life: phone
 * and computer clocks disagree a little; `time: 0` or a time from another day is refused.
 */
export const ANSWER_CLOCK_SKEW_MS = 120_000;

const aad = (kind: 'req' | 'ans' | 'closed', deviceId: string) => `twofold/v1/${kind}\n${deviceId}`;

/** A uniformly random integer in [0, n) without modulo bias. */
function randomBelow(n: number): number {
  const limit = Math.floor(0x1_0000_0000 / n) * n;
  for (;;) {
    const v = new DataView(randomBytes(4).buffer).getUint32(0);
    if (v < limit) return v % n;
  }
}

/** Three distinct two-digit numbers in random order, and the one the desktop shows. */
export function newChoices(): { choices: number[]; number: number } {
  const choices: number[] = [];
  while (choices.length < CHOICE_COUNT) {
    const n = 10 + randomBelow(90);
    if (!choices.includes(n)) choices.push(n);
  }
  return { choices, number: choices[randomBelow(CHOICE_COUNT)]! };
}

export function newNonce(): string {
  return b64u(randomBytes(16));
}

export async function requestHash(request: ApprovalRequest): Promise<string> {
  return b64u(await sha256(utf8(canonicalJson(request))));
}

export async function sealRequest(reqKey: Key, request: ApprovalRequest): Promise<{ body: string; hash: string }> {
  const checked = ApprovalRequestSchema.parse(request);
  const [sealed, hash] = await Promise.all([encrypt(reqKey, utf8(canonicalJson(checked)), aad('req', checked.deviceId)), requestHash(checked)]);
  return { body: canonicalJson({ k: 'req', v: PROTOCOL_VERSION, ...sealed }), hash };
}

export type OpenedRequest =
  | { request: ApprovalRequest; hash: string }
  /** Sealed by our desktop, but an R of a version this companion does not speak: refused, never shown. */
  | { unsupported: { v: number; txId: string | null } };

/** Companion: open a request meant for `deviceId`; null for anything not from our desktop. */
export async function openRequest(reqKey: Key, deviceId: string, body: Body): Promise<OpenedRequest | null> {
  if (body.k !== 'req') return null;
  const plain = await decrypt(reqKey, body, aad('req', deviceId));
  if (!plain) return null;
  const json = safeJson(plain);
  const parsed = ApprovalRequestSchema.safeParse(json);
  if (parsed.success) return parsed.data.deviceId === deviceId ? { request: parsed.data, hash: await requestHash(parsed.data) } : null;
  const other = AnyApprovalSchema.safeParse(json);
  // Only the desktop holds kReq, so this came from it: say that it cannot be shown, rather than drop it silently.
  if (other.success && other.data.v !== APPROVAL_VERSION) return { unsupported: { v: other.data.v, txId: other.data.txId ?? null } };
  return null;
}

function answerData(answer: ApprovalAnswer): Bytes {
  return utf8(`twofold/v1/answer\n${canonicalJson(answer)}`);
}

export async function sealAnswer(options: {
  ansKey: Key;
  deviceKey: Key;
  deviceId: string;
  txId: string;
  requestHash: string;
  decision: Decision;
  number: number | null;
  now: number;
}): Promise<string> {
  const answer: ApprovalAnswer = {
    txId: options.txId,
    requestHash: options.requestHash,
    decision: options.decision,
    number: options.decision === 'approve' ? options.number : null,
    time: options.now,
  };
  const sig = await sign(options.deviceKey, answerData(answer));
  const sealed = await encrypt(options.ansKey, utf8(canonicalJson({ answer, sig })), aad('ans', options.deviceId));
  // No device id in the clear: the desktop knows which of its devices it asked.
  return canonicalJson({ k: 'ans', v: PROTOCOL_VERSION, ...sealed });
}

/** Why an answer did not open: its tag (wrong key or altered), its content, or its signature. */
export type OpenFailure = 'bad-mac' | 'malformed' | 'bad-signature';

/** Desktop: decrypt an answer as `deviceId`'s and check that device's signature. */
export async function openAnswer(ansKey: Key, verifyKey: Key, deviceId: string, body: Body): Promise<{ answer: ApprovalAnswer } | { failure: OpenFailure }> {
  if (body.k !== 'ans') return { failure: 'malformed' };
  const plain = await decrypt(ansKey, body, aad('ans', deviceId));
  if (!plain) return { failure: 'bad-mac' };
  const parsed = SignedAnswerSchema.safeParse(safeJson(plain));
  if (!parsed.success) return { failure: 'malformed' };
  return (await verify(verifyKey, parsed.data.sig, answerData(parsed.data.answer))) ? { answer: parsed.data.answer } : { failure: 'bad-signature' };
}

export type Judgement = 'approve' | 'deny' | 'not-me' | 'number-mismatch' | 'wrong-request' | 'late' | 'bad-time';

/**
 * The desktop's acceptance rule for an authenticated answer: it must name the pending
 * transaction and the exact request this device was sent, arrive before expiry, carry a time
 * within the request's life (give or take ANSWER_CLOCK_SKEW_MS), and for an approval carry the
 * number shown on the desktop. A wrong number refuses the request; anything else is refused
 * and the request keeps waiting.
 */
export function judgeAnswer(
  pending: { txId: string; hash: string; number: number; time: number; expiresAt: number },
  answer: ApprovalAnswer,
  now: number,
): Judgement {
  if (answer.txId !== pending.txId || answer.requestHash !== pending.hash) return 'wrong-request';
  if (now >= pending.expiresAt) return 'late';
  if (answer.time < pending.time - ANSWER_CLOCK_SKEW_MS || answer.time > pending.expiresAt + ANSWER_CLOCK_SKEW_MS) return 'bad-time';
  if (answer.decision !== 'approve') return answer.decision;
  return answer.number === pending.number ? 'approve' : 'number-mismatch';
}

export async function sealClosed(reqKey: Key, deviceId: string, inner: ClosedInner): Promise<string> {
  const sealed = await encrypt(reqKey, utf8(canonicalJson(ClosedInnerSchema.parse(inner))), aad('closed', deviceId));
  return canonicalJson({ k: 'closed', v: PROTOCOL_VERSION, ...sealed });
}

export async function openClosed(reqKey: Key, deviceId: string, body: Body): Promise<ClosedInner | null> {
  if (body.k !== 'closed') return null;
  const plain = await decrypt(reqKey, body, aad('closed', deviceId));
  const parsed = plain && ClosedInnerSchema.safeParse(safeJson(plain));
  return parsed?.success ? parsed.data : null;
}
