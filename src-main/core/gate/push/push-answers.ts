/**
 * Which device an answer is from and what it says (docs/protocol.md §5.2), or why it is refused.
 * An answer names no device in the clear: the desktop tries the devices it is waiting on, the
 * one whose route the relay says it came from first (a hint, never trusted), and the first
 * whose answer key opens it is the sender. Every refusal has a reason the audit log records.
 */
import { judgeAnswer, openAnswer, type Judgement } from '../../../../src-shared/push/approval.js';
import { fromB64u } from '../../../../src-shared/push/encoding.js';
import type { ApprovalAnswer, Body } from '../../../../src-shared/push/messages.js';
import { importAesKey, importVerifyKey } from '../../../../src-shared/push/suite.js';
import type { PushDevice } from '../factor-list.js';

/** What an answer is judged against: a request as it was sent to one device. */
export interface Candidate {
  requestId: string;
  device: PushDevice;
  hash: string;
  number: number;
  time: number;
  expiresAt: number;
  /** Still waiting for its first valid answer. */
  open: boolean;
}

export type RefusalReason = 'bad MAC' | 'bad signature' | 'malformed answer' | 'replay' | 'wrong request' | 'late' | 'bad time';

export type AnswerVerdict =
  | { kind: 'accepted'; candidate: Candidate; judgement: Extract<Judgement, 'approve' | 'deny' | 'not-me' | 'number-mismatch'>; answer: ApprovalAnswer }
  | { kind: 'refused'; reason: RefusalReason; device: PushDevice | null };

const JUDGED_REFUSALS: Partial<Record<Judgement, RefusalReason>> = { 'wrong-request': 'wrong request', late: 'late', 'bad-time': 'bad time' };

/**
 * Open `body` as an answer from one of the candidates' devices and judge it against that device's
 * request. `from` is the relay's claim of the sender's route.
 */
export async function judgeIncoming(body: Body, from: string, candidates: Candidate[], now: number): Promise<AnswerVerdict> {
  const devices = new Map<string, PushDevice>();
  for (const c of candidates) devices.set(c.device.id, c.device);
  const ordered = [...devices.values()].sort((a, b) => Number(b.route === from) - Number(a.route === from));
  for (const device of ordered) {
    const opened = await openAnswer(await importAesKey(fromB64u(device.ansKey)), await importVerifyKey(device.publicKey), device.id, body);
    if ('failure' in opened) {
      if (opened.failure === 'bad-mac') continue; // not this device's key: try the next
      // The tag opened under this device's key, so it was sealed with it; what is inside is wrong.
      return { kind: 'refused', reason: opened.failure === 'bad-signature' ? 'bad signature' : 'malformed answer', device };
    }
    const answer = opened.answer;
    const candidate = candidates.find((c) => c.device.id === device.id && c.requestId === answer.txId);
    if (!candidate) return { kind: 'refused', reason: 'wrong request', device };
    if (!candidate.open) return { kind: 'refused', reason: 'replay', device };
    const judgement = judgeAnswer({ ...candidate, txId: candidate.requestId }, answer, now);
    const refused = JUDGED_REFUSALS[judgement];
    if (refused) return { kind: 'refused', reason: refused, device };
    return { kind: 'accepted', candidate, judgement: judgement as Extract<Judgement, 'approve' | 'deny' | 'not-me' | 'number-mismatch'>, answer };
  }
  return { kind: 'refused', reason: 'bad MAC', device: null };
}
