/**
 * Security settings: devices (add, rename, remove), recovery codes, turning 2FA off, auto-lock
 * and the password. Sensitive changes go through a step-up that names the action; the router
 * enforces it, the UI only asks for it.
 */
import { useEffect, useState, type FormEvent } from 'react';
import type { DeviceOverview, DeviceView, InputOf } from '../../src-shared/contract.js';
import { call } from '../api.js';
import { AddAuthenticator } from '../components/AddAuthenticator.js';
import { Banner } from '../components/Banner.js';
import { isAre, plural } from '../lib/plural.js';
import { Dialog } from '../components/Dialog.js';
import { PairCompanion } from '../components/PairCompanion.js';
import { ErrorText, Field } from '../components/Field.js';
import { PasswordField } from '../components/PasswordField.js';
import { RecoveryCodes } from '../components/RecoveryCodes.js';
import { StepUpDialog } from '../components/StepUpDialog.js';
import { Table, type Column } from '../components/Table.js';
import { useConfirmedCall } from '../hooks/useConfirmedCall.js';
import { useLoad, useMethod } from '../hooks/useMethod.js';
import { StrengthMeter, useStrength } from '../components/StrengthMeter.js';
import { WebCompanionSettings } from '../components/WebCompanionSettings.js';

export function SecuritySettings({ accountName }: { accountName: string }) {
  const { data: overview, error, reload: refresh } = useLoad('devices.list', {});

  return (
    <div className="stack">
      <h1>Security</h1>
      <ErrorText message={error} />
      {overview && <Devices overview={overview} accountName={accountName} onChange={refresh} />}
      {overview?.twoFactorEnabled && <RecoveryCodesCard overview={overview} accountName={accountName} onChange={refresh} />}
      {overview?.twoFactorEnabled && <TurnOffTwoFactor onChange={refresh} />}
      <AutoLock />
      <Relay />
      <WebCompanionSettings />
      <ChangePassword />
    </div>
  );
}

function Relay() {
  const [url, setUrl] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const { run, dialog } = useConfirmedCall();
  useEffect(() => {
    void call('settings.get', {}).then((r) => r.ok && setUrl(r.value.relayUrl ?? ''));
  }, []);
  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (url === null) return;
    // Where pushes go is a step-up: the router asks for a confirmation, the dialog names the new relay.
    const r = await run('settings.update', { relayUrl: url.trim() === '' ? null : url.trim() });
    setError(r.ok ? null : r.error.message);
    setMessage(r.ok ? (r.value.relayUrl ? `Saved: pushes go through ${r.value.relayUrl}.` : 'Saved: pushes go through the relay built into this app.') : null);
  };
  return (
    <>
      <form className="card" onSubmit={save} aria-labelledby="relay-title">
        <h2 id="relay-title">Push relay</h2>
        <Field
          label="Relay address"
          placeholder="wss://relay.example.org/v1"
          value={url ?? ''}
          onChange={(e) => setUrl(e.target.value)}
          hint="Leave empty to use the relay built into this app (this machine or your LAN; clearing the address takes effect at the next start). Your office may run its own: npm run relay. The relay only ever sees encrypted messages; where phones get the web companion is a separate choice, below."
        />
        <ErrorText message={error} />
        {message && <p role="status">{message}</p>}
        <div className="actions">
          <button type="submit" className="primary">
            Save relay
          </button>
        </div>
      </form>
      {dialog}
    </>
  );
}

const dateTime = (ms: number | null) => (ms === null ? 'never' : new Date(ms).toLocaleString());
const KIND_LABEL: Record<DeviceView['kind'], string> = { totp: 'Authenticator app', push: 'Companion (push)' };

function Devices({ overview, accountName, onChange }: { overview: DeviceOverview; accountName: string; onChange: () => void }) {
  const [removing, setRemoving] = useState<{ device: DeviceView; confirmDisableTwoFactor: boolean } | null>(null);
  const [renaming, setRenaming] = useState<DeviceView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  const remove = async (proof: string) => {
    if (!removing) return;
    const r = await call('devices.remove', { deviceId: removing.device.id, confirmDisableTwoFactor: removing.confirmDisableTwoFactor }, proof);
    setRemoving(null);
    setError(r.ok ? null : r.error.message);
    setMessage(r.ok ? `Removed “${removing.device.name}”.${r.value.twoFactorEnabled ? '' : ' Two-factor authentication is now off.'}` : null);
    onChange();
  };

  const lastActive = overview.devices.length === 1;
  return (
    <section className="card" aria-labelledby="devices-title">
      <h2 id="devices-title">Devices</h2>
      <p className="small muted">
        {overview.twoFactorEnabled
          ? 'Two-factor authentication is on: unlocking needs the password and a code from one of these devices.'
          : 'Two-factor authentication is off: the password alone unlocks. Add a device to turn it on.'}
      </p>
      {overview.devices.length > 0 && (
        <DevicesTable devices={overview.devices} onRename={setRenaming} onRemove={(d) => setRemoving({ device: d, confirmDisableTwoFactor: false })} />
      )}
      <ErrorText message={error} />
      {message && <p role="status">{message}</p>}
      {renaming && (
        <RenameDevice
          device={renaming}
          onDone={(msg) => {
            setRenaming(null);
            setMessage(msg);
            onChange();
          }}
        />
      )}
      <AddDevice accountName={accountName} onAdded={(msg) => (setMessage(msg), onChange())} onStart={() => setMessage(null)} />
      {removing && lastActive && !removing.confirmDisableTwoFactor && (
        <Dialog role="alertdialog" labelledBy="last-device-title" onCancel={() => setRemoving(null)}>
          <h2 id="last-device-title">Remove your last device?</h2>
          <p>
            “{removing.device.name}” is your last device. Removing it turns two-factor authentication off, and your recovery codes stop working: the password
            alone will unlock Twofold Backup.
          </p>
          <div className="actions">
            <button type="button" onClick={() => setRemoving(null)}>
              Keep it
            </button>
            <button type="button" className="danger solid" onClick={() => setRemoving({ ...removing, confirmDisableTwoFactor: true })}>
              Remove and turn 2FA off
            </button>
          </div>
        </Dialog>
      )}
      {removing && (!lastActive || removing.confirmDisableTwoFactor) && (
        <StepUpDialog
          method="devices.remove"
          input={{ deviceId: removing.device.id, confirmDisableTwoFactor: removing.confirmDisableTwoFactor }}
          onProof={(proof) => void remove(proof)}
          onCancel={() => setRemoving(null)}
        />
      )}
    </section>
  );
}

/** Adding a device: an authenticator app or a companion; the first one brings recovery codes, shown once. */
function AddDevice({ accountName, onAdded, onStart }: { accountName: string; onAdded: (message: string) => void; onStart: () => void }) {
  const [adding, setAdding] = useState<'totp' | 'push' | null>(null);
  const [newCodes, setNewCodes] = useState<string[] | null>(null);
  return newCodes ? (
    <RecoveryCodes accountName={accountName} codes={newCodes} onSaved={() => setNewCodes(null)} />
  ) : adding === 'totp' ? (
    <div className="subcard">
      <h3>Add an authenticator app</h3>
      <AddAuthenticator
        onAdded={(codes) => {
          setAdding(null);
          setNewCodes(codes);
          onAdded('Device added.');
        }}
        onCancel={() => setAdding(null)}
      />
    </div>
  ) : adding === 'push' ? (
    <div className="subcard">
      <h3>Pair a companion for push approval</h3>
      <PairCompanion
        onPaired={(codes, name) => {
          setAdding(null);
          setNewCodes(codes);
          onAdded(`Companion “${name}” paired.`);
        }}
        onCancel={() => setAdding(null)}
      />
    </div>
  ) : (
    <div className="actions">
      <button type="button" onClick={() => (setAdding('push'), onStart())}>
        Pair a companion
      </button>
      <button type="button" className="primary" onClick={() => (setAdding('totp'), onStart())}>
        Add an authenticator app
      </button>
    </div>
  );
}

function DevicesTable({ devices, onRename, onRemove }: { devices: DeviceView[]; onRename: (d: DeviceView) => void; onRemove: (d: DeviceView) => void }) {
  const columns: Column<DeviceView>[] = [
    { header: 'Name', cell: (d) => d.name },
    { header: 'Type', cell: (d) => KIND_LABEL[d.kind] },
    { header: 'Added', cell: (d) => dateTime(d.addedAt) },
    { header: 'Last used', cell: (d) => dateTime(d.lastUsedAt) },
    {
      header: 'Actions',
      hideHeader: true,
      className: 'row-actions-cell',
      cell: (d) => (
        <div className="row-actions">
          <button type="button" onClick={() => onRename(d)} aria-label={`Rename ${d.name}`}>
            Rename
          </button>
          <button type="button" className="danger" aria-label={`Remove ${d.name}`} onClick={() => onRemove(d)}>
            Remove
          </button>
        </div>
      ),
    },
  ];
  return <Table rows={devices} columns={columns} rowKey={(d) => d.id} testId="devices-table" />;
}

function RenameDevice({ device, onDone }: { device: DeviceView; onDone: (message: string | null) => void }) {
  const [name, setName] = useState(device.name);
  const { run, error } = useMethod('devices.rename');
  const save = async (e: FormEvent) => {
    e.preventDefault();
    const r = await run({ deviceId: device.id, name });
    if (r.ok) onDone(`Renamed to “${r.value.name}”.`);
  };
  return (
    <form className="subcard" onSubmit={save} aria-label={`Rename ${device.name}`}>
      <Field label="New name" value={name} maxLength={40} autoFocus onChange={(e) => setName(e.target.value)} required />
      <ErrorText message={error} />
      <div className="actions">
        <button type="button" onClick={() => onDone(null)}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={name.trim() === ''}>
          Save name
        </button>
      </div>
    </form>
  );
}

function RecoveryCodesCard({ overview, accountName, onChange }: { overview: DeviceOverview; accountName: string; onChange: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const [codes, setCodes] = useState<string[] | null>(null);
  const { run, error } = useMethod('recovery.regenerate');
  const regenerate = async (proof: string) => {
    setConfirming(false);
    const r = await run({}, proof);
    if (r.ok) setCodes(r.value.codes);
    onChange();
  };
  if (codes) return <RecoveryCodes accountName={accountName} codes={codes} onSaved={() => setCodes(null)} />;
  return (
    <section className="card" aria-labelledby="recovery-card-title">
      <h2 id="recovery-card-title">Recovery codes</h2>
      <p data-testid="recovery-left">
        <strong>{overview.recoveryCodesLeft}</strong> of 10 recovery codes left.
      </p>
      {overview.recoveryCodesLow && (
        <Banner action={{ label: 'Make new recovery codes now', onClick: () => setConfirming(true) }} testId="recovery-low">
          <p>
            Only {plural(overview.recoveryCodesLeft, 'recovery code')} {isAre(overview.recoveryCodesLeft)} left. Make new ones here before you run out; the old
            ones then stop working.
          </p>
        </Banner>
      )}
      <ErrorText message={error} />
      <div className="actions">
        <button type="button" onClick={() => setConfirming(true)}>
          Make new recovery codes
        </button>
      </div>
      {confirming && <StepUpDialog method="recovery.regenerate" input={{}} onProof={(proof) => void regenerate(proof)} onCancel={() => setConfirming(false)} />}
    </section>
  );
}

function TurnOffTwoFactor({ onChange }: { onChange: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const { run, error } = useMethod('twofa.disable');
  const turnOff = async (proof: string) => {
    setConfirming(false);
    await run({}, proof);
    onChange();
  };
  return (
    <section className="card" aria-labelledby="twofa-off-title">
      <h2 id="twofa-off-title">Turn two-factor authentication off</h2>
      <p className="small muted">Removes every device and recovery code. The password alone will then unlock Twofold Backup.</p>
      <ErrorText message={error} />
      <div className="actions">
        <button type="button" className="danger" onClick={() => setConfirming(true)}>
          Turn 2FA off
        </button>
      </div>
      {confirming && <StepUpDialog method="twofa.disable" input={{}} onProof={(proof) => void turnOff(proof)} onCancel={() => setConfirming(false)} />}
    </section>
  );
}

function AutoLock() {
  const [minutes, setMinutes] = useState<number | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const { run, dialog } = useConfirmedCall();
  useEffect(() => {
    void call('settings.get', {}).then((r) => r.ok && setMinutes(r.value.autoLockMinutes));
  }, []);
  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (minutes === null) return;
    const result = await run('settings.update', { autoLockMinutes: minutes });
    setError(result.ok ? null : result.error.message);
    setMessage(result.ok ? `Saved: locks after ${result.value.autoLockMinutes} idle minutes.` : null);
  };
  return (
    <>
      <form className="card" onSubmit={save} aria-labelledby="autolock-title">
        <h2 id="autolock-title">Auto-lock</h2>
        <Field
          label="Lock after this many idle minutes"
          type="number"
          min={1}
          max={1440}
          step={1}
          value={minutes ?? ''}
          onChange={(e) => setMinutes(Number(e.target.value))}
          hint="Between 1 and 1440 minutes. The app also locks when the computer locks or sleeps."
        />
        <ErrorText message={error} />
        {message && <p role="status">{message}</p>}
        <div className="actions">
          <button type="submit" className="primary">
            Save
          </button>
        </div>
      </form>
      {dialog}
    </>
  );
}

function ChangePassword() {
  const [currentPassword, setCurrent] = useState('');
  const [newPassword, setNew] = useState('');
  const [confirm, setConfirm] = useState('');
  const [pending, setPending] = useState<InputOf<'account.changePassword'> | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const strength = useStrength(newPassword);

  const start = (e: FormEvent) => {
    e.preventDefault();
    if (newPassword !== confirm) return setError('The two new passwords are not the same.');
    setError(null);
    setPending({ currentPassword, newPassword });
  };
  const finish = async (proof: string) => {
    if (!pending) return;
    const result = await call('account.changePassword', pending, proof);
    setPending(null);
    setError(result.ok ? null : result.error.message);
    setDone(result.ok);
    if (result.ok) {
      setCurrent('');
      setNew('');
      setConfirm('');
    }
  };

  return (
    <>
      <form className="card" onSubmit={start} aria-labelledby="password-title">
        <h2 id="password-title">Change password</h2>
        <PasswordField label="Current password" autoComplete="current-password" value={currentPassword} onChange={(e) => setCurrent(e.target.value)} required />
        <PasswordField label="New password" autoComplete="new-password" value={newPassword} onChange={(e) => setNew(e.target.value)} required />
        <StrengthMeter strength={strength} />
        <PasswordField label="Repeat the new password" autoComplete="new-password" value={confirm} onChange={(e) => setConfirm(e.target.value)} required />
        <ErrorText message={error} />
        {done && <p role="status">Password changed.</p>}
        <div className="actions">
          <button type="submit" className="primary" disabled={!strength?.acceptable || newPassword !== confirm || !currentPassword}>
            Change password
          </button>
        </div>
      </form>
      {pending && <StepUpDialog method="account.changePassword" input={pending} onProof={(proof) => void finish(proof)} onCancel={() => setPending(null)} />}
    </>
  );
}
