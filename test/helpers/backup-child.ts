/**
 * A backup in a process of its own, for the crash tests: the parent kills it with SIGKILL at a
 * random moment. Arguments: repository path, source folder. The master key comes in the
 * environment (TWOFOLD_TEST_MASTER, hex), so no Argon2 run slows each start. With
 * TWOFOLD_TEST_SFTP (SftpStorageOptions as JSON) the repository is on that SFTP server instead,
 * and the path argument is ignored.
 */
import { backup } from '../../src-main/core/backup/engine/backup.js';
import { Repository } from '../../src-main/core/backup/engine/repository.js';
import { folderStorage } from '../../src-main/core/backup/engine/storage/folder.js';
import { SftpStorage, type SftpStorageOptions } from '../../src-main/core/backup/engine/storage/sftp.js';

const [repoPath, source] = process.argv.slice(2);
const master = Buffer.from(process.env.TWOFOLD_TEST_MASTER ?? '', 'hex');
const sftp = process.env.TWOFOLD_TEST_SFTP;
const storage = sftp ? new SftpStorage(JSON.parse(sftp) as SftpStorageOptions) : folderStorage(repoPath!);
const repo = await Repository.openWithMaster(storage, master);
process.stdout.write('started\n');
// Index after every pack: more moments where a kill lands between a pack and its index.
const { snapshotId } = await backup(repo, { sources: [source!], indexEvery: 1 });
process.stdout.write(`done ${snapshotId}\n`);
// A remote storage's connection would keep the process alive.
await repo.close();
