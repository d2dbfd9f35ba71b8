/** Push approval and pairing: contract method -> service call (the router checked the level). */
import { contract, isMethodName } from '../../src-shared/contract.js';
import type { pushMethods } from '../../src-shared/contract-push.js';
import type { Core } from '../core/composition.js';
import { CoreError } from '../core/errors.js';
import { stepUpDigest, type Handler } from './router.js';

export function createPushHandlers(core: Core): { [M in keyof typeof pushMethods]: Handler<M> } {
  const { gate, push, pairing } = core;
  const session = () => gate.unlocked();

  return {
    'push.status': () => push.status(),

    'push.start': (_input, ctx) => push.start({ kind: 'unlock' }, ctx),

    'push.poll': async ({ requestId, waitMs }) => {
      const { state, expiresAt } = await push.poll(requestId, waitMs);
      return { state, expiresAt };
    },

    'push.cancel': async ({ requestId }) => ({ state: (await push.cancel(requestId)).state }),

    'push.startStepUp': ({ method, input }, ctx) => {
      if (!isMethodName(method) || contract[method].level !== 'step-up') {
        throw new CoreError('BAD_INPUT', 'That action does not need a confirmation.');
      }
      const parsed = contract[method].input.safeParse(input);
      if (!parsed.success) throw new CoreError('BAD_INPUT', 'The action to confirm has invalid input.');
      return push.start({ kind: 'step-up', method, inputDigest: stepUpDigest(method, parsed.data), action: contract[method].action }, ctx);
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
