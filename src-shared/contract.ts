/**
 * The one contract between every face (Electron window, headless console, tests) and the core.
 * Each method names its gate level; the router in src-main/api enforces it before any service
 * runs and validates input and output against these schemas. Nothing else reaches a service.
 */
import { z } from 'zod';

export const GATE_LEVELS = ['public', 'second-factor', 'unlocked', 'step-up'] as const;
export type GateLevel = (typeof GATE_LEVELS)[number];

/** What a caller's session has reached; `step-up` is never a session level, only a method's. */
export const SESSION_LEVELS = ['locked', 'second-factor', 'unlocked'] as const;
export type SessionLevel = (typeof SESSION_LEVELS)[number];

/** The rank a session level satisfies: a locked caller may only call `public` methods. */
export const SESSION_RANK: Record<SessionLevel, number> = { locked: 0, 'second-factor': 1, unlocked: 2 };
export const METHOD_RANK: Record<GateLevel, number> = { public: 0, 'second-factor': 1, unlocked: 2, 'step-up': 3 };

export interface MethodSpec<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  level: GateLevel;
  input: I;
  output: O;
  /** A human name of the action, shown when a step-up or push asks the user to confirm it. */
  action: string;
}

function method<I extends z.ZodType, O extends z.ZodType>(spec: MethodSpec<I, O>): MethodSpec<I, O> {
  return spec;
}

const Empty = z.object({}).strict();
/** Passwords are compared as given: no trimming. The upper bound keeps Argon2 input sane. */
export const PasswordSchema = z.string().min(1, 'Enter a password.').max(1024, 'Passwords are limited to 1024 characters.');
export const AccountNameSchema = z
  .string()
  .trim()
  .min(1, 'Enter an account name.')
  .max(64, 'Account names are limited to 64 characters.')
  .regex(/^[^\p{Cc}]+$/u, 'Account names cannot contain control characters.');
export const SessionLevelSchema = z.enum(SESSION_LEVELS);

export const ThrottleSchema = z.object({
  failures: z.number().int().nonnegative(),
  retryAfterMs: z.number().int().nonnegative(),
  hardStop: z.boolean(),
});

export const StatusSchema = z.object({
  appName: z.string(),
  version: z.string(),
  setupNeeded: z.boolean(),
  level: SessionLevelSchema,
  accountName: z.string().nullable(),
  throttle: ThrottleSchema.nullable(),
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
});
export type Settings = z.infer<typeof SettingsSchema>;

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
  'gate.stepUp': method({
    level: 'unlocked',
    action: 'Confirm a sensitive action',
    input: z
      .object({
        /** The step-up method this proof will authorise, and its exact input. */
        method: z.string().min(1).max(100),
        input: z.unknown(),
        password: PasswordSchema,
      })
      .strict(),
    output: z.object({ proof: z.string(), expiresAt: z.number().int(), action: z.string() }),
  }),
  'settings.get': method({
    level: 'unlocked',
    action: 'Read settings',
    input: Empty,
    output: SettingsSchema,
  }),
  'settings.update': method({
    level: 'unlocked',
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
} satisfies Record<string, MethodSpec>;

export type Contract = typeof contract;
export type MethodName = keyof Contract;
export type InputOf<M extends MethodName> = z.input<Contract[M]['input']>;
export type ParsedInputOf<M extends MethodName> = z.output<Contract[M]['input']>;
export type OutputOf<M extends MethodName> = z.output<Contract[M]['output']>;

export const METHOD_NAMES = Object.keys(contract) as MethodName[];

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
