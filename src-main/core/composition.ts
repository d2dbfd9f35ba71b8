/**
 * The composition root: the one place that builds the core's services and wires them together.
 * No module keeps a hidden singleton; every face (Electron, console, tests) calls createCore.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { APP_NAME } from '../../src-shared/product.js';
import { AccountService } from './gate/accounts.js';
import { AuditRecorder } from './gate/audit-recorder.js';
import { DeviceService } from './gate/devices.js';
import { SecondFactor } from './gate/second-factor.js';
import { systemClock, type Clock } from './platform/clock.js';
import { FactorListStore } from './gate/factor-list.js';
import { Gate } from './gate/gate.js';
import { createOsKeychain, type Keychain } from './platform/keychain.js';
import { createFileLogger, type Logger } from './platform/logger.js';
import { DEFAULT_TARGET_MS, OWASP_MINIMUM } from './platform/password-kdf.js';
import { createPasswordPolicy, type PasswordPolicy } from './gate/password-policy.js';
import { SealedRecords } from './gate/sealed-records.js';
import { SettingsService } from './gate/settings.js';
import { holdDataFolder, type InstanceLock } from './platform/instance-lock.js';
import { metaValue, openStore, type Store } from './platform/store.js';
import { Throttle } from './gate/throttle.js';
import { Vault } from './gate/vault.js';
import { CoreError } from './platform/errors.js';
import { StateSeal } from './gate/state-seal.js';
import { Scheduler } from './backup/scheduler.js';
import { BackupService } from './backup/service.js';
import { PairingService } from './gate/push/pairing.js';
import { PushApprovals } from './gate/push/push-approvals.js';
import { DesktopRelay } from './gate/push/relay-client.js';

export { APP_NAME };

export interface CoreOptions {
  /** The user data folder: the database and the logs live here. */
  dataDir: string;
  appVersion: string;
  keychain?: Keychain;
  clock?: Clock;
  logger?: Logger;
  kdfTargetMs?: number;
  /** How often to check for an idle session; 0 disables the timer (tests call checkIdle). */
  idleCheckMs?: number;
  /** How often the backup scheduler looks for due sets; 0 disables the timer (tests call tick). */
  schedulerIntervalMs?: number;
}

export interface Core {
  readonly appName: string;
  readonly appVersion: string;
  readonly store: Store;
  readonly vault: Vault;
  readonly accounts: AccountService;
  readonly factors: FactorListStore;
  readonly throttle: Throttle;
  readonly settings: SettingsService;
  readonly passwordPolicy: PasswordPolicy;
  readonly gate: Gate;
  readonly devices: DeviceService;
  readonly audit: AuditRecorder;
  /** Backup repositories, sets, jobs and history; the scheduler runs sets while the app is locked. */
  readonly backup: BackupService;
  readonly scheduler: Scheduler;
  /** Push approval: the relay connections, pairing of companions, and requests. */
  readonly pushRelay: DesktopRelay;
  readonly pairing: PairingService;
  readonly push: PushApprovals;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The database's tamper and rollback seal. */
  readonly seal: StateSeal;
  /** Settles once the seal has read its key from the keychain; the router waits for it. */
  readonly ready: Promise<void>;
  /** Stop: lock, record why in the audit log (`reason`, e.g. "the OS ended the app"), close the store. */
  close(reason?: string): void;
}

export function createCore(options: CoreOptions): Core {
  // One process per data folder, before anything in it is opened (platform/instance-lock.ts).
  const instance = holdDataFolder(options.dataDir);
  try {
    return buildCore(options, instance);
  } catch (e) {
    instance.release();
    throw e;
  }
}

function buildCore(options: CoreOptions, instance: InstanceLock): Core {
  // Process tuning (V8 and allocator flags) is the shells' start-up, not the core's: src-main/api/process-tuning.ts.
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createFileLogger(options.dataDir, () => clock.now());
  const keychain = options.keychain ?? createOsKeychain();
  const store = openStore(options.dataDir);
  const installId = metaValue(store, 'install_id', () => randomUUID());
  const vault = new Vault(keychain, installId);
  const seal = new StateSeal({ store, vault, keychain, installId, logger });
  const records = new SealedRecords(store, vault);
  const factors = new FactorListStore(records);
  const throttle = new Throttle(store);
  const settings = new SettingsService(store);
  const passwordPolicy = createPasswordPolicy();
  const accounts = new AccountService({
    store,
    vault,
    throttle,
    factors,
    policy: passwordPolicy,
    clock,
    logger,
    kdfTargetMs: options.kdfTargetMs ?? DEFAULT_TARGET_MS,
    onVaultKey: (vaultKey) => seal.useVaultKey(vaultKey),
  });
  const audit = new AuditRecorder(store, vault, clock, logger);
  const localContext = { ip: 'local', workstation: hostname() };
  const secondFactor = new SecondFactor({ store, factors, throttle, clock, audit });
  const devices = new DeviceService({ store, factors, clock, audit });
  const gate = new Gate({ accounts, factors, secondFactor, throttle, settings, audit, clock, logger, localContext, integrity: seal });
  const pushRelay = new DesktopRelay({ configuredUrl: () => settings.get().relayUrl, clock, logger });
  const sessionHandle = () => gate.sessionHandle();
  const pairing = new PairingService({ store, factors, relay: pushRelay, audit, clock, logger, sessionHandle, appVersion: options.appVersion });
  const push = new PushApprovals({ store, factors, gate, throttle, relay: pushRelay, audit, clock, logger, appVersion: options.appVersion });
  gate.onUnlocked((accountId) => push.unlocked(accountId));

  // Tests ask for the cheapest password KDF; repository passwords follow (they are 150-bit random anyway).
  const cheapKdf = (options.kdfTargetMs ?? DEFAULT_TARGET_MS) < 50;
  const backup = new BackupService({
    store,
    vault,
    clock,
    logger,
    dataDir: options.dataDir,
    audit: (ctx, event) => audit.recordSoon(ctx ?? localContext, { ...event, account: accounts.current()?.name ?? null }),
    ...(cheapKdf ? { repoKdfCost: OWASP_MINIMUM } : {}),
  });
  const scheduler = new Scheduler({ service: backup, clock, logger, intervalMs: options.schedulerIntervalMs ?? 30_000 });
  scheduler.start();

  const idleCheckMs = options.idleCheckMs ?? 15_000;
  const idleTimer = idleCheckMs > 0 ? setInterval(() => gate.checkIdle(), idleCheckMs) : null;
  idleTimer?.unref();

  const ready = seal.load().catch((error: unknown) => logger.error('state seal not loaded', { code: error instanceof CoreError ? error.code : 'unknown' }));

  logger.info('core started', { version: options.appVersion });
  return {
    appName: APP_NAME,
    appVersion: options.appVersion,
    store,
    vault,
    accounts,
    factors,
    throttle,
    settings,
    passwordPolicy,
    gate,
    devices,
    audit,
    backup,
    scheduler,
    pushRelay,
    pairing,
    push,
    clock,
    logger,
    seal,
    ready,
    close(reason) {
      if (idleTimer) clearInterval(idleTimer);
      scheduler.stop();
      void backup.close();
      pairing.close();
      push.close();
      pushRelay.close();
      gate.lock('shutdown');
      if (reason) audit.recordNow(localContext, { action: 'app.stopped', outcome: 'info', account: accounts.current()?.name ?? null, detail: reason });
      store.close();
      instance.release();
    },
  };
}
