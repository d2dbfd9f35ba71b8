/** How the contract names and shows second-factor devices; shared by the gate's and push's methods. */
import { z } from 'zod';

/** A name a person types and sees again (account, device): trimmed, bounded, no control characters. */
export function displayName(what: 'Account' | 'Device', max: number, emptyMessage: string) {
  return z
    .string()
    .trim()
    .min(1, emptyMessage)
    .max(max, `${what} names are limited to ${max} characters.`)
    .regex(/^[^\p{Cc}]+$/u, `${what} names cannot contain control characters.`);
}

export const DeviceNameSchema = displayName('Device', 40, 'Give the device a name.');
export const DeviceIdSchema = z.string().uuid('That is not a device id.');

export const DeviceViewSchema = z.object({
  id: z.string(),
  kind: z.enum(['totp', 'push']),
  name: z.string(),
  addedAt: z.number().int(),
  lastUsedAt: z.number().int().nullable(),
  active: z.boolean(),
});
export type DeviceView = z.infer<typeof DeviceViewSchema>;
