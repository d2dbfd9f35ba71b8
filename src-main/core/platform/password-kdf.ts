/**
 * Argon2id over the password (RFC 9106), through @node-rs/argon2 (a maintained native binding
 * that runs off the main thread). Parameters are calibrated once per process to the target
 * time, never below OWASP's minimum (m=19 MiB, t=2, p=1), and recorded next to what they made.
 */
import { hashRaw, type Algorithm } from '@node-rs/argon2';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';

export const OWASP_MINIMUM = { memoryKiB: 19_456, iterations: 2, parallelism: 1 } as const;
/** Memory is raised before time: it is what makes GPU guessing expensive. Capped to stay polite. */
const MAX_MEMORY_KIB = 64 * 1024;
const MAX_ITERATIONS = 12;
export const DEFAULT_TARGET_MS = 400;

const ARGON2ID = 2 as Algorithm; // Algorithm.Argon2id; the enum is ambient-const, so not importable.
const OUTPUT_BYTES = 32;

export const KdfParamsSchema = z.object({
  alg: z.literal('argon2id'),
  memoryKiB: z.number().int().min(OWASP_MINIMUM.memoryKiB),
  iterations: z.number().int().min(OWASP_MINIMUM.iterations),
  parallelism: z.number().int().min(1),
  salt: z.string().regex(/^[A-Za-z0-9+/]{22}==$/), // 16 bytes, base64
});
export type KdfParams = z.infer<typeof KdfParamsSchema>;
export type KdfCost = Pick<KdfParams, 'memoryKiB' | 'iterations' | 'parallelism'>;

export function newKdfParams(cost: KdfCost): KdfParams {
  return { alg: 'argon2id', ...cost, salt: randomBytes(16).toString('base64') };
}

export async function derivePasswordKey(password: string, params: KdfParams): Promise<Buffer> {
  return hashRaw(password, {
    algorithm: ARGON2ID,
    memoryCost: params.memoryKiB,
    timeCost: params.iterations,
    parallelism: params.parallelism,
    outputLen: OUTPUT_BYTES,
    salt: Buffer.from(params.salt, 'base64'),
  });
}

/**
 * Pick a cost that takes about `targetMs` on this machine: time one run at the OWASP minimum,
 * then scale memory (up to 64 MiB) and after that iterations, as Argon2's cost is ~linear in m·t.
 */
export async function calibrateKdf(targetMs: number = DEFAULT_TARGET_MS): Promise<KdfCost> {
  const base = newKdfParams(OWASP_MINIMUM);
  await derivePasswordKey('calibration', base); // warm-up: first call pays for thread-pool start
  const started = performance.now();
  await derivePasswordKey('calibration', base);
  const elapsed = Math.max(1, performance.now() - started);
  const factor = targetMs / elapsed;
  if (factor <= 1) return { ...OWASP_MINIMUM };
  const memoryKiB = Math.min(MAX_MEMORY_KIB, Math.floor(OWASP_MINIMUM.memoryKiB * factor));
  const work = OWASP_MINIMUM.memoryKiB * OWASP_MINIMUM.iterations * factor;
  const iterations = Math.min(MAX_ITERATIONS, Math.max(OWASP_MINIMUM.iterations, Math.round(work / memoryKiB)));
  return { memoryKiB, iterations, parallelism: 1 };
}
