/**
 * Records gate events in the audit log. The log's MAC key is derived from the vault key (in
 * the OS keychain), so someone who edits the database file cannot recompute the chain; it is
 * derived on first use because the keychain is only reached asynchronously.
 */
import { AuditLog, type AuditAction, type AuditOutcome } from './audit.js';
import type { Clock } from '../platform/clock.js';
import type { RequestContext } from '../platform/context.js';
import type { Store } from '../platform/store.js';
import type { Vault } from './vault.js';
import { CoreError } from '../platform/errors.js';
import type { Logger } from '../platform/logger.js';

function append(log: AuditLog, ctx: RequestContext, event: GateEvent): void {
  log.append({
    account: event.account ?? null,
    device: event.device ?? null,
    action: event.action,
    outcome: event.outcome,
    detail: event.detail ?? null,
    workstation: ctx.workstation,
    ip: ctx.ip,
  });
}

export interface GateEvent {
  action: AuditAction;
  outcome: AuditOutcome;
  account?: string | null;
  device?: string | null;
  /** Short, and never a secret, code or password. */
  detail?: string | null;
}

export class AuditRecorder {
  private log: Promise<AuditLog> | null = null;
  private opened: AuditLog | null = null;

  constructor(
    private readonly store: Store,
    private readonly vault: Vault,
    private readonly clock: Clock,
    private readonly logger?: Logger,
  ) {}

  /** The log itself, for queries; opening it needs the keychain item. */
  open(): Promise<AuditLog> {
    if (!this.log) {
      this.log = this.vault.derivedKey('twofold/v1/audit-mac').then((key) => (this.opened = new AuditLog(this.store, key, this.clock)));
      this.log.catch(() => (this.log = null)); // a keychain hiccup must not poison every later call
    }
    return this.log;
  }

  async record(ctx: RequestContext, event: GateEvent): Promise<void> {
    append(await this.open(), ctx, event);
  }

  /**
   * Record without waiting (from a timer, an OS event, a job): at once when the log is open,
   * else as soon as it is; a failure goes to the application log.
   */
  recordSoon(ctx: RequestContext, event: GateEvent): void {
    if (this.recordNow(ctx, event)) return;
    this.record(ctx, event).catch((error: unknown) =>
      this.logger?.error('audit event not recorded', { action: event.action, code: error instanceof CoreError ? error.code : 'unknown' }),
    );
  }

  /**
   * Record at once, when the log is already open (the app is stopping and cannot wait for the
   * keychain); returns false when it was not open, so nothing could be recorded.
   */
  recordNow(ctx: RequestContext, event: GateEvent): boolean {
    if (!this.opened) return false;
    try {
      append(this.opened, ctx, event);
      return true;
    } catch {
      return false;
    }
  }
}
