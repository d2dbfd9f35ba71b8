/**
 * What a push approval is while it waits: its purpose, the devices it went to, its state, and
 * what the desktop is told of it (push-approvals.ts runs them).
 */
import type { FactorList, PushDevice } from '../factor-list.js';
import type { PushAuditTarget } from './push-audit.js';

export type PushState = 'pending' | 'approved' | 'denied' | 'reported' | 'refused' | 'expired' | 'cancelled' | 'unavailable';

/** A step-up push carries what it confirms, made from the input its proof is bound to (src-main/api/confirmations.ts). */
export type PushPurpose =
  | { kind: 'unlock' }
  | { kind: 'step-up'; method: string; inputDigest: string; action: string; confirmation: { title: string; consequence: string; digest: string } };

export interface SentTo {
  device: PushDevice;
  hash: string;
  messageId: string;
}

export interface PushRequest extends PushAuditTarget {
  id: string;
  accountId: number;
  handle: object;
  purpose: PushPurpose;
  number: number;
  time: number;
  expiresAt: number;
  /** Devices the relay refused to take the request for. */
  undelivered: Set<string>;
  sentTo: Map<string, SentTo>;
  state: PushState;
  /** Set by the first valid answer, before anything is awaited: a second device's answer is ignored. */
  answered: boolean;
  proof: { proof: string; expiresAt: number } | null;
  waiters: Set<() => void>;
  expiryTimer: ReturnType<typeof setTimeout> | null;
}

export interface AccountPushState {
  pending: PushRequest | null;
  sent: number;
  lastSentAt: number;
}

export interface PushStarted {
  requestId: string;
  number: number;
  expiresAt: number;
  devices: number;
  action: string;
}

export interface PushPoll {
  state: PushState;
  expiresAt: number;
  proof: { proof: string; expiresAt: number } | null;
}

export interface PushStatus {
  available: boolean;
  relayConfigured: boolean;
  devices: number;
  mutedUntil: number | null;
  retryAfterMs: number;
  pending: { requestId: string; number: number; expiresAt: number } | null;
}

export function pushDevices(list: FactorList): PushDevice[] {
  return list.devices.filter((d): d is PushDevice => d.kind === 'push' && d.active);
}

export function samePurpose(a: PushPurpose, b: PushPurpose): boolean {
  if (a.kind === 'unlock' || b.kind === 'unlock') return a.kind === b.kind;
  return a.method === b.method && a.inputDigest === b.inputDigest;
}

export function started(request: PushRequest): PushStarted {
  return {
    requestId: request.id,
    number: request.number,
    expiresAt: request.expiresAt,
    devices: request.sentTo.size,
    action: request.purpose.kind === 'unlock' ? 'Unlock' : request.purpose.action,
  };
}
