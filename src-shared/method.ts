/**
 * The shape of one contract method and its gate levels. Kept apart from contract.ts so that
 * each feature's methods (contract-*.ts) can be declared in a file of their own.
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
  /** A human name of the action; a confirmation names its concrete target beside it (docs/security.md). */
  action: string;
  /**
   * For step-up methods that add the first device: no proof is needed in the session set-up
   * opened, before any device exists (the first-run wizard). Anywhere else they need a step-up:
   * by the password while 2FA is off, by a second factor once it is on.
   */
  freeDuringSetup?: boolean;
  /**
   * For `unlocked` methods that some calls make sensitive: says which. The router asks the core
   * for each call (src-main/api/step-up-conditions.ts) and then requires a step-up proof.
   */
  stepUpWhen?: string;
  /**
   * Only the desktop shell's own menus (the tray, the app menu) may call it, never a window or
   * the console's page: the router refuses every other face (src-main/api/router.ts).
   */
  shellOnly?: true;
}

/** Declares a method; its level, and whether it has `stepUpWhen`, stay in its type, so the step-up methods can be listed by type. */
export function method<L extends GateLevel, I extends z.ZodType, O extends z.ZodType>(
  spec: MethodSpec<I, O> & { level: L; stepUpWhen: string },
): MethodSpec<I, O> & { level: L; stepUpWhen: string };
export function method<L extends GateLevel, I extends z.ZodType, O extends z.ZodType>(
  spec: MethodSpec<I, O> & { level: L; stepUpWhen?: undefined },
): MethodSpec<I, O> & { level: L; stepUpWhen?: undefined };
export function method(spec: MethodSpec): MethodSpec {
  return spec;
}

/** The input of a method that takes none. */
export const Empty = z.object({}).strict();
