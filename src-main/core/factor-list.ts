/**
 * The account's list of second-factor devices, sealed as one record. Sealing the list itself
 * (not just each secret) means editing the database cannot add a device or switch 2FA off:
 * a missing or altered record fails closed.
 */
import { z } from 'zod';
import { CoreError } from './errors.js';
import type { SealedRecords } from './sealed-records.js';

export const FACTOR_LIST_KIND = 'factors';

export const FactorListSchema = z.object({
  version: z.literal(1),
  devices: z.array(z.object({ id: z.string(), kind: z.string(), name: z.string() }).passthrough()),
});
export type FactorList = z.infer<typeof FactorListSchema>;

export const EMPTY_FACTOR_LIST: FactorList = { version: 1, devices: [] };

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
