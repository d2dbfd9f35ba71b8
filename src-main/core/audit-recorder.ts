/**
 * Records gate events in the audit log. The log's MAC key is derived from the vault key (in
 * the OS keychain), so someone who edits the database file cannot recompute the chain; it is
 * derived on first use because the keychain is only reached asynchronously.
 */
import { AuditLog, type AuditAction, type AuditOutcome } from './audit.js';
import type { Clock } from './clock.js';
import type { RequestContext } from './context.js';
import type { Store } from './store.js';
import type { Vault } from './vault.js';

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

  constructor(
    private readonly store: Store,
    private readonly vault: Vault,
    private readonly clock: Clock,
  ) {}

  /** The log itself, for queries; opening it needs the keychain item. */
  open(): Promise<AuditLog> {
    if (!this.log) {
      this.log = this.vault.derivedKey('twofold/v1/audit-mac').then((key) => new AuditLog(this.store, key, this.clock));
      this.log.catch(() => (this.log = null)); // a keychain hiccup must not poison every later call
    }
    return this.log;
  }

  async record(ctx: RequestContext, event: GateEvent): Promise<void> {
    const log = await this.open();
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
}
