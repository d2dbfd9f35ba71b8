/** The confirmations of the repository methods that need one (see confirmations.ts). */
import type { ParsedInputOf } from '../../src-shared/contract.js';
import { locationText, splitLocation, type LocationInput } from '../../src-shared/repository-location.js';
import type { BackupService } from '../core/backup/service.js';
import type { SnapshotWithId } from '../core/backup/engine/snapshot.js';
import { plural, withMaintenance } from './confirmation-words.js';
import type { Described } from './confirmations.js';

export type RepositoryConfirmable =
  'backup.repositories.changePassword' | 'backup.repositories.remove' | 'backup.repositories.init' | 'backup.repositories.connect' | 'backup.repositories.edit';

const capital = (t: string) => t.charAt(0).toUpperCase() + t.slice(1);
const kindName = (kind: LocationInput['kind'] | undefined) => (kind === 'sftp' ? 'SFTP' : kind === 's3' ? 'S3' : 'folder');
/** Where a new repository goes, in words: its location without a credential. */
const where = (location: LocationInput | undefined) => (location ? locationText(splitLocation(location).location) : 'that folder');
const hostKeyNote = (location: LocationInput | undefined) =>
  location?.kind === 'sftp' && location.hostKey ? ` The server key ${location.hostKey} is trusted from now on.` : '';

export function describeRepositories(service: BackupService): { [M in RepositoryConfirmable]: (input: ParsedInputOf<M>) => Promise<Described> | Described } {
  const repository = (id: string) => service.sets.repository(id);
  /** The snapshots of a repository, or null when it cannot be read now (the confirmation says so). */
  const snapshotsOf = async (id: string): Promise<SnapshotWithId[] | null> =>
    service.snapshots(id).then(
      (r) => r.snapshots,
      () => null,
    );
  const count = (n: SnapshotWithId[] | null, what = 'snapshot') => (n === null ? `its ${what}s (which cannot be read now)` : plural(n.length, what));

  return {
    'backup.repositories.changePassword': ({ repositoryId }) => {
      const r = repository(repositoryId);
      return {
        title: `Change the password of the repository “${r.name}”`,
        consequence: `${r.path}: the repository password you have now stops opening it; the new one is shown once.`,
      };
    },
    'backup.repositories.remove': async ({ repositoryId, deleteFiles, maintenance }) => {
      const r = repository(repositoryId);
      const snapshots = await snapshotsOf(repositoryId);
      const place = r.kind === 'folder' ? `the folder ${r.path}` : `the repository at ${r.path}`;
      return deleteFiles
        ? {
            title: `Remove the repository “${r.name}” and delete its files`,
            consequence: `${capital(place)} and ${count(snapshots)} in it are deleted for good${withMaintenance(maintenance)}.`,
          }
        : {
            title: `Remove the repository “${r.name}”`,
            consequence: `This app forgets it${r.kind === 'folder' ? '' : ' and its credentials'}; ${place} and ${count(snapshots)} in it stay where they are.`,
          };
    },
    'backup.repositories.init': ({ name, location, appendOnly }) => ({
      title: `Add the ${kindName(location?.kind)} repository “${name}”`,
      consequence: `A new repository is made at ${where(location)}${appendOnly ? ' (append-only)' : ''}; its credentials are sealed on this computer and backup sets can store snapshots there.${hostKeyNote(location)}`,
    }),
    'backup.repositories.connect': ({ name, location, appendOnly }) => ({
      title: `Connect the ${kindName(location?.kind)} repository “${name}”`,
      consequence: `The repository at ${where(location)}${appendOnly ? ' (append-only)' : ''} is connected; its credentials are sealed on this computer.${hostKeyNote(location)}`,
    }),
    'backup.repositories.edit': ({ repositoryId, name, connections, appendOnly, credentials, hostKey, location }) => {
      const r = repository(repositoryId);
      // A move to another server trusts that server's key; the same server keeps the key it has.
      const keyNote = r.location.kind === 'sftp' && location?.kind === 'sftp' && location.hostKey !== r.location.hostKey ? hostKeyNote(location) : '';
      const changes = [
        ...(name !== undefined && name !== r.name ? [`renamed “${name}”`] : []),
        ...(connections !== undefined ? [`${connections === null ? 'the default number of' : connections} connections`] : []),
        ...(appendOnly !== undefined ? [appendOnly ? 'marked append-only' : 'no longer marked append-only'] : []),
        ...(location ? [`moved to ${where(location)}, with the credentials given (checked against the repository first)`] : []),
        ...(credentials ? ['new credentials (checked against the repository first)'] : []),
        ...(hostKey ? [`the server key ${hostKey} trusted from now on`] : []),
      ];
      return {
        title: `Change the repository “${r.name}”`,
        consequence: `${r.path}: ${changes.length ? changes.join('; ') : 'nothing changes'}.${keyNote}`,
      };
    },
  };
}
