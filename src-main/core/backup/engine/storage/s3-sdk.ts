/**
 * The AWS SDK, loaded on the first S3 request: it adds ~30 MiB to the process and a tenth of a
 * second to every start, which a workstation with folder or SFTP repositories only never needs.
 */
export type S3Sdk = typeof import('@aws-sdk/client-s3');

let loading: Promise<S3Sdk> | null = null;

export function s3Sdk(): Promise<S3Sdk> {
  loading ??= import('@aws-sdk/client-s3');
  return loading;
}
