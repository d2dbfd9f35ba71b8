/**
 * What the home screen says, worked out from the core's own answers: the first-run checklist
 * (each step ticked by real state, never by a click on the list) and the warnings that need the
 * person. Pure functions, so the words follow the state and nothing else.
 */
import type { DeviceOverview } from '../../../src-shared/contract.js';
import type { BackupSetView, JobViewDto } from '../../../src-shared/contract-backup.js';
import type { RepositoryStatus } from '../../../src-shared/contract-repositories.js';
import { plural } from '../../lib/format.js';

/** The sections the home screen sends the person to. */
export type Destination = 'security' | 'repositories' | 'backups' | 'snapshots' | 'check';

export interface RepositoryItem {
  id: string;
  name: string;
  path: string;
}

/** Each repository's state as last asked (useRepositoryStatuses.ts), by id. */
export type RepositoryStatuses = ReadonlyMap<string, RepositoryStatus>;

/** Everything the home screen reads, in one place. */
export interface HomeState {
  devices: DeviceOverview;
  repositories: RepositoryItem[];
  sets: BackupSetView[];
  jobs: JobViewDto[];
  /** A restore has finished without an error at least once (from the audit log). */
  restoreTested: boolean;
}

export interface ChecklistItem {
  id: 'device' | 'codes' | 'repository' | 'set' | 'run' | 'restore';
  label: string;
  done: boolean;
  /** Where to do it. */
  go: Destination;
  action: string;
}

export function checklist(s: HomeState): ChecklistItem[] {
  const ran = s.sets.some((set) => set.lastRun?.state === 'succeeded' || set.lastRun?.state === 'incomplete');
  return [
    { id: 'device', label: 'Add a device for the second factor', done: s.devices.devices.some((d) => d.active), go: 'security', action: 'Open Security' },
    { id: 'codes', label: 'Save your recovery codes', done: s.devices.recoveryCodesLeft > 0, go: 'security', action: 'Open Security' },
    { id: 'repository', label: 'Create a repository', done: s.repositories.length > 0, go: 'repositories', action: 'Open Repositories' },
    { id: 'set', label: 'Create your first backup set', done: s.sets.length > 0, go: 'backups', action: 'Open Backup sets' },
    { id: 'run', label: 'Run it once', done: ran, go: 'backups', action: 'Open Backup sets' },
    { id: 'restore', label: 'Test a restore', done: s.restoreTested, go: 'snapshots', action: 'Open Snapshots & restore' },
  ];
}

/** The last check of each repository this session knows of (newest first in the list). */
export function lastChecks(jobs: JobViewDto[]): Map<string, Extract<JobViewDto, { kind: 'check' }>> {
  const out = new Map<string, Extract<JobViewDto, { kind: 'check' }>>();
  for (const job of [...jobs].sort((a, b) => b.startedAt - a.startedAt)) {
    if (job.kind === 'check' && job.state !== 'running' && !out.has(job.repositoryId)) out.set(job.repositoryId, job);
  }
  return out;
}

export interface Warning {
  id: string;
  text: string;
  go: Destination;
  action: string;
}

const WEEK_MS = 7 * 24 * 3600_000;

function setWarnings(set: BackupSetView, now: number): Warning[] {
  const run = set.lastRun;
  const name = `“${set.name}”`;
  if (set.running || !run) return [];
  const go = { go: 'backups' as const, action: 'Open Backup sets' };
  if (run.state === 'failed') return [{ id: `failed-${set.id}`, text: `The last backup of ${name} failed${run.message ? `: ${run.message}` : '.'}`, ...go }];
  if (run.state === 'interrupted') return [{ id: `interrupted-${set.id}`, text: `The last backup of ${name} was interrupted. Run it again.`, ...go }];
  const out: Warning[] = [];
  if (run.state === 'incomplete' && run.errors) {
    out.push({ id: `skipped-${set.id}`, text: `The last backup of ${name} skipped ${plural(run.errors, 'item')} it could not read.`, ...go });
  }
  const finished = run.finishedAt ?? run.startedAt;
  if (set.schedule && now - finished > WEEK_MS) out.push({ id: `stale-${set.id}`, text: `${name} has not been backed up for more than a week.`, ...go });
  return out;
}

export function warnings(s: HomeState, now: number, statuses: RepositoryStatuses = new Map()): Warning[] {
  const out: Warning[] = [];
  for (const repo of s.repositories) {
    const status = statuses.get(repo.id);
    if (status && !status.reachable) {
      out.push({
        id: `unreachable-${repo.id}`,
        text: `“${repo.name}” cannot be reached: ${status.message ?? 'check its drive or server.'}`,
        go: 'repositories',
        action: 'Open Repositories',
      });
    }
  }
  if (!s.devices.twoFactorEnabled) {
    out.push({ id: 'no-2fa', text: 'Two-factor authentication is off: the password alone opens your backups.', go: 'security', action: 'Add a device' });
  } else if (s.devices.recoveryCodesLow) {
    out.push({
      id: 'codes-low',
      text: `Only ${plural(s.devices.recoveryCodesLeft, 'recovery code')} left. Make new ones.`,
      go: 'security',
      action: 'Open Security',
    });
  }
  for (const set of s.sets) out.push(...setWarnings(set, now));
  for (const [repositoryId, job] of lastChecks(s.jobs)) {
    const repo = s.repositories.find((r) => r.id === repositoryId);
    if (!repo) continue;
    const damaged = job.state === 'succeeded' && job.result && !job.result.ok;
    if (damaged)
      out.push({ id: `check-${repositoryId}`, text: `The last check of “${repo.name}” found problems.`, go: 'check', action: 'Open Check & repair' });
    if (job.state === 'failed')
      out.push({
        id: `check-${repositoryId}`,
        text: `The last check of “${repo.name}” could not finish${job.error ? `: ${job.error.message}` : '.'}`,
        go: 'check',
        action: 'Open Check & repair',
      });
  }
  return out;
}
