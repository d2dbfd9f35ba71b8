/**
 * A separate process that opens an existing data folder and runs a few contract calls, printing
 * one JSON line per result. Tests use it to show state that survives a restart, and to kill a
 * process in the middle of a change. Usage: node --import tsx child-app.ts <json script>
 */
import { createApp } from '../../src-main/api/app.js';
import type { Clock } from '../../src-main/core/platform/clock.js';

interface Script {
  dataDir: string;
  /** A fixed time for the clock, or absent for the real clock. */
  now?: number;
  calls: { method: string; input: unknown; useLastProof?: boolean }[];
}

const script = JSON.parse(process.argv[2] ?? '{}') as Script;
const clock: Clock | undefined = script.now === undefined ? undefined : { now: () => script.now! };
const app = createApp({ dataDir: script.dataDir, appVersion: '0.0.0-test', idleCheckMs: 0, kdfTargetMs: 1, ...(clock ? { clock } : {}) });
const ctx = { face: 'test', ip: '127.0.0.1', workstation: 'child' } as const;

let lastProof: string | undefined;
for (const call of script.calls) {
  process.stdout.write(`${JSON.stringify({ calling: call.method })}\n`);
  const result = await app.router.call({ method: call.method, input: call.input, ...(call.useLastProof && lastProof ? { stepUpProof: lastProof } : {}) }, ctx);
  if (result.ok && typeof (result.value as { proof?: unknown }).proof === 'string') {
    lastProof = (result.value as { proof: string }).proof;
  }
  process.stdout.write(`${JSON.stringify({ method: call.method, result })}\n`);
}
app.close();
