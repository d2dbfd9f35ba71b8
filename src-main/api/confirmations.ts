/**
 * What each confirmation says (docs/security.md, "Step-up"): the concrete target and the
 * consequence, made from the exact input the proof will be bound to, never from what a face
 * claims. The dialog, `gate.stepUp` and the push to a companion all show this one text, with the
 * start of the digest the proof binds to. The table is typed over every method that can need a
 * proof, so a new one cannot be added without saying what it does.
 */
import { contract, isConfirmable, type Confirmation, type ConfirmableMethodName, type MethodSpec, type ParsedInputOf } from '../../src-shared/contract.js';
import type { Core } from '../core/composition.js';
import { CoreError } from '../core/platform/errors.js';
import type { Device } from '../core/gate/factor-list.js';
import { describeBackup, plural } from './confirmations-backup.js';
import { stepUpDigest, type NeedsProof, type StepUpPrechecks } from './router.js';

export interface Described {
  title: string;
  consequence: string;
}

export type Describers = { [M in ConfirmableMethodName]: (input: ParsedInputOf<M>) => Described | Promise<Described> };

export interface ConfirmationRequest {
  method: ConfirmableMethodName;
  parsed: unknown;
  digest: string;
  confirmation: Confirmation;
  /** Whether this call needs a proof right now (false for a `stepUpWhen` call with a harmless input). */
  needed: boolean;
}

const KIND: Record<Device['kind'], string> = { totp: 'authenticator app', push: 'companion' };

/** What the gate's confirmations read: the factor list, the account, the settings and the relay in use. */
export type GateDescriberDeps = Pick<Core, 'gate' | 'accounts' | 'settings' | 'pushRelay'>;

function describeGate({ gate, accounts, settings, pushRelay }: GateDescriberDeps): Omit<Describers, keyof ReturnType<typeof describeBackup>> {
  const list = () => {
    const l = gate.factorList();
    if (!l) throw new CoreError('NOT_ALLOWED', 'Unlock Twofold Backup first.');
    return l;
  };
  const active = () => list().devices.filter((d) => d.active);
  const codesLeft = () => list().recovery?.hashes.filter((h) => h !== null).length ?? 0;
  const turnsOn = 'Two-factor authentication turns on: from then on, unlocking needs a code or a push from a device after the password.';
  const relayName = (url: string | null | undefined) => (url ? url : 'the relay built into this app');

  return {
    'account.changePassword': () => ({
      title: 'Change the password',
      consequence: `The password of “${accounts.require().name}” changes; the old one stops working at once.`,
    }),
    'devices.beginTotp': ({ name }) => ({
      title: `Add the authenticator app “${name}”`,
      consequence: active().length === 0 ? turnsOn : 'It can unlock Twofold Backup and confirm sensitive actions once its first code is entered.',
    }),
    'push.beginPairing': () => ({
      title: 'Pair a companion device',
      consequence:
        active().length === 0
          ? `${turnsOn} Pairing shows a QR code that works once, for two minutes.`
          : 'The companion can approve unlocks and sensitive actions. Pairing shows a QR code that works once, for two minutes.',
    }),
    'push.setWebCompanion': ({ choice }) =>
      choice.source === 'app'
        ? {
            title: 'Serve the web companion from this app',
            consequence: 'Phones that pair from now on load the companion from this computer; the relay only carries sealed messages.',
          }
        : choice.source === 'url'
          ? {
              title: `Load the web companion from ${choice.url}`,
              consequence: `Whoever runs ${choice.url} can read the pairing secret and every request of the phones that pair from now on: trust it as you trust this computer.`,
            }
          : {
              title: 'Trust the relay to serve the web companion',
              consequence: `Whoever runs ${relayName(settings.get().relayUrl)} can then read the pairing secret and every request of the phones that pair from now on, and approve as them.`,
            },
    'devices.remove': ({ deviceId, confirmDisableTwoFactor }) => {
      const device = list().devices.find((d) => d.id === deviceId);
      if (!device) throw new CoreError('NOT_FOUND', 'There is no such device.');
      const last = device.active && active().length === 1;
      return {
        title: `Remove the device “${device.name}”`,
        consequence:
          last && confirmDisableTwoFactor
            ? `It is your last device (${KIND[device.kind]}): two-factor authentication turns off and your ${plural(codesLeft(), 'recovery code')} are deleted; the password alone unlocks.`
            : `This ${KIND[device.kind]} stops working at once: its codes${device.kind === 'push' ? ' and push approvals' : ''} are refused from then on.`,
      };
    },
    'recovery.regenerate': () => ({
      title: 'Make new recovery codes (the old ones stop working)',
      consequence: `The ${plural(codesLeft(), 'recovery code')} you have now stop working at once; ten new ones are shown once.`,
    }),
    'twofa.disable': () => {
      const devices = active();
      return {
        title: 'Turn two-factor authentication off',
        consequence: `${plural(devices.length, 'device')} (${devices.map((d) => `“${d.name}”`).join(', ')}) and ${plural(codesLeft(), 'recovery code')} are removed; the password alone unlocks.`,
      };
    },
    'settings.update': (patch) => {
      const current = settings.get();
      const changes: string[] = [];
      const effects: string[] = [];
      if (patch.autoLockMinutes !== undefined && patch.autoLockMinutes !== current.autoLockMinutes) {
        changes.push(`auto-lock from ${current.autoLockMinutes} to ${plural(patch.autoLockMinutes, 'minute')}`);
        effects.push(`The app locks itself after ${plural(patch.autoLockMinutes, 'idle minute')}.`);
      }
      if (patch.relayUrl !== undefined && (patch.relayUrl ?? null) !== (current.relayUrl ?? null)) {
        changes.push(`the push relay from ${relayName(current.relayUrl ?? pushRelay.url())} to ${relayName(patch.relayUrl)}`);
        effects.push(`Push requests and pairings go through ${relayName(patch.relayUrl)} from now on.`);
      }
      return changes.length
        ? { title: `Change ${changes.join(' and ')}`, consequence: effects.join(' ') }
        : { title: 'Save the settings unchanged', consequence: 'Nothing changes.' };
    },
  };
}

/** The confirmations of every confirmable method, and the one entry point that uses them. */
export function createConfirmations(deps: GateDescriberDeps & Pick<Core, 'backup'>, needsProof: NeedsProof, prechecks: StepUpPrechecks = {}) {
  const describers: Describers = { ...describeGate(deps), ...describeBackup(deps.backup) };
  return {
    /** Check a (method, input) pair the way the router will, and say what confirming it means. */
    async describe(method: string, input: unknown): Promise<ConfirmationRequest> {
      if (!isConfirmable(method)) throw new CoreError('BAD_INPUT', 'That action does not need a confirmation.');
      const spec: MethodSpec = contract[method];
      const parsed = spec.input.safeParse(input);
      if (!parsed.success) throw new CoreError('BAD_INPUT', 'The action to confirm has invalid input.');
      // What the call would refuse anyway is refused now, before a code is spent on it.
      await (prechecks[method] as ((input: unknown) => void | Promise<void>) | undefined)?.(parsed.data);
      const describer = describers[method] as (input: unknown) => Described | Promise<Described>;
      const { title, consequence } = await describer(parsed.data);
      const needed = await needsProof(method, parsed.data);
      const digest = stepUpDigest(method, parsed.data);
      return {
        method,
        parsed: parsed.data,
        digest,
        needed,
        confirmation: { title: title.slice(0, 300), consequence: consequence.slice(0, 600), digest },
      };
    },
  };
}

export type Confirmations = ReturnType<typeof createConfirmations>;
