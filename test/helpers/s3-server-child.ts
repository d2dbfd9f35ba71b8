/**
 * The S3 API server of test/helpers/s3-server.ts in a process of its own (so that stopping it is
 * what a crashed server is: connections refused). Started by Node with --openssl-legacy-provider:
 * s3rver's ListObjectsV2 continuation tokens use DES. argv[2]: JSON { directory, port, bucket,
 * accessKeyId }; the secret comes in S3_TEST_SECRET. Prints `ready` once it listens.
 */
import S3rver from 's3rver';
import account from 's3rver/lib/models/account.js';

const { directory, port, bucket, accessKeyId } = JSON.parse(process.argv[2] ?? '{}') as {
  directory: string;
  port: number;
  bucket: string;
  accessKeyId: string;
};
account.DUMMY_ACCOUNT.createKeyPair(accessKeyId, process.env.S3_TEST_SECRET ?? '');
const server = new S3rver({ address: '127.0.0.1', port, silent: true, directory, configureBuckets: [{ name: bucket }] });
await server.run();
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void server.close().finally(() => process.exit(0));
});
