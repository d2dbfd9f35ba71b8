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
  repositoryUnreadable: 'The repository could not be opened. Check that its drive or server is there, then try again.',
  setBusy: "Wait for this set's running backup to finish.",
  setRunning: 'This backup set is already running.',
  retentionNeedsConfirmation: 'Confirm this action first: this set has retention, so changing what, where or when it backs up needs a confirmation.',
  maintenanceRunNeedsConfirmation: 'Confirm this action first: a run with maintenance credentials deletes the snapshots its retention no longer keeps.',
  overwriteNeedsConfirmation: 'Confirm this action first: overwriting existing files needs a confirmation.',
  differentRepository: (path: string) => `The folder ${path} now holds a different repository than the one connected.`,
  restoreInto: (what: string) => `Restoring there would write into ${what}, which a restore never touches. Choose another folder.`,
  overlaps: (label: string, path: string) => `That folder overlaps ${label} (${path}). Choose a folder of its own.`,
  insideRepository: (enclosing: string) => `That folder is inside another repository (${enclosing}). Choose a folder of its own.`,
  credentialsMissing: 'The credentials of this repository are missing: edit it and enter them again.',
  maintenanceWrongKind: 'Those maintenance credentials are for another kind of storage than this repository.',
  maintenanceNotNeeded: 'This repository is not append-only: it needs no maintenance credentials.',
  maintenanceRequired: (name: string, what: string) =>
    `“${name}” is append-only: its credentials cannot delete. Enter maintenance credentials (an account or key that may delete) to ${what}.`,
  maintenanceRefused: 'The maintenance credentials did not open this repository: check them and try again.',
  remoteNeedsConfirmation: 'Confirm this action first: adding or changing a repository on a server or in a bucket needs a confirmation.',
  appendOnlyPassword:
    'This repository is append-only: its credentials cannot delete the old password, so a new one would not replace it. Edit it with credentials that may delete and turn append-only off first.',
  notRemote: 'A folder repository has no credentials, host key or connections to change.',
  wrongCredentialKind: 'Those credentials are for another kind of storage than this repository.',
  hostKeyNotSftp: 'Only SFTP repositories have a host key.',
  moveAlone: 'A new location carries its own credentials and server key: give it without separate ones.',
  moveKeepsKind: 'A repository stays on its kind of storage. To use it elsewhere, copy its files there and connect that copy as a new repository.',
  retentionAppendOnly:
    'Older snapshots were not removed: this repository is append-only, so its retention runs only when you choose “Run with retention” and give maintenance credentials.',
} as const;

/** What Test connection found, for each StorageErrorCode (and OK), in the words the dialog shows. */
export const CONNECTION_TEST_MESSAGES = {
  OK: 'Connected: these credentials can write and delete there.',
  OK_APPEND_ONLY: 'Connected: these credentials can write but not delete there, so the repository is append-only.',
  NOT_FOUND: 'The server answered, but the folder or prefix is not there and could not be made.',
  UNREACHABLE: 'The server cannot be reached: check the host name or endpoint, the port and the network.',
  AUTH_FAILED: 'The server refused these credentials: check the user name, password, key (and its passphrase) or access key.',
  HOST_KEY_UNKNOWN: 'This server is new to Twofold Backup: compare its key fingerprint with the one its administrator gives you, then trust it.',
  HOST_KEY_CHANGED:
    "The server's key is not the one you trusted before. Twofold refuses to connect: someone may be in between. Ask whoever runs the server why it changed.",
  BUCKET_MISSING: 'There is no such bucket there: check its name and the region or endpoint (the bucket must exist first).',
  PERMISSION_DENIED: 'Connected, but these credentials may not write there: give the account or key permission to add files.',
  NO_SPACE: 'Connected, but the storage is full or over its quota.',
  FAILED: 'The storage failed in an unexpected way.',
} as const;
