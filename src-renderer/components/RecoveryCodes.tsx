/**
 * Shows freshly made recovery codes, once. The person downloads or prints them and confirms
 * they are saved before moving on; the core keeps only their hashes, so they cannot be shown again.
 */
import { CopyButton } from './CopyButton.js';
import { ShownOnce } from './ShownOnce.js';

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
  return (
    <ShownOnce
      title="Your recovery codes"
      file={{ name: 'twofold-backup-recovery-codes.txt', text: () => recoveryCodesText(accountName, codes, new Date()) }}
      confirmLabel="I have saved these codes somewhere safe"
      onSaved={onSaved}
    >
      <p>
        If you lose every device, each of these codes unlocks Twofold Backup once. They are shown only now: download or print them and keep them apart from this
        computer.
      </p>
      <ol className="codes" data-testid="recovery-codes">
        {codes.map((c) => (
          <li key={c}>
            <code>{c}</code>
          </li>
        ))}
      </ol>
      <div className="actions no-print">
        <CopyButton text={codes.join('\n')} label="Copy codes" testId="copy-recovery-codes" />
      </div>
    </ShownOnce>
  );
}
