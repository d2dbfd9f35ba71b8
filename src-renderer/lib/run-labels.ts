/** How a backup run's state reads wherever a run is shown: the sets, the history, the overview. */
import type { BackupSetView } from '../../src-shared/contract-backup.js';

export type RunState = NonNullable<BackupSetView['lastRun']>['state'];

export const RUN_STATE_LABEL: Record<RunState, string> = {
  running: 'Running',
  succeeded: 'Succeeded',
  incomplete: 'Incomplete',
  failed: 'Failed',
  cancelled: 'Cancelled',
  interrupted: 'Interrupted',
};
