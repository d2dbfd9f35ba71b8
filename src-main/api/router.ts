/**
 * The router: the only way from a face to a service. For each call, in this order:
 * envelope check, method lookup, gate level, input validation, step-up proof, the handler,
 * output validation. Every failure becomes a typed result with a stable code and a message
 * that is safe to show; nothing thrown escapes to the face.
 */
import { z } from 'zod';
import { canonicalJson } from '../../src-shared/canonical-json.js';
import {
  contract,
  isMethodName,
  METHOD_RANK,
  RequestSchema,
  SESSION_RANK,
  type ConditionalMethodName,
  type MethodName,
  type MethodSpec,
  type OutputOf,
  type ParsedInputOf,
} from '../../src-shared/contract.js';
import type { ApiError, ApiResult } from '../../src-shared/errors.js';
import { sha256 } from '../core/platform/crypto.js';
import { CoreError } from '../core/platform/errors.js';
import type { Gate } from '../core/gate/gate.js';
import type { Logger } from '../core/platform/logger.js';

/** Who is calling, for the audit log and for the faces' own sender checks. */
export interface CallContext {
  /** `shell`: the desktop shell's own tray and app menu, never a window (`electron` is its window). */
  face: 'electron' | 'console' | 'test' | 'shell';
  ip: string;
  workstation: string;
  /** Set by the router, never by a face: a step-up proof was spent on this very call. */
  confirmed?: boolean;
}

export type Handler<M extends MethodName> = (input: ParsedInputOf<M>, ctx: CallContext) => OutputOf<M> | Promise<OutputOf<M>>;
export type Handlers = { [M in MethodName]: Handler<M> };

/** For each `stepUpWhen` method: does this call need a step-up proof? (src-main/api/step-up-conditions.ts) */
export type StepUpConditions = { [M in ConditionalMethodName]: (input: ParsedInputOf<M>) => boolean | Promise<boolean> };

/** Refusals a call would meet in its handler, checked before its step-up proof (src-main/api/step-up-conditions.ts). */
export type StepUpPrechecks = { [M in MethodName]?: (input: ParsedInputOf<M>) => void | Promise<void> };

export interface Router {
  call(request: unknown, ctx: CallContext): Promise<ApiResult<unknown>>;
}

/** The digest a step-up proof is bound to: the method and its exact, validated input. */
export function stepUpDigest(method: MethodName, parsedInput: unknown): string {
  return sha256(`${method}\n${canonicalJson(parsedInput)}`).toString('hex');
}

/** Whether a call with this validated input needs a step-up proof: the one rule the router and the confirmations both use. */
export type NeedsProof = (method: MethodName, parsed: unknown) => Promise<boolean>;

/**
 * Every step-up call needs a proof (but the first device during set-up), and so do the sensitive
 * calls of `stepUpWhen` methods. A confirmable method that has no condition fails closed.
 */
export function createStepUpPolicy(gate: Pick<Gate, 'inSetupGrace'>, conditions: StepUpConditions): NeedsProof {
  return async (method, parsed) => {
    const spec: MethodSpec = contract[method];
    if (spec.level === 'step-up') return !(spec.freeDuringSetup === true && gate.inSetupGrace());
    if (spec.stepUpWhen === undefined) return false;
    const condition = (conditions as Record<string, ((input: unknown) => boolean | Promise<boolean>) | undefined>)[method];
    return condition ? condition(parsed) : true;
  };
}

export function createRouter(deps: {
  handlers: Handlers;
  gate: Pick<Gate, 'level' | 'consumeStepUp' | 'touch'>;
  logger: Logger;
  needsProof: NeedsProof;
  prechecks?: StepUpPrechecks;
  /** Settles once the core has read what it needs from the keychain (the state seal's key). */
  ready?: Promise<void>;
}): Router {
  const { handlers, gate, logger, needsProof } = deps;

  return {
    async call(request, ctx) {
      await deps.ready;
      const envelope = RequestSchema.safeParse(request);
      if (!envelope.success) return fail('BAD_INPUT', 'The request is not a well-formed method call.');
      const { method, input, stepUpProof } = envelope.data;
      if (!isMethodName(method)) return fail('UNKNOWN_METHOD', 'There is no such method.');
      const spec: MethodSpec = contract[method];
      if (spec.shellOnly && ctx.face !== 'shell') return fail('NOT_ALLOWED', SHELL_ONLY_MESSAGE);

      const session = gate.level();
      const needed = Math.min(METHOD_RANK[spec.level], SESSION_RANK.unlocked);
      if (SESSION_RANK[session] < needed) {
        return fail('NOT_ALLOWED', session === 'second-factor' ? 'Finish unlocking first.' : 'Unlock Twofold Backup first.');
      }

      const parsed = spec.input.safeParse(input);
      if (!parsed.success) return fail('BAD_INPUT', describeIssues(parsed.error));

      try {
        const precheck = deps.prechecks?.[method] as ((input: unknown) => void | Promise<void>) | undefined;
        await precheck?.(parsed.data);
        const confirmed = await needsProof(method, parsed.data);
        if (confirmed) {
          const digest = stepUpDigest(method, parsed.data);
          if (!stepUpProof || !gate.consumeStepUp(stepUpProof, method, digest)) {
            return fail('STEP_UP_REQUIRED', `Confirm this action first: ${spec.action}.`);
          }
        }
        if (METHOD_RANK[spec.level] >= METHOD_RANK.unlocked) gate.touch();

        const handler = handlers[method] as Handler<MethodName>;
        const output = await handler(parsed.data as never, { ...ctx, confirmed });
        const checked = spec.output.safeParse(output);
        if (!checked.success) {
          logger.error('handler output failed its schema', { method });
          return fail('INTERNAL', 'Something went wrong inside Twofold Backup.');
        }
        return { ok: true, value: checked.data };
      } catch (error) {
        if (error instanceof CoreError) return { ok: false, error: toApiError(error) };
        logger.error('unexpected error', { method, error: error instanceof Error ? error.name : 'unknown' });
        return fail('INTERNAL', 'Something went wrong inside Twofold Backup.');
      }
    },
  };
}

export const SHELL_ONLY_MESSAGE = "Only the desktop app's own menus can do this.";

function toApiError(error: CoreError): ApiError {
  return error.retryAfterMs === undefined
    ? { code: error.code, message: error.message }
    : { code: error.code, message: error.message, retryAfterMs: error.retryAfterMs };
}

function fail(code: ApiError['code'], message: string): ApiResult<never> {
  return { ok: false, error: { code, message } };
}

/**
 * Schema messages only, never the offending value (it may be a secret). The contract words its
 * own messages for people, as whole sentences ending in a full stop ("Use a full path."): those
 * go out as they are, without the field's internal name. zod's built-in messages ("Invalid
 * input: expected string") reach only a caller that skipped the UI's forms, so they keep the
 * field's path, which is what such a caller needs.
 */
function describeIssues(error: z.ZodError): string {
  const lines = error.issues
    .slice(0, 5)
    .map((issue) => (issue.message.endsWith('.') || issue.path.length === 0 ? issue.message : `${issue.path.join('.')}: ${issue.message}`));
  return [...new Set(lines)].join(' ');
}
