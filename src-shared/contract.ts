/**
 * The one contract between every face (Electron window, headless console, tests) and the core.
 * Each method names its gate level; the router in src-main/api enforces it before any service
 * runs and validates input and output against these schemas. Nothing else reaches a service.
 */
import { z } from 'zod';

export * from './method.js';
import { DeviceIdSchema, DeviceNameSchema, DeviceViewSchema, displayName } from './devices.js';
import { Empty, method, SESSION_LEVELS, type MethodSpec } from './method.js';
import { backupMethods } from './contract-backup.js';
import { pushMethods } from './contract-push.js';
import { shellMethods } from './contract-shell.js';

/** Passwords are compared as given: no trimming. The upper bound keeps Argon2 input sane. */
export const PasswordSchema = z.string().min(1, 'Enter a password.').max(1024, 'Passwords are limited to 1024 characters.');
export const AccountNameSchema = displayName('Account', 64, 'Enter an account name.');
export const SessionLevelSchema = z.enum(SESSION_LEVELS);

export const ThrottleSchema = z.object({
  failures: z.number().int().nonnegative(),
  retryAfterMs: z.number().int().nonnegative(),
  hardStop: z.boolean(),
});

export const SecondFactorKindSchema = z.enum(['totp', 'recovery', 'push']);

export const StatusSchema = z.object({
  appName: z.string(),
  version: z.string(),
  setupNeeded: z.boolean(),
  level: SessionLevelSchema,
  accountName: z.string().nullable(),
  throttle: ThrottleSchema.nullable(),
  /** While at the second-factor step: what the account can finish the unlock with. */
  secondFactors: z.array(SecondFactorKindSchema),
});
export type Status = z.infer<typeof StatusSchema>;

export const PasswordStrengthSchema = z.object({
  score: z.number().int().min(0).max(4),
  acceptable: z.boolean(),
  warning: z.string(),
  suggestions: z.array(z.string()),
  /** Rough offline guessing time, for the strength meter. */
  crackTimeDisplay: z.string(),
});
export type PasswordStrength = z.infer<typeof PasswordStrengthSchema>;

export const SettingsSchema = z.object({
  autoLockMinutes: z.number().int().min(1).max(1440),
  /** The push relay (ws:// or wss://…/v1); null or absent: the app's embedded relay, where it runs one. */
  relayUrl: z
    .string()
    .max(500)
    .regex(/^wss?:\/\/[^\s]+$/, 'Enter a ws:// or wss:// address.')
    .nullable()
    .optional(),
});
export type Settings = z.infer<typeof SettingsSchema>;

/** What a person types from a device or from paper; checked by the core, bounded here. */
export const CodeSchema = z.string().trim().min(1, 'Enter the code.').max(64, 'That is too long to be a code.');
export { DeviceIdSchema, DeviceNameSchema, DeviceViewSchema, type DeviceView } from './devices.js';

export const DeviceOverviewSchema = z.object({
  devices: z.array(DeviceViewSchema),
  twoFactorEnabled: z.boolean(),
  recoveryCodesLeft: z.number().int().nonnegative(),
  /** True at 3 or fewer codes left: the UI warns. */
  recoveryCodesLow: z.boolean(),
});
export type DeviceOverview = z.infer<typeof DeviceOverviewSchema>;

export const AUDIT_ACTIONS = [
  'setup',
  'password.ok',
  'password.failed',
  'password.changed',
  'factor.ok',
  'factor.failed',
  'push.sent',
  'push.approved',
  'push.denied',
  'push.expired',
  'push.reported',
  // Attacks on push and pairing, each with its reason (docs/security.md §4a).
  'push.answer-refused',
  'push.unavailable',
  'pairing.failed',
  'push.web-companion-changed',
  'device.added',
  'device.removed',
  'device.renamed',
  'recovery.used',
  'recovery.regenerated',
  'lockout',
  'step-up.ok',
  'step-up.failed',
  'twofa.disabled',
  'factor.replayed',
  'locked',
  'settings.changed',
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
  'app.quit',
  'app.stopped',
] as const;
/** `from` is inclusive and `to` exclusive, so consecutive ranges never count a row twice. */
export const AuditFilterSchema = z
  .object({
    from: z.number().int().nonnegative().optional(),
    to: z.number().int().nonnegative().optional(),
    action: z.enum(AUDIT_ACTIONS).optional(),
    /** Any of these events (what a person looks for: "locks and lockouts" is two actions). */
    actions: z.array(z.enum(AUDIT_ACTIONS)).min(1).max(AUDIT_ACTIONS.length).optional(),
    outcome: z.enum(['success', 'failure', 'info']).optional(),
    account: z.string().max(64).optional(),
  })
  .strict();
/** A page of the audit log, newest first. */
export const AuditPageShape = {
  limit: z.number().int().min(1).max(1000).default(100),
  offset: z.number().int().min(0).default(0),
};
export const AuditRowSchema = z.object({
  id: z.number().int(),
  time: z.number().int(),
  account: z.string().nullable(),
  device: z.string().nullable(),
  action: z.string(),
  workstation: z.string(),
  ip: z.string(),
  outcome: z.string(),
  detail: z.string().nullable(),
});
export type AuditRowView = z.infer<typeof AuditRowSchema>;

const Unlocked = z.object({ level: SessionLevelSchema, recoveryCodesLeft: z.number().int().nonnegative() });

/**
 * What a confirmation shows, on screen and on the companion: the concrete target and what
 * happens to it, made by the core from the exact input the proof is bound to, and the start of
 * that binding's digest, so the two screens can be compared.
 */
export const ConfirmationSchema = z.object({
  /** The action with its target: "Remove the device “Pixel 8”". */
  title: z.string().min(1).max(300),
  /** What happens to the target: "Its codes stop working at once." */
  consequence: z.string().max(600),
  /** SHA-256 (hex) of the method and its canonical input: what the proof is bound to. */
  digest: z.string().regex(/^[0-9a-f]{64}$/),
});
export type Confirmation = z.infer<typeof ConfirmationSchema>;

export { shortDigest } from './digest.js';

export const contract = {
  'app.status': method({
    level: 'public',
    action: 'Read status',
    input: Empty,
    output: StatusSchema,
  }),
  'account.checkPasswordStrength': method({
    level: 'public',
    action: 'Check password strength',
    input: z.object({ password: z.string().max(1024), accountName: z.string().max(64).optional() }).strict(),
    output: PasswordStrengthSchema,
  }),
  'account.setup': method({
    level: 'public',
    action: 'Create the account',
    input: z.object({ accountName: AccountNameSchema, password: PasswordSchema }).strict(),
    output: z.object({ level: SessionLevelSchema }),
  }),
  'gate.submitPassword': method({
    level: 'public',
    action: 'Unlock with password',
    input: z.object({ password: PasswordSchema }).strict(),
    output: z.object({ level: SessionLevelSchema }),
  }),
  'gate.lock': method({
    level: 'public',
    action: 'Lock',
    input: Empty,
    output: z.object({ level: SessionLevelSchema }),
  }),
  'gate.submitCode': method({
    level: 'second-factor',
    action: 'Unlock with a code from a device',
    input: z.object({ code: CodeSchema }).strict(),
    output: Unlocked,
  }),
  'gate.submitRecoveryCode': method({
    level: 'second-factor',
    action: 'Unlock with a recovery code',
    input: z.object({ code: CodeSchema }).strict(),
    output: Unlocked,
  }),
  'gate.stepUp': method({
    level: 'unlocked',
    action: 'Confirm a sensitive action',
    input: z
      .object({
        /** The step-up method this proof will authorise, and its exact input. */
        method: z.string().min(1).max(100),
        input: z.unknown(),
        /** Exactly one: the password while 2FA is off; a device or recovery code once it is on. */
        password: PasswordSchema.optional(),
        code: CodeSchema.optional(),
        recoveryCode: CodeSchema.optional(),
      })
      .strict()
      .refine((v) => [v.password, v.code, v.recoveryCode].filter((x) => x !== undefined).length === 1, {
        message: 'Confirm with exactly one of: password, code, recovery code.',
      }),
    output: z.object({ proof: z.string(), expiresAt: z.number().int(), action: z.string(), confirmation: ConfirmationSchema }),
  }),
  'gate.describeStepUp': method({
    level: 'unlocked',
    action: 'Describe a sensitive action',
    input: z.object({ method: z.string().min(1).max(100), input: z.unknown() }).strict(),
    output: z.object({
      /** False when this call needs no confirmation (a `stepUpWhen` method with a harmless input). */
      needed: z.boolean(),
      confirmation: ConfirmationSchema,
    }),
  }),
  'settings.get': method({
    level: 'unlocked',
    action: 'Read settings',
    input: Empty,
    output: SettingsSchema,
  }),
  'settings.update': method({
    // The relay decides where pushes go and auto-lock how long the gate stays open.
    level: 'step-up',
    action: 'Change settings',
    input: SettingsSchema.partial().strict(),
    output: SettingsSchema,
  }),
  'account.changePassword': method({
    level: 'step-up',
    action: 'Change the password',
    input: z.object({ currentPassword: PasswordSchema, newPassword: PasswordSchema }).strict(),
    output: z.object({ changed: z.literal(true) }),
  }),
  'devices.list': method({
    level: 'unlocked',
    action: 'List devices',
    input: Empty,
    output: DeviceOverviewSchema,
  }),
  'devices.beginTotp': method({
    level: 'step-up',
    freeDuringSetup: true,
    action: 'Add an authenticator app',
    input: z.object({ name: DeviceNameSchema }).strict(),
    output: z.object({
      deviceId: z.string(),
      name: z.string(),
      uri: z.string(),
      secretGrouped: z.string(),
      qrSvg: z.string(),
      qrPngDataUrl: z.string(),
    }),
  }),
  'devices.confirmTotp': method({
    level: 'unlocked',
    action: 'Confirm a new authenticator app',
    input: z.object({ deviceId: DeviceIdSchema, code: CodeSchema }).strict(),
    output: z.object({ device: DeviceViewSchema, recoveryCodes: z.array(z.string()).nullable() }),
  }),
  'devices.rename': method({
    level: 'unlocked',
    action: 'Rename a device',
    input: z.object({ deviceId: DeviceIdSchema, name: DeviceNameSchema }).strict(),
    output: DeviceViewSchema,
  }),
  'devices.remove': method({
    level: 'step-up',
    action: 'Remove a device',
    input: z.object({ deviceId: DeviceIdSchema, confirmDisableTwoFactor: z.boolean().default(false) }).strict(),
    output: DeviceOverviewSchema,
  }),
  'recovery.regenerate': method({
    level: 'step-up',
    action: 'Make new recovery codes',
    input: Empty,
    output: z.object({ codes: z.array(z.string()) }),
  }),
  'twofa.disable': method({
    level: 'step-up',
    action: 'Turn two-factor authentication off',
    input: Empty,
    output: DeviceOverviewSchema,
  }),
  'audit.query': method({
    level: 'unlocked',
    action: 'Read the audit log',
    input: z
      .object({
        filter: AuditFilterSchema.default({}),
        ...AuditPageShape,
      })
      .strict(),
    output: z.object({ rows: z.array(AuditRowSchema), total: z.number().int().nonnegative() }),
  }),
  'audit.exportCsv': method({
    level: 'unlocked',
    action: 'Export the audit log',
    input: z.object({ filter: AuditFilterSchema.default({}) }).strict(),
    output: z.object({ csv: z.string(), filename: z.string() }),
  }),
  'audit.verify': method({
    level: 'unlocked',
    action: 'Check the audit log',
    input: Empty,
    output: z.object({
      ok: z.boolean(),
      rows: z.number().int().nonnegative(),
      firstBrokenId: z.number().int().nullable(),
      reason: z.string().nullable(),
    }),
  }),
  ...pushMethods,
  ...backupMethods,
  ...shellMethods,
} satisfies Record<string, MethodSpec>;

export type Contract = typeof contract;
export type MethodName = keyof Contract;
export type InputOf<M extends MethodName> = z.input<Contract[M]['input']>;
export type ParsedInputOf<M extends MethodName> = z.output<Contract[M]['input']>;
export type OutputOf<M extends MethodName> = z.output<Contract[M]['output']>;

export const METHOD_NAMES = Object.keys(contract) as MethodName[];

/** Methods that always need a step-up proof. */
export type StepUpMethodName = { [M in MethodName]: Contract[M]['level'] extends 'step-up' ? M : never }[MethodName];
/** Unlocked methods that need one for some calls (`stepUpWhen`). */
export type ConditionalMethodName = { [M in MethodName]: Contract[M] extends { stepUpWhen: string } ? M : never }[MethodName];
/** Every method a step-up proof can be asked for. */
export type ConfirmableMethodName = StepUpMethodName | ConditionalMethodName;

export function isConfirmable(name: string): name is ConfirmableMethodName {
  if (!isMethodName(name)) return false;
  const spec: MethodSpec = contract[name];
  return spec.level === 'step-up' || spec.stepUpWhen !== undefined;
}

export function isMethodName(name: string): name is MethodName {
  return Object.prototype.hasOwnProperty.call(contract, name);
}

/** The envelope every face sends: one method call, with a step-up proof where the method needs one. */
export const RequestSchema = z
  .object({
    method: z.string().min(1).max(100),
    input: z.unknown(),
    stepUpProof: z.string().max(200).optional(),
  })
  .strict();
export type Request = z.infer<typeof RequestSchema>;
