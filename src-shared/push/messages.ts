/**
 * The push protocol's messages as zod schemas (docs/protocol.md §2–§5). The relay validates
 * frames with these; desktop and companions validate bodies and decrypted payloads with them.
 * Every string is bounded, so a hostile peer cannot make a receiver hold much.
 */
import { z } from 'zod';

export const PROTOCOL_VERSION = 1;

export const CLOSE_CODES = {
  normal: 1000,
  goingAway: 1001,
  tooBig: 1009,
  badHello: 4000,
  helloTimeout: 4001,
  badFrames: 4002,
  /** The connection's send buffer stayed over its bound (it does not read what it is sent). */
  slowConsumer: 4008,
  /** The relay's memory budget is used up: connect again later. */
  relayFull: 4013,
  flooding: 4029,
  /** Too many connections from this address. */
  addressConnections: 4030,
} as const;

export const RELAY_ERROR_CODES = [
  'BAD_FRAME',
  'NOT_READY',
  'ALREADY_READY',
  'BODY_TOO_BIG',
  'BAD_TTL',
  'RATE_LIMITED',
  'ROUTE_BUSY',
  'QUEUE_FULL',
  'OVER_QUOTA',
  'RELAY_FULL',
  'UNAVAILABLE',
] as const;
export type RelayErrorCode = (typeof RELAY_ERROR_CODES)[number];

const b64u = (min: number, max: number) =>
  z
    .string()
    .min(min)
    .max(max)
    .regex(/^[A-Za-z0-9_-]*$/);
/** 32-byte route token. */
export const RouteTokenSchema = b64u(43, 43);
/** 16-byte route id / message id. */
export const RouteIdSchema = b64u(22, 22);
export const MessageIdSchema = b64u(22, 22);

// ---- relay layer ----

export const HelloFrameSchema = z.object({ t: z.literal('hello'), v: z.literal(PROTOCOL_VERSION), token: RouteTokenSchema }).strict();
export const SendFrameSchema = z
  .object({
    t: z.literal('send'),
    id: MessageIdSchema,
    to: RouteIdSchema,
    ttlMs: z.number().int(),
    // Bounded again by the relay's own limit; this is the hard ceiling of the format.
    body: z.string().max(64 * 1024),
  })
  .strict();
/** `from` names the sender of the handled message (ids are scoped to their sender); without it, every message with that id. */
export const DoneFrameSchema = z.object({ t: z.literal('done'), id: MessageIdSchema, from: RouteIdSchema.optional() }).strict();
export const PendingFrameSchema = z.object({ t: z.literal('pending') }).strict();
export const ClientFrameSchema = z.discriminatedUnion('t', [HelloFrameSchema, SendFrameSchema, DoneFrameSchema, PendingFrameSchema]);
export type ClientFrame = z.infer<typeof ClientFrameSchema>;

export const ReadyFrameSchema = z.object({
  t: z.literal('ready'),
  route: RouteIdSchema,
  limits: z.object({ maxBody: z.number().int(), maxTtlMs: z.number().int(), ratePerSec: z.number() }),
});
export const MsgFrameSchema = z.object({
  t: z.literal('msg'),
  id: MessageIdSchema,
  from: RouteIdSchema,
  body: z.string().max(64 * 1024),
  exp: z.number().int(),
});
export const AckFrameSchema = z.object({ t: z.literal('ack'), id: MessageIdSchema });
export const ErrorFrameSchema = z.object({
  t: z.literal('error'),
  code: z.enum(RELAY_ERROR_CODES),
  message: z.string().max(500),
  id: z.string().max(64).optional(),
});
export const ServerFrameSchema = z.discriminatedUnion('t', [ReadyFrameSchema, MsgFrameSchema, AckFrameSchema, ErrorFrameSchema]);
export type ServerFrame = z.infer<typeof ServerFrameSchema>;
export type MsgFrame = z.infer<typeof MsgFrameSchema>;

// ---- end-to-end layer: bodies ----

const V = z.literal(PROTOCOL_VERSION);
const PublicKeyB64 = b64u(87, 87); // 65 bytes
const Iv = b64u(16, 16); // 12 bytes
const Ct = b64u(22, 20_000);
const Mac = b64u(43, 43); // 32 bytes
const Sig = b64u(86, 86); // 64 bytes

export const PairHelloSchema = z.object({ k: z.literal('pair-hello'), v: V, ek: PublicKeyB64, route: RouteIdSchema, iv: Iv, ct: Ct, mac: Mac }).strict();
export const PairRefusedSchema = z.object({ k: z.literal('pair-refused'), v: V, reason: z.enum(['used', 'expired', 'cancelled']), mac: Mac }).strict();
export const PairDoneSchema = z.object({ k: z.literal('pair-done'), v: V, iv: Iv, ct: Ct }).strict();
export const PairAckSchema = z.object({ k: z.literal('pair-ack'), v: V, sig: Sig }).strict();
export const RequestBodySchema = z.object({ k: z.literal('req'), v: V, iv: Iv, ct: Ct }).strict();
export const AnswerBodySchema = z.object({ k: z.literal('ans'), v: V, iv: Iv, ct: Ct }).strict();
/** The desktop's last word on a pairing, after the companion's ack: added, or not (then the companion forgets it). */
export const PairResultSchema = z.object({ k: z.literal('pair-result'), v: V, iv: Iv, ct: Ct }).strict();
export const ClosedBodySchema = z.object({ k: z.literal('closed'), v: V, iv: Iv, ct: Ct }).strict();
export const BodySchema = z.discriminatedUnion('k', [
  PairHelloSchema,
  PairRefusedSchema,
  PairDoneSchema,
  PairAckSchema,
  PairResultSchema,
  RequestBodySchema,
  AnswerBodySchema,
  ClosedBodySchema,
]);
export type Body = z.infer<typeof BodySchema>;
export type PairRefusedReason = z.infer<typeof PairRefusedSchema>['reason'];

/** Parse a body string; null for anything that is not one well-formed body. */
export function parseBody(text: string): Body | null {
  try {
    const parsed = BodySchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

// ---- payloads (inside the ciphertext, or in the QR) ----

const Name = z.string().min(1).max(100);

export const PairingPayloadSchema = z
  .object({
    v: V,
    relay: z
      .string()
      .url()
      .max(500)
      .regex(/^wss?:\/\//),
    mailbox: RouteIdSchema,
    ek: PublicKeyB64,
    s: b64u(22, 22),
    exp: z.number().int(),
    account: Name,
    workstation: Name,
  })
  .strict();
export type PairingPayload = z.infer<typeof PairingPayloadSchema>;

export const PAIR_RESULT_OUTCOMES = ['added', 'failed'] as const;
export const PairResultInnerSchema = z.object({ deviceId: z.string().uuid(), outcome: z.enum(PAIR_RESULT_OUTCOMES) }).strict();
export type PairResultInner = z.infer<typeof PairResultInnerSchema>;

export const PairHelloInnerSchema = z.object({ dk: PublicKeyB64, sig: Sig }).strict();
export const PairDoneInnerSchema = z
  .object({
    deviceId: z.string().uuid(),
    name: Name,
    otpSeed: z.string().regex(/^[A-Z2-7]{32}$/),
    account: Name,
    workstation: Name,
    app: Name,
    appVersion: z.string().max(50),
  })
  .strict();
export type PairDoneInner = z.infer<typeof PairDoneInnerSchema>;

export const CHOICE_COUNT = 3;

/**
 * The version of the approval request R (docs/protocol.md §5.1). Version 2 added `confirm`;
 * frames and the other bodies keep PROTOCOL_VERSION. A companion refuses an R of any other
 * version instead of showing it without what it confirms.
 */
export const APPROVAL_VERSION = 2;

/** What a step-up confirms: the target with its action, the consequence, and the digest the proof binds to. */
export const ConfirmSchema = z
  .object({
    title: z.string().min(1).max(300),
    consequence: z.string().max(600),
    digest: z.string().regex(/^[0-9a-f]{64}$/),
  })
  .strict();
export type Confirm = z.infer<typeof ConfirmSchema>;

export const ApprovalRequestSchema = z
  .object({
    type: z.literal('approval'),
    v: z.literal(APPROVAL_VERSION),
    txId: z.string().uuid(),
    nonce: b64u(22, 22),
    deviceId: z.string().uuid(),
    action: z.string().min(1).max(200),
    account: Name,
    workstation: Name,
    app: Name,
    appVersion: z.string().max(50),
    ip: z.string().max(64),
    time: z.number().int(),
    expiresAt: z.number().int(),
    choices: z
      .array(z.number().int().min(10).max(99))
      .length(CHOICE_COUNT)
      .refine((c) => new Set(c).size === c.length, 'choices must differ'),
    replyTo: RouteIdSchema,
    /** Null for an unlock; for a step-up, what it confirms (shown before the choices). */
    confirm: ConfirmSchema.nullable(),
  })
  .strict();
export type ApprovalRequest = z.infer<typeof ApprovalRequestSchema>;

/** Enough of a decrypted R to tell that it is an approval request of another version. */
export const AnyApprovalSchema = z.object({ type: z.literal('approval'), v: z.number().int(), txId: z.string().uuid().optional() });

export const DECISIONS = ['approve', 'deny', 'not-me'] as const;
export type Decision = (typeof DECISIONS)[number];

export const ApprovalAnswerSchema = z
  .object({
    txId: z.string().uuid(),
    requestHash: b64u(43, 43),
    decision: z.enum(DECISIONS),
    number: z.number().int().min(10).max(99).nullable(),
    time: z.number().int(),
  })
  .strict()
  .refine((a) => (a.decision === 'approve') === (a.number !== null), 'an approval carries the number, nothing else does');
export type ApprovalAnswer = z.infer<typeof ApprovalAnswerSchema>;

export const SignedAnswerSchema = z.object({ answer: ApprovalAnswerSchema, sig: Sig }).strict();
/** How a request ended, as `closed` tells the companions (docs/protocol.md §5.2). */
export const CLOSED_OUTCOMES = ['approved', 'denied', 'reported', 'expired', 'refused', 'cancelled'] as const;
export const ClosedInnerSchema = z.object({ txId: z.string().uuid(), outcome: z.enum(CLOSED_OUTCOMES) }).strict();
export type ClosedInner = z.infer<typeof ClosedInnerSchema>;
