/**
 * Copies a secret or a link to the clipboard and says so ("Copied") for a few seconds, in a live
 * region a screen reader announces. Where the clipboard is refused (an insecure context, a
 * denied permission), it says to select the text instead.
 */
import { useEffect, useState } from 'react';

export function CopyButton({ text, label, testId }: { text: string; label: string; testId?: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  useEffect(() => {
    if (state === 'idle') return;
    const timer = setTimeout(() => setState('idle'), 4000);
    return () => clearTimeout(timer);
  }, [state]);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setState('copied');
    } catch {
      setState('failed');
    }
  };
  return (
    <span className="copy">
      <button type="button" onClick={() => void copy()} data-testid={testId}>
        {label}
      </button>
      <span className="small muted" role="status">
        {state === 'copied' ? 'Copied.' : state === 'failed' ? 'Copying was refused here: select the text and copy it yourself.' : ''}
      </span>
    </span>
  );
}
