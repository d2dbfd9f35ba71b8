/**
 * The audit rows of push approval (docs/security.md §4a), worded in one place: every outcome of
 * a request, every answer refused with its reason, and every time the relay could not take a
 * request. Refusals are what a hostile relay or peer can produce at will, so a request records
 * at most REFUSALS_PER_REQUEST of them and then one row with how many more there were.
 */
import type { RelayErrorCode } from '../../../../src-shared/push/messages.js';
import type { AuditRecorder } from '../audit-recorder.js';
import type { RequestContext } from '../../platform/context.js';
import type { RefusalReason } from './push-answers.js';

export const REFUSALS_PER_REQUEST = 5;

const REFUSAL_TEXT: Record<RefusalReason, string> = {
  'bad MAC': "answer refused: bad MAC (not sealed with any companion's key, or altered)",
  'bad signature': "answer refused: bad signature (not signed by the companion's key)",
  'malformed answer': 'answer refused: malformed content',
  replay: 'answer refused: replay of an answer to an earlier request',
  'wrong request': 'answer refused: signed for a different request',
  late: 'answer refused: arrived after the request expired',
  'bad time': "answer refused: its time is outside the request's life",
};

const RELAY_TEXT: Record<RelayErrorCode, string> = {
  UNAVAILABLE: 'the relay cannot reach its store (Redis)',
  QUEUE_FULL: "the companion's queue on the relay is full",
  OVER_QUOTA: "the relay's quota for this computer is used up",
  RELAY_FULL: 'the relay is out of memory budget',
  ROUTE_BUSY: "the companion's route on the relay is receiving too much",
  RATE_LIMITED: 'the relay rate-limited this computer',
  BODY_TOO_BIG: "the relay refused the request's size",
  BAD_TTL: "the relay refused the request's lifetime",
  BAD_FRAME: 'the relay refused the frame',
  NOT_READY: 'the relay connection was not ready',
  ALREADY_READY: 'the relay connection was confused',
};

export interface PushAuditTarget {
  ctx: RequestContext;
  accountName: string;
  refusals: number;
}

export type PushOutcomeAction = 'push.sent' | 'push.approved' | 'push.denied' | 'push.expired' | 'push.reported';

export class PushAudit {
  constructor(private readonly audit: AuditRecorder) {}

  outcome(target: PushAuditTarget, action: PushOutcomeAction, outcome: 'success' | 'failure' | 'info', device: string | null, detail: string): Promise<void> {
    return this.audit.record(target.ctx, { action, outcome, account: target.accountName, device, detail });
  }

  /** One refused answer; the count goes on, the rows stop at the cap. */
  async refused(target: PushAuditTarget, reason: RefusalReason, device: string | null): Promise<void> {
    target.refusals++;
    if (target.refusals > REFUSALS_PER_REQUEST) return;
    await this.audit.record(target.ctx, {
      action: 'push.answer-refused',
      outcome: 'failure',
      account: target.accountName,
      device,
      detail: REFUSAL_TEXT[reason],
    });
  }

  /** When a request ends: how many refusals went unrecorded, if any. */
  async refusalsSummary(target: PushAuditTarget): Promise<void> {
    const more = target.refusals - REFUSALS_PER_REQUEST;
    if (more <= 0) return;
    await this.audit.record(target.ctx, {
      action: 'push.answer-refused',
      outcome: 'failure',
      account: target.accountName,
      detail: `${more} more refused ${more === 1 ? 'answer' : 'answers'} not listed`,
    });
  }

  /** The relay refused (or could not be reached for) the request to one device, or to all. */
  unavailable(ctx: RequestContext, accountName: string, device: string | null, code: RelayErrorCode | 'unreachable'): Promise<void> {
    const why = code === 'unreachable' ? 'the relay cannot be reached' : `${RELAY_TEXT[code]} (${code})`;
    return this.audit.record(ctx, { action: 'push.unavailable', outcome: 'failure', account: accountName, device, detail: `push not delivered: ${why}` });
  }
}

/** The relay's refusal as the user reads it on the companion's or the computer's screen. */
export function relayRefusalText(code: RelayErrorCode): string {
  return RELAY_TEXT[code];
}
