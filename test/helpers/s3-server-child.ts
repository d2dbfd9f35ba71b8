/**
 * The S3 API server of test/helpers/s3-server.ts in a process of its own (so that stopping it is
 * what a crashed server is: connections refused). Started by Node with --openssl-legacy-provider:
 * s3rver's ListObjectsV2 continuation tokens use DES. argv[2]: JSON { directory, port, bucket,
 * accessKeyId, tls? { keyFile, certFile } }; the secret comes in S3_TEST_SECRET. Prints `ready`
 * once it listens.
 */
import { readFileSync } from 'node:fs';
import S3rver from 's3rver';
import account from 's3rver/lib/models/account.js';

const { directory, port, bucket, accessKeyId, tls } = JSON.parse(process.argv[2] ?? '{}') as {
  directory: string;
  port: number;
  bucket: string;
  accessKeyId: string;
  tls?: { keyFile: string; certFile: string };
};
account.DUMMY_ACCOUNT.createKeyPair(accessKeyId, process.env.S3_TEST_SECRET ?? '');
const https = tls ? { key: readFileSync(tls.keyFile), cert: readFileSync(tls.certFile) } : {};
const server = new S3rver({ address: '127.0.0.1', port, silent: true, directory, configureBuckets: [{ name: bucket }], ...https });
await server.run();
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void server.close().finally(() => process.exit(0));
});
