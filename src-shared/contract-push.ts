/**
 * Contract methods of push approval (docs/protocol.md): pairing a companion, unlocking
 * and confirming sensitive actions by push. Spread into the contract in contract.ts.
 */
import { z } from 'zod';
import { DeviceNameSchema, DeviceViewSchema } from './devices.js';
import { Empty, method, type MethodSpec } from './method.js';
import { isTrustedCompanionUrl } from './push/companion-origin.js';

const Uuid = z.string().uuid('That is not a request id.');
/** Long-poll: wait up to this long for a change before answering (the UI calls again). */
const WaitMs = z.number().int().min(0).max(25_000).default(0);

/** `unavailable`: the relay refused or could not take the request for every companion; use a code. */
export const PushStateSchema = z.enum(['pending', 'approved', 'denied', 'reported', 'refused', 'expired', 'cancelled', 'unavailable']);
export const PairingStateSchema = z.enum(['waiting', 'confirm', 'finishing', 'paired', 'expired', 'cancelled', 'failed']);

export const PushStartedSchema = z.object({
  requestId: z.string(),
  /** The number to show; the user picks it among the companion's choices. */
  number: z.number().int().min(10).max(99),
  expiresAt: z.number().int(),
  /** How many companions the request went to. */
  devices: z.number().int().nonnegative(),
  action: z.string(),
});

/** Where the web companion's code comes from: the app itself, a web server the user names, or (explicitly) the relay. */
export const WebCompanionChoiceSchema = z.discriminatedUnion('source', [
  z.object({ source: z.literal('app') }).strict(),
  z
    .object({
      source: z.literal('url'),
      url: z.string().trim().max(500).refine(isTrustedCompanionUrl, 'Enter an https:// address (or http://localhost on this machine), without a # part.'),
    })
    .strict(),
  z.object({ source: z.literal('relay') }).strict(),
]);
export type WebCompanionChoice = z.infer<typeof WebCompanionChoiceSchema>;

const WebCompanionViewSchema = z.object({
  choice: WebCompanionChoiceSchema,
  /** What a pairing link opens now: the page a phone trusts with its keys; null: no web companion (CLI only). */
  url: z.string().nullable(),
  /** The app's own address for it, where the app serves one. */
  appUrl: z.string().nullable(),
  /** The relay in use; it carries only ciphertext. */
  relayUrl: z.string().nullable(),
});

export const pushMethods = {
  'push.status': method({
    level: 'second-factor',
    action: 'Check push approval',
    input: Empty,
    output: z.object({
      /** A push can be sent now: a companion is paired, push is not muted, a relay is set. */
      available: z.boolean(),
      relayConfigured: z.boolean(),
      devices: z.number().int().nonnegative(),
      /** Set after "this wasn't me": until then only a code or a recovery code unlocks. */
      mutedUntil: z.number().int().nullable(),
      /** Wait before the next push may be sent (growing delays between pushes). */
      retryAfterMs: z.number().int().nonnegative(),
      pending: z.object({ requestId: z.string(), number: z.number().int(), expiresAt: z.number().int() }).nullable(),
    }),
  }),
  'push.start': method({
    level: 'second-factor',
    action: 'Unlock with push approval',
    input: Empty,
    output: PushStartedSchema,
  }),
  'push.poll': method({
    level: 'second-factor',
    action: 'Wait for push approval',
    input: z.object({ requestId: Uuid, waitMs: WaitMs }).strict(),
    output: z.object({ state: PushStateSchema, expiresAt: z.number().int() }),
  }),
  'push.cancel': method({
    level: 'second-factor',
    action: 'Cancel a push',
    input: z.object({ requestId: Uuid }).strict(),
    output: z.object({ state: PushStateSchema }),
  }),
  'push.startStepUp': method({
    level: 'unlocked',
    action: 'Confirm a sensitive action by push',
    input: z.object({ method: z.string().min(1).max(100), input: z.unknown() }).strict(),
    output: PushStartedSchema,
  }),
  'push.pollStepUp': method({
    level: 'unlocked',
    action: 'Wait for a push confirmation',
    input: z.object({ requestId: Uuid, waitMs: WaitMs }).strict(),
    output: z.object({
      state: PushStateSchema,
      expiresAt: z.number().int(),
      /** Once approved: the step-up proof for exactly the method and input confirmed. */
      proof: z.string().nullable(),
      proofExpiresAt: z.number().int().nullable(),
    }),
  }),
  'push.beginPairing': method({
    level: 'step-up',
    freeDuringSetup: true,
    action: 'Pair a companion device',
    input: Empty,
    output: z.object({
      pairingId: z.string(),
      /** Opens the web companion, or paste into `npm run companion -- pair <link>`. Valid once, for at most 120 s. */
      link: z.string(),
      /** The page the link opens, which the phone trusts with the pairing; null: no web companion, CLI only. */
      webCompanion: z.object({ source: z.enum(['app', 'url', 'relay']), url: z.string() }).nullable(),
      /** The relay both sides use (named in the link separately); it sees only ciphertext. */
      relayUrl: z.string(),
      qrSvg: z.string(),
      qrPngDataUrl: z.string(),
      expiresAt: z.number().int(),
    }),
  }),
  'push.pairingStatus': method({
    level: 'unlocked',
    action: 'Check a pairing',
    input: z.object({ pairingId: Uuid, waitMs: WaitMs }).strict(),
    output: z.object({
      state: PairingStateSchema,
      /** Shown at `confirm`: the same six digits must be on the companion's screen. */
      comparisonCode: z.string().nullable(),
      expiresAt: z.number().int(),
    }),
  }),
  'push.finishPairing': method({
    level: 'unlocked',
    action: 'Add a companion device',
    input: z
      .object({
        pairingId: Uuid,
        name: DeviceNameSchema,
      })
      .strict(),
    output: z.object({ device: DeviceViewSchema, recoveryCodes: z.array(z.string()).nullable() }),
  }),
  'push.cancelPairing': method({
    level: 'unlocked',
    action: 'Cancel a pairing',
    input: z.object({ pairingId: Uuid }).strict(),
    output: z.object({ state: PairingStateSchema }),
  }),
  'push.webCompanion': method({
    level: 'unlocked',
    action: 'Read where the web companion comes from',
    input: Empty,
    output: WebCompanionViewSchema,
  }),
  'push.setWebCompanion': method({
    level: 'step-up',
    action: 'Change where the web companion comes from',
    input: z.object({ choice: WebCompanionChoiceSchema }).strict(),
    output: WebCompanionViewSchema,
  }),
} satisfies Record<string, MethodSpec>;
