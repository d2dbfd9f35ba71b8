/**
 * A minimal command line over the engine, for the benchmark only: it is what runs as a child
 * process under /usr/bin/time, like restic and borg. The password comes in TWOFOLD_PASSWORD.
 *   init <repo> | backup <repo> <path>... | restore <repo> <target>
 * <repo> is a folder, `s3:http://host:port/bucket/prefix` (AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY, as restic takes them; path-style) or `sftp://user@host:port/path`
 * (TWOFOLD_SFTP_KEY: the private key file; TWOFOLD_SFTP_HOST_KEY: the server's pinned fingerprint).
 */
import { readFileSync } from 'node:fs';
import { backup } from '../../src-main/core/backup/engine/backup.js';
import { Repository } from '../../src-main/core/backup/engine/repository.js';
import { restore } from '../../src-main/core/backup/engine/restore.js';
import { favourMemory } from '../../src-main/core/backup/engine/gc.js';
import { folderStorage } from '../../src-main/core/backup/engine/storage/folder.js';
import { S3Storage } from '../../src-main/core/backup/engine/storage/s3.js';
import { SftpStorage } from '../../src-main/core/backup/engine/storage/sftp.js';
import type { Storage } from '../../src-main/core/backup/engine/storage/storage.js';

// As the app's composition root does (src-main/core/composition.ts).
favourMemory();

const [command, repoPath, ...rest] = process.argv.slice(2);
const password = process.env.TWOFOLD_PASSWORD ?? '';

function storageAt(location: string): Storage {
  if (location.startsWith('s3:')) {
    const url = new URL(location.slice(3));
    const [bucket, ...prefix] = url.pathname.split('/').filter(Boolean);
    return new S3Storage({
      endpoint: url.origin,
      region: process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
      bucket: bucket!,
      prefix: prefix.join('/'),
      accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? '',
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? '',
      forcePathStyle: true,
    });
  }
  if (location.startsWith('sftp://')) {
    const url = new URL(location);
    return new SftpStorage({
      host: url.hostname,
      port: Number(url.port || 22),
      username: decodeURIComponent(url.username),
      path: decodeURIComponent(url.pathname),
      auth: { kind: 'key', privateKey: readFileSync(process.env.TWOFOLD_SFTP_KEY ?? '', 'utf8') },
      hostKey: process.env.TWOFOLD_SFTP_HOST_KEY,
    });
  }
  return folderStorage(location);
}

if (command === 'init') {
  await (await Repository.init(storageAt(repoPath!), password)).repo.close();
} else if (command === 'backup') {
  const { repo } = await Repository.openWithPassword(storageAt(repoPath!), password);
  const { snapshotId, summary } = await backup(repo, { sources: rest });
  await repo.close();
  process.stdout.write(`${JSON.stringify({ snapshotId, files: summary.files, errors: summary.errors.length, dataAdded: summary.dataAdded })}\n`);
} else if (command === 'restore') {
  const { repo } = await Repository.openWithPassword(storageAt(repoPath!), password);
  const snapshots = await repo.snapshots();
  const { index } = await repo.loadIndex();
  const summary = await restore(repo, index, snapshots.at(-1)!, { targetDir: rest[0]!, onExisting: 'fail' });
  await repo.close();
  process.stdout.write(`${JSON.stringify({ files: summary.files, errors: summary.errors.length })}\n`);
} else {
  process.stderr.write('usage: init <repo> | backup <repo> <path>... | restore <repo> <target>\n');
  process.exit(2);
}
