/**
 * A backup in a process of its own, for the crash tests: the parent kills it with SIGKILL at a
 * random moment. Arguments: repository path, source folder. The master key comes in the
 * environment (TWOFOLD_TEST_MASTER, hex), so no Argon2 run slows each start.
 */
import { backup } from '../../src-main/core/backup/engine/backup.js';
import { Repository } from '../../src-main/core/backup/engine/repository.js';
import { folderStorage } from '../../src-main/core/backup/engine/storage/folder.js';

const [repoPath, source] = process.argv.slice(2);
const master = Buffer.from(process.env.TWOFOLD_TEST_MASTER ?? '', 'hex');
const repo = await Repository.openWithMaster(folderStorage(repoPath!), master);
process.stdout.write('started\n');
// Index after every pack: more moments where a kill lands between a pack and its index.
const { snapshotId } = await backup(repo, { sources: [source!], indexEvery: 1 });
process.stdout.write(`done ${snapshotId}\n`);
