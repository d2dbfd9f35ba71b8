/**
 * A restore in a process of its own, for the crash tests: the parent kills it with SIGKILL at a
 * random moment. Arguments: repository path, snapshot id, target folder. The master key comes in
 * the environment (TWOFOLD_TEST_MASTER, hex), so no Argon2 run slows each start.
 */
import { Repository } from '../../src-main/core/backup/engine/repository.js';
import { restore } from '../../src-main/core/backup/engine/restore.js';
import { folderStorage } from '../../src-main/core/backup/engine/storage/folder.js';

const [repoPath, snapshotId, target] = process.argv.slice(2);
const master = Buffer.from(process.env.TWOFOLD_TEST_MASTER ?? '', 'hex');
const repo = await Repository.openWithMaster(folderStorage(repoPath!), master);
const { index } = await repo.loadIndex();
const snapshot = await repo.loadSnapshot(snapshotId!);
process.stdout.write('started\n');
const summary = await restore(repo, index, snapshot, { targetDir: target!, onExisting: 'skip' });
process.stdout.write(`done ${JSON.stringify(summary)}\n`);
