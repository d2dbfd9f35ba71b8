/**
 * The account's second factors, sealed as one record: the devices (with their secrets) and the
 * recovery codes' hashes. Sealing the list itself, not only each secret, means editing the
 * database cannot add a device or switch 2FA off: a missing or altered record fails closed.
 */
import { z } from 'zod';
import { WebCompanionChoiceSchema } from '../../../src-shared/contract-push.js';
import { CoreError } from '../platform/errors.js';
import type { SealedRecords } from './sealed-records.js';

export const FACTOR_LIST_KIND = 'factors';

export const TotpDeviceSchema = z.object({
  id: z.string().uuid(),
  kind: z.literal('totp'),
  name: z.string(),
  addedAt: z.number().int(),
  lastUsedAt: z.number().int().nullable(),
  /** False from enrolment until the first correct code. */
  active: z.boolean(),
  /** Base32, as the authenticator app holds it. */
  secret: z.string(),
  /** Learned clock offset in time steps (RFC 6238 §6). */
  drift: z.number().int(),
  /** The last accepted time step: a code is accepted only for a later step, so never twice. */
  lastStep: z.number().int().nullable(),
  /** Wrong codes while confirming a pending enrolment; the enrolment ends at the limit. */
  failedConfirmations: z.number().int().nonnegative(),
});
export type TotpDevice = z.infer<typeof TotpDeviceSchema>;

/** A companion paired over the relay (docs/protocol.md §4): it answers pushes and shows one-time passwords. */
export const PushDeviceSchema = z.object({
  id: z.string().uuid(),
  kind: z.literal('push'),
  name: z.string(),
  addedAt: z.number().int(),
  lastUsedAt: z.number().int().nullable(),
  /** Always true: a companion is added only once pairing finished. */
  active: z.boolean(),
  /** The device's ECDSA P-256 public key, raw uncompressed point, base64url. */
  publicKey: z.string(),
  /** Its route id on the relay. */
  route: z.string(),
  /** AES-256-GCM keys from pairing, base64url: requests to it, answers from it. */
  reqKey: z.string(),
  ansKey: z.string(),
  /** Base32 seed of the companion's one-time passwords; checked like a TOTP device's. */
  otpSeed: z.string(),
  drift: z.number().int(),
  lastStep: z.number().int().nullable(),
});
export type PushDevice = z.infer<typeof PushDeviceSchema>;

export const DeviceSchema = z.discriminatedUnion('kind', [TotpDeviceSchema, PushDeviceSchema]);
export type Device = z.infer<typeof DeviceSchema>;

export const RecoverySchema = z.object({
  /** HMAC-SHA-256 of each code; a used code's slot becomes null. */
  hashes: z.array(
    z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .nullable(),
  ),
  generatedAt: z.number().int(),
});

export const FactorListSchema = z.object({
  version: z.literal(1),
  devices: z.array(DeviceSchema),
  recovery: RecoverySchema.nullable(),
  /** Set by "this wasn't me" on a companion: no push until then (sealed, so a restart does not lift it). */
  pushMutedUntil: z.number().int().optional(),
  /** Where pairing links send a phone for the web companion (sealed: editing the database cannot redirect it). Absent: the app's own. */
  webCompanion: WebCompanionChoiceSchema.optional(),
});
export type FactorList = z.infer<typeof FactorListSchema>;

export const EMPTY_FACTOR_LIST: FactorList = { version: 1, devices: [], recovery: null };

/** Second-factor authentication is on while at least one device is active. */
export function twoFactorEnabled(list: FactorList): boolean {
  return list.devices.some((d) => d.active);
}

export function recoveryCodesLeft(list: FactorList): number {
  return list.recovery?.hashes.filter((h) => h !== null).length ?? 0;
}

export class FactorListStore {
  constructor(private readonly records: SealedRecords) {}

  read(accountId: number, recordKey: Buffer): FactorList {
    const plain = this.records.read(accountId, recordKey, FACTOR_LIST_KIND);
    if (!plain) throw new CoreError('VAULT_CORRUPT', 'The sealed list of second-factor devices is missing.');
    const parsed = FactorListSchema.safeParse(JSON.parse(plain.toString('utf8')));
    if (!parsed.success) throw new CoreError('VAULT_CORRUPT', 'The sealed list of second-factor devices is unreadable.');
    return parsed.data;
  }

  write(accountId: number, recordKey: Buffer, list: FactorList, now: number): void {
    this.records.write(accountId, recordKey, FACTOR_LIST_KIND, Buffer.from(JSON.stringify(list), 'utf8'), now);
  }
}
