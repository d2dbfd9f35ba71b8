/**
 * The words of the repository screens (src-renderer/screens/backup/RepositoriesScreen.tsx and
 * components/backup/*Repository*, LocationFields, MaintenanceFields), in one place. What a
 * connection test found is worded by the core (backup/messages.ts) and shown as it comes.
 */
import type { RepositoryKind } from '../../src-shared/repository-location.js';

export const REPOSITORY_WORDS = {
  kind: { folder: 'Folder', sftp: 'SFTP', s3: 'S3' } satisfies Record<RepositoryKind, string>,
  kindLong: { folder: 'A folder', sftp: 'An SFTP server', s3: 'An S3 bucket' } satisfies Record<RepositoryKind, string>,
  auth: { key: 'A private key', password: 'A password', agent: 'The SSH agent (its keys stay in it)' },
  hostHint: 'Host name or address of the SSH server.',
  remotePathHint: 'A full path on the server, starting with /. It is made if it does not exist.',
  keyHint: 'Paste the private key (OpenSSH or PEM), or choose its file. It is sealed on this computer and never shown again.',
  agentHint: 'Twofold Backup asks the SSH agent of your session (SSH_AUTH_SOCK) to sign in; the key never leaves it.',
  trustedKey: 'Trusted server key:',
  endpointHint: 'Leave empty for AWS S3. Backblaze B2, Cloudflare R2, Wasabi and MinIO give an https:// endpoint.',
  regionHint: 'us-east-1 if your provider names none; auto for Cloudflare R2.',
  prefixHint: 'A folder inside the bucket for this repository; empty for the whole bucket.',
  pathStyle: 'Path-style addressing (MinIO and most self-hosted servers)',
  appendOnly: 'Append-only: these credentials can add files but not delete them',
  appendOnlyHint:
    'Backups, restores and checks need nothing more. Deleting snapshots and freeing space then ask for separate maintenance credentials, used for that run only.',
  appendOnlyFound: 'Test connection found these credentials cannot delete: the repository is marked append-only.',
  connections: 'Connections',
  connectionsHint: 'Parallel uploads and downloads, 1 to 32 (4 when empty).',
  testing: 'Testing…',
  test: 'Test connection',
  repositoryThere: 'A Twofold repository is already there: connect it rather than create one.',
  nothingThere: 'No repository is there yet.',
  trustTitle: 'Trust this server?',
  trustIntro: (host: string) =>
    `Twofold Backup has not connected to ${host} before. Compare this fingerprint with the one its administrator gives you (ssh-keygen -lf on the server's host key) before you trust it.`,
  trustChanged: (host: string) =>
    `${host} now presents a different key than the one you trusted. Trust the new one only if whoever runs the server tells you it changed.`,
  trust: 'Trust this server',
  dontTrust: 'Cancel',
  copyFingerprint: 'Copy fingerprint',
  maintenanceTitle: 'Maintenance credentials',
  maintenanceIntro: (name: string) =>
    `“${name}” is append-only: its stored credentials cannot delete. Enter credentials that may delete, for this run only; they are not stored.`,
  maintenanceUser: 'Maintenance user name (if another account)',
  badgeAppendOnly: 'Append-only',
} as const;
