/**
 * Shows freshly made recovery codes, once. The person downloads or prints them and confirms
 * they are saved before moving on; the core keeps only their hashes, so they cannot be shown again.
 */
import { useId, useState } from 'react';

export function recoveryCodesText(accountName: string, codes: string[], madeAt: Date): string {
  return [
    `Twofold Backup recovery codes for ${accountName}`,
    `Made ${madeAt.toISOString().slice(0, 16).replace('T', ' ')} UTC. Each code works once.`,
    'Keep them somewhere safe and apart from this computer.',
    '',
    ...codes.map((c, i) => `${String(i + 1).padStart(2, ' ')}. ${c}`),
    '',
  ].join('\n');
}

export function RecoveryCodes({ accountName, codes, onSaved }: { accountName: string; codes: string[]; onSaved: () => void }) {
  const [saved, setSaved] = useState(false);
  const checkId = useId();
  const download = () => {
    const blob = new Blob([recoveryCodesText(accountName, codes, new Date())], { type: 'text/plain' });
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = 'twofold-backup-recovery-codes.txt';
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };
  return (
    <section className="card printable" aria-labelledby="recovery-title">
      <h2 id="recovery-title">Your recovery codes</h2>
      <p>
        If you lose every device, each of these codes unlocks Twofold Backup once. They are shown only now: download or print
        them and keep them apart from this computer.
      </p>
      <ol className="codes" data-testid="recovery-codes">
        {codes.map((c) => (
          <li key={c}>
            <code>{c}</code>
          </li>
        ))}
      </ol>
      <div className="actions no-print">
        <button type="button" onClick={download}>
          Download as .txt
        </button>
        <button type="button" onClick={() => window.print()}>
          Print
        </button>
      </div>
      <div className="check no-print">
        <input id={checkId} type="checkbox" checked={saved} onChange={(e) => setSaved(e.target.checked)} />
        <label htmlFor={checkId}>I have saved these codes somewhere safe</label>
      </div>
      <div className="actions no-print">
        <button type="button" className="primary" disabled={!saved} onClick={onSaved}>
          Done
        </button>
      </div>
    </section>
  );
}
