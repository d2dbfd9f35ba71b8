/**
 * The words the backup services' errors show a person, in one place (docs/design.md, "Errors and
 * the words people read"). The engine throws codes with short technical detail; these are the
 * service layer's own refusals (a repository, a set, a job, a restore target).
 */
export const BACKUP_MESSAGES = {
  noSuchRepository: 'There is no such repository.',
  repositoryTaken: 'A repository with that name or folder is already connected.',
  repositoryInUse: 'Backup sets still use this repository. Delete them first.',
  noSuchSet: 'There is no such backup set.',
  setNameTaken: 'A backup set with that name already exists.',
  badSchedule: 'That schedule is not a valid cron expression (for example "0 3 * * *" for 03:00 daily).',
  noSuchJobKept: 'There is no such job (finished jobs are kept for a while only).',
  noSuchJob: 'There is no such job.',
  noSuchPath: 'There is no such path in this snapshot.',
  repositoryBusy: 'Wait for the running job on this repository to finish.',
  setBusy: "Wait for this set's running backup to finish.",
  setRunning: 'This backup set is already running.',
  retentionNeedsConfirmation:
    'Confirm this action first: this set has retention, so changing what, where or when it backs up needs a confirmation.',
  overwriteNeedsConfirmation: 'Confirm this action first: overwriting existing files needs a confirmation.',
  differentRepository: (path: string) => `The folder ${path} now holds a different repository than the one connected.`,
  restoreInto: (what: string) => `Restoring there would write into ${what}, which a restore never touches. Choose another folder.`,
  overlaps: (label: string, path: string) => `That folder overlaps ${label} (${path}). Choose a folder of its own.`,
  insideRepository: (enclosing: string) => `That folder is inside another repository (${enclosing}). Choose a folder of its own.`,
} as const;
