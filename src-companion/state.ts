/**
 * The CLI companion's state file: its pairings, with their keys, in `<dir>/pairings.json`
 * (mode 0600, folder 0700). A CLI has no non-extractable key store, so the keys are in the file;
 * protect the folder as you would an SSH key (docs/security.md, A6 and the companion).
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import type { PairingRecord } from '../src-shared/push/companion.js';
import { b64u, fromB64u } from '../src-shared/push/encoding.js';
import { importAesKey } from '../src-shared/push/suite.js';

const subtle = globalThis.crypto.subtle;
const ECDSA = { name: 'ECDSA', namedCurve: 'P-256' } as const;

const StoredPairingSchema = z.object({
  deviceId: z.string().uuid(),
  name: z.string(),
  account: z.string(),
  workstation: z.string(),
  app: z.string(),
  appVersion: z.string(),
  relay: z.string(),
  routeToken: z.string(),
  route: z.string(),
  otpSeed: z.string(),
  pairedAt: z.number().int(),
  reqKey: z.string(),
  ansKey: z.string(),
  devicePublic: z.string(),
  devicePrivate: z.record(z.string(), z.unknown()),
});
const StateSchema = z.object({ version: z.literal(1), pairings: z.array(StoredPairingSchema) });

export const STATE_FILE = 'pairings.json';

export function defaultStateDir(): string {
  return process.env.TWOFOLD_COMPANION_DIR ?? join(process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'twofold-companion');
}

export async function loadPairings(dir: string): Promise<PairingRecord[]> {
  const file = join(dir, STATE_FILE);
  if (!existsSync(file)) return [];
  const parsed = StateSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`${file} is damaged; pair again after moving it away.`);
  return Promise.all(
    parsed.data.pairings.map(async (p) => {
      const { reqKey, ansKey, devicePublic, devicePrivate, ...rest } = p;
      return {
        ...rest,
        reqKey: await importAesKey(fromB64u(reqKey), true),
        ansKey: await importAesKey(fromB64u(ansKey), true),
        device: {
          publicKey: await subtle.importKey('raw', fromB64u(devicePublic), ECDSA, true, ['verify']),
          privateKey: await subtle.importKey('jwk', devicePrivate as unknown as Jwk, ECDSA, true, ['sign']),
        },
      };
    }),
  );
}

type Jwk = Extract<Parameters<typeof subtle.importKey>[1], { kty?: string }>;

export async function savePairings(dir: string, pairings: PairingRecord[]): Promise<void> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stored = await Promise.all(
    pairings.map(async (p) => {
      const { reqKey, ansKey, device, ...rest } = p;
      return {
        ...rest,
        reqKey: b64u(new Uint8Array(await subtle.exportKey('raw', reqKey))),
        ansKey: b64u(new Uint8Array(await subtle.exportKey('raw', ansKey))),
        devicePublic: b64u(new Uint8Array(await subtle.exportKey('raw', device.publicKey))),
        devicePrivate: await subtle.exportKey('jwk', device.privateKey),
      };
    }),
  );
  const file = join(dir, STATE_FILE);
  const temp = `${file}.tmp`;
  writeFileSync(temp, JSON.stringify({ version: 1, pairings: stored }, null, 2), { mode: 0o600 });
  chmodSync(temp, 0o600);
  renameSync(temp, file);
}
