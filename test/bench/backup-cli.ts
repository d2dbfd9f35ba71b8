/**
 * A minimal command line over the engine, for the benchmark only: it is what runs as a child
 * process under /usr/bin/time, like restic and borg. The password comes in TWOFOLD_PASSWORD.
 *   init <repo> | backup <repo> <path>... | restore <repo> <target>
 */
import { backup } from '../../src-main/core/backup/engine/backup.js';
import { Repository } from '../../src-main/core/backup/engine/repository.js';
import { restore } from '../../src-main/core/backup/engine/restore.js';
import { favourMemory } from '../../src-main/core/backup/engine/gc.js';
import { folderStorage } from '../../src-main/core/backup/engine/storage/folder.js';

// As the app's composition root does (src-main/core/composition.ts).
favourMemory();

const [command, repoPath, ...rest] = process.argv.slice(2);
const password = process.env.TWOFOLD_PASSWORD ?? '';

if (command === 'init') {
  await Repository.init(folderStorage(repoPath!), password);
} else if (command === 'backup') {
  const { repo } = await Repository.openWithPassword(folderStorage(repoPath!), password);
  const { snapshotId, summary } = await backup(repo, { sources: rest });
  process.stdout.write(`${JSON.stringify({ snapshotId, files: summary.files, errors: summary.errors.length, dataAdded: summary.dataAdded })}\n`);
} else if (command === 'restore') {
  const { repo } = await Repository.openWithPassword(folderStorage(repoPath!), password);
  const snapshots = await repo.snapshots();
  const { index } = await repo.loadIndex();
  const summary = await restore(repo, index, snapshots.at(-1)!, { targetDir: rest[0]!, onExisting: 'fail' });
  process.stdout.write(`${JSON.stringify({ files: summary.files, errors: summary.errors.length })}\n`);
} else {
  process.stderr.write('usage: init <repo> | backup <repo> <path>... | restore <repo> <target>\n');
  process.exit(2);
}
