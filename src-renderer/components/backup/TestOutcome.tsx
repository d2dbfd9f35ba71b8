/** What Test connection found (backup.repositories.testConnection), in the core's words. */
import type { TestConnectionOutcome } from '../../../src-shared/contract-repositories.js';
import { REPOSITORY_WORDS as W } from '../../lib/repository-words.js';

/** What Test connection found, in the core's words, with whether a repository is already there. */
export function TestOutcome({ outcome }: { outcome: TestConnectionOutcome }) {
  const ok = outcome.code === 'OK';
  return (
    <div className={ok ? 'notice ok' : 'notice'} role="status" data-testid="connection-outcome">
      <p>
        <span className={`badge ${ok ? 'ok' : 'bad'}`}>{ok ? 'Connected' : 'Not connected'}</span> {outcome.message}
      </p>
      {ok && outcome.repositoryFound !== null && <p className="small">{outcome.repositoryFound ? W.repositoryThere : W.nothingThere}</p>}
      {ok && outcome.appendOnly && <p className="small">{W.appendOnlyFound}</p>}
    </div>
  );
}
