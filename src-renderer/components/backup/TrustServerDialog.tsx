/**
 * "Trust this server?": an SFTP server's host key, shown as its fingerprint (SHA256:…, as
 * ssh-keygen -l prints it) with a copy button, to be compared with what its administrator gives
 * before Twofold Backup sends it any credential. Trusting pins that key; a different one later is
 * refused by the core.
 */
import { useId } from 'react';
import { CopyButton } from '../CopyButton.js';
import { Dialog } from '../Dialog.js';
import { REPOSITORY_WORDS as W } from '../../lib/repository-words.js';

export function TrustServerDialog(props: {
  host: string;
  fingerprint: string;
  algorithm: string | null;
  changed: boolean;
  onTrust: () => void;
  onCancel: () => void;
}) {
  const titleId = useId();
  return (
    <Dialog role="alertdialog" labelledBy={titleId} onCancel={props.onCancel}>
      <h2 id={titleId}>{W.trustTitle}</h2>
      <p>{props.changed ? W.trustChanged(props.host) : W.trustIntro(props.host)}</p>
      <dl className="facts">
        <div>
          <dt>Server</dt>
          <dd>{props.host}</dd>
        </div>
        {props.algorithm && (
          <div>
            <dt>Key type</dt>
            <dd>{props.algorithm}</dd>
          </div>
        )}
      </dl>
      <p>
        <code className="secret fingerprint" data-testid="host-key-fingerprint">
          {props.fingerprint}
        </code>
      </p>
      <CopyButton text={props.fingerprint} label={W.copyFingerprint} />
      <div className="actions">
        <button type="button" onClick={props.onCancel} autoFocus>
          {W.dontTrust}
        </button>
        <button type="button" className={props.changed ? 'danger solid' : 'primary'} onClick={props.onTrust}>
          {W.trust}
        </button>
      </div>
    </Dialog>
  );
}
