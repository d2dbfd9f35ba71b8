/**
 * When a `stepUpWhen` method needs a step-up proof (docs/security.md, "Nothing below step-up
 * destroys what a step-up protects"). The router asks before the handler runs; the services
 * check the same rule again with what the router tells them (`confirmed`).
 */
import type { Core } from '../core/composition.js';
import { assertNewDeviceNameFree } from '../core/gate/devices.js';
import type { StepUpConditions, StepUpPrechecks } from './router.js';

export function createStepUpConditions(core: Core): StepUpConditions {
  return {
    // A set with retention deletes snapshots as new ones arrive: what, where and when it backs up is theirs to keep.
    'backup.sets.update': ({ setId, ...patch }) => core.backup.updateNeedsConfirmation(setId, patch),
    'backup.restore.start': ({ onExisting }) => onExisting === 'overwrite',
  };
}

/**
 * What a step-up method refuses anyway, checked before a proof is asked for or granted: a person
 * must not spend a one-time code (or a push) on a call that then fails for another reason.
 */
export function createStepUpPrechecks(core: Core): StepUpPrechecks {
  return {
    'devices.beginTotp': ({ name }) => {
      const list = core.gate.factorList();
      if (list) assertNewDeviceNameFree(list, name);
    },
  };
}
