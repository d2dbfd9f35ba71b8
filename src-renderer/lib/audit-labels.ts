/**
 * The audit log in words: each action's name as a person would say it, the outcome as a badge,
 * and the groups the filter offers ("Locks and lockouts" is `locked` and `lockout`). The raw
 * action and ids stay in the details view and the CSV.
 */
import { AUDIT_ACTIONS } from '../../src-shared/contract.js';

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export const ACTION_LABEL: Record<AuditAction, string> = {
  setup: 'Account created',
  'password.ok': 'Password accepted',
  'password.failed': 'Wrong password',
  'password.changed': 'Password changed',
  'factor.ok': 'Second factor accepted',
  'factor.failed': 'Wrong code',
  'push.sent': 'Push request sent',
  'push.approved': 'Push approved',
  'push.denied': 'Push denied',
  'push.expired': 'Push request expired',
  'push.reported': 'Push reported as not me',
  'push.answer-refused': 'Push answer refused',
  'push.unavailable': 'Push not delivered',
  'pairing.failed': 'Pairing failed',
  'push.web-companion-changed': 'Web companion source changed',
  'device.added': 'Device added',
  'device.removed': 'Device removed',
  'device.renamed': 'Device renamed',
  'recovery.used': 'Recovery code used',
  'recovery.regenerated': 'New recovery codes made',
  lockout: 'Locked out for a while (too many failed attempts)',
  'step-up.ok': 'Action confirmed',
  'step-up.failed': 'Confirmation failed',
  'twofa.disabled': 'Two-factor authentication turned off',
  'factor.replayed': 'Code used a second time',
  locked: 'Locked',
  'settings.changed': 'Settings changed',
  'repository.created': 'Repository created',
  'repository.connected': 'Repository connected',
  'repository.password-changed': 'Repository password changed',
  'repository.changed': 'Repository changed',
  'repository.removed': 'Repository removed',
  'set.created': 'Backup set created',
  'set.changed': 'Backup set changed',
  'set.retention-changed': 'Retention changed',
  'set.deleted': 'Backup set deleted',
  'snapshots.forgotten': 'Snapshots deleted',
  'prune.finished': 'Space freed',
  'repair.finished': 'Repair finished',
  'restore.started': 'Restore started',
  'restore.finished': 'Restore finished',
  'integrity.failed': 'Integrity check failed',
  'app.quit': 'App quit',
  'app.stopped': 'App stopped',
};

export function actionLabel(action: string): string {
  return (ACTION_LABEL as Record<string, string>)[action] ?? 'Other event';
}

export const OUTCOME_BADGE: Record<string, { label: string; tone: 'ok' | 'bad' | 'neutral' }> = {
  success: { label: 'Succeeded', tone: 'ok' },
  failure: { label: 'Failed', tone: 'bad' },
  info: { label: 'Noted', tone: 'neutral' },
};

export function outcomeBadge(outcome: string): { label: string; tone: 'ok' | 'bad' | 'neutral' } {
  return OUTCOME_BADGE[outcome] ?? { label: 'Noted', tone: 'neutral' };
}

/** What the filter offers first: what a person looks for, each one or more actions. */
export const ACTION_GROUPS: readonly { id: string; label: string; actions: readonly AuditAction[] }[] = [
  { id: 'locks', label: 'Locks and lockouts', actions: ['locked', 'lockout'] },
  {
    id: 'failures',
    label: 'Failed attempts (wrong password or code)',
    actions: ['password.failed', 'factor.failed', 'factor.replayed', 'step-up.failed', 'lockout'],
  },
  { id: 'unlocks', label: 'Unlocks', actions: ['password.ok', 'factor.ok', 'recovery.used', 'push.approved'] },
  {
    id: 'devices',
    label: 'Devices and two-factor',
    actions: ['device.added', 'device.removed', 'device.renamed', 'recovery.regenerated', 'recovery.used', 'twofa.disabled', 'pairing.failed'],
  },
  {
    id: 'push',
    label: 'Push requests',
    actions: ['push.sent', 'push.approved', 'push.denied', 'push.expired', 'push.reported', 'push.answer-refused', 'push.unavailable'],
  },
  { id: 'confirmations', label: 'Confirmed actions', actions: ['step-up.ok', 'step-up.failed'] },
  { id: 'settings', label: 'Settings and password', actions: ['settings.changed', 'password.changed', 'push.web-companion-changed'] },
  {
    id: 'backups',
    label: 'Backups, restores and repositories',
    actions: [
      'repository.created',
      'repository.connected',
      'repository.password-changed',
      'repository.changed',
      'repository.removed',
      'set.created',
      'set.changed',
      'set.retention-changed',
      'set.deleted',
      'snapshots.forgotten',
      'prune.finished',
      'repair.finished',
      'restore.started',
      'restore.finished',
      'integrity.failed',
    ],
  },
];

const PURPOSE: Record<string, string> = { unlock: 'while unlocking', 'step-up': 'while confirming an action', 'sign-in': 'while unlocking' };
const FACTOR: Record<string, string> = {
  totp: 'code from a device',
  recovery: 'recovery code',
  push: 'push',
  'a code already accepted': 'a code that was already used',
};

/** The detail line in words: "unlock, totp" reads "while unlocking · code from a device". */
export function detailText(detail: string | null): string {
  if (!detail) return '';
  // A confirmation's detail is recorded as "<method>: <what was confirmed>"; people read the second part.
  const confirmed = /^[a-z]+(?:\.[a-zA-Z]+)+: (.+)$/s.exec(detail);
  if (confirmed) return confirmed[1]!;
  const m = /^(unlock|step-up|sign-in)(?:, (.+))?$/.exec(detail);
  if (!m) return detail;
  const purpose = PURPOSE[m[1]!]!;
  return m[2] ? `${purpose} · ${FACTOR[m[2]] ?? m[2]}` : purpose;
}
