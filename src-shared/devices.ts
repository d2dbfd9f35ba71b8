/** How the contract names and shows second-factor devices; shared by the gate's and push's methods. */
import { z } from 'zod';

export const DeviceNameSchema = z
  .string()
  .trim()
  .min(1, 'Give the device a name.')
  .max(40, 'Device names are limited to 40 characters.')
  .regex(/^[^\p{Cc}]+$/u, 'Device names cannot contain control characters.');
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
