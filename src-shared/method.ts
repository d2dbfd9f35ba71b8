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
  /** A human name of the action, shown when a step-up or push asks the user to confirm it. */
  action: string;
  /**
   * For step-up methods: no proof is needed while no second factor is active (so the first
   * device can be added right after set-up). Once any device exists, the step-up applies.
   */
  freeWithoutTwoFactor?: boolean;
}

export function method<I extends z.ZodType, O extends z.ZodType>(spec: MethodSpec<I, O>): MethodSpec<I, O> {
  return spec;
}

/** The input of a method that takes none. */
export const Empty = z.object({}).strict();
