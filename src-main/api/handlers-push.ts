/** Push approval and pairing: contract method -> service call (the router checked the level). */
import { contract } from '../../src-shared/contract.js';
import type { pushMethods } from '../../src-shared/contract-push.js';
import type { Core } from '../core/composition.js';
import type { Confirmations } from './confirmations.js';
import type { Handler } from './router.js';

export function createPushHandlers(
  { gate, push, pairing }: Pick<Core, 'gate' | 'push' | 'pairing'>,
  confirmations: Confirmations,
): { [M in keyof typeof pushMethods]: Handler<M> } {
  const session = () => gate.unlocked();

  return {
    'push.status': () => push.status(),

    'push.start': (_input, ctx) => push.start({ kind: 'unlock' }, ctx),

    'push.poll': async ({ requestId, waitMs }) => {
      const { state, expiresAt } = await push.poll(requestId, waitMs);
      return { state, expiresAt };
    },

    'push.cancel': async ({ requestId }) => ({ state: (await push.cancel(requestId)).state }),

    'push.startStepUp': async ({ method, input }, ctx) => {
      const request = await confirmations.describe(method, input);
      return push.start(
        { kind: 'step-up', method: request.method, inputDigest: request.digest, action: contract[request.method].action, confirmation: request.confirmation },
        ctx,
      );
    },

    'push.pollStepUp': async ({ requestId, waitMs }) => {
      const { state, expiresAt, proof } = await push.poll(requestId, waitMs);
      return { state, expiresAt, proof: proof?.proof ?? null, proofExpiresAt: proof?.expiresAt ?? null };
    },

    'push.beginPairing': (_input, ctx) => pairing.begin(session(), ctx),

    'push.pairingStatus': ({ pairingId, waitMs }) => pairing.status(pairingId, waitMs),

    'push.finishPairing': ({ pairingId, name }, ctx) => pairing.finish(session(), pairingId, name, ctx),

    'push.cancelPairing': async ({ pairingId }) => ({ state: (await pairing.cancel(pairingId)).state }),

    'push.webCompanion': () => pairing.webCompanion(session()),

    'push.setWebCompanion': ({ choice }, ctx) => pairing.setWebCompanion(session(), choice, ctx),
  };
}
