/**
 * What an S3 server says, as the StorageErrorCode a person is shown (src-main/core/backup/engine/
 * storage/s3-errors.ts). The integration test meets most of these from a real server; these are
 * the answers the test server cannot give (it never checks a SigV4 signature, never denies, never
 * throttles), built as the SDK builds them.
 */
import { S3ServiceException } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { classifiedS3, retryCause, s3ErrorCode } from '../../src-main/core/backup/engine/storage/s3-errors.js';

const answer = (name: string, status: number, message = 'the server says so') =>
  new S3ServiceException({ name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status }, message });

const network = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:9`), { code, errno: -111 });

describe('an S3 failure is classified', () => {
  it.each([
    ['NoSuchBucket', 404, 'BUCKET_MISSING'],
    ['InvalidAccessKeyId', 403, 'AUTH_FAILED'],
    ['SignatureDoesNotMatch', 403, 'AUTH_FAILED'],
    ['ExpiredToken', 400, 'AUTH_FAILED'],
    ['AccessDenied', 403, 'PERMISSION_DENIED'],
    ['NoSuchKey', 404, 'NOT_FOUND'],
    ['NotFound', 404, 'NOT_FOUND'],
    ['SlowDown', 503, 'UNREACHABLE'],
    ['InternalError', 500, 'UNREACHABLE'],
    ['BadGateway', 502, 'UNREACHABLE'],
    ['QuotaExceeded', 403, 'NO_SPACE'],
    ['Forbidden', 403, 'PERMISSION_DENIED'],
    ['InvalidArgument', 400, 'FAILED'],
  ] as const)('%s (HTTP %d) is %s', (name, status, code) => {
    expect(s3ErrorCode(answer(name, status))).toBe(code);
  });

  it('a server that cannot be reached is UNREACHABLE, also when every address of it was tried', () => {
    expect(s3ErrorCode(network('ECONNREFUSED'))).toBe('UNREACHABLE');
    expect(s3ErrorCode(network('ENOTFOUND'))).toBe('UNREACHABLE');
    expect(s3ErrorCode(new AggregateError([network('ECONNREFUSED'), network('ECONNREFUSED')]))).toBe('UNREACHABLE');
    expect(s3ErrorCode(Object.assign(new Error('socket timed out'), { name: 'TimeoutError' }))).toBe('UNREACHABLE');
  });

  it('names the operation, the S3 code and the status, and nothing the server sent', () => {
    const e = classifiedS3(answer('SignatureDoesNotMatch', 403, 'StringToSign: AWS4-HMAC-SHA256 secret-looking-text'), 'read config');
    expect(e.code).toBe('AUTH_FAILED');
    expect(e.detail).toBe('read config: SignatureDoesNotMatch (HTTP 403)');
    expect(e.message).not.toContain('secret-looking-text');
    expect(e.cause).toBeUndefined();
  });

  it('a failure the SDK retries is named for the progress line by its cause; one it does not retry is none', () => {
    expect(retryCause(network('ECONNRESET'))).toBe('network');
    expect(retryCause(network('ECONNREFUSED'))).toBe('network');
    expect(retryCause(network('ETIMEDOUT'))).toBe('timeout');
    expect(retryCause(Object.assign(new Error('timed out'), { name: 'TimeoutError' }))).toBe('timeout');
    expect(retryCause(answer('SlowDown', 503))).toBe('throttled');
    expect(retryCause(answer('TooManyRequests', 429))).toBe('throttled');
    expect(retryCause(answer('InternalError', 500))).toBe('server');
    expect(retryCause(answer('BadGateway', 502))).toBe('server');
    expect(retryCause(answer('NoSuchKey', 404))).toBeNull();
    expect(retryCause(answer('AccessDenied', 403))).toBeNull();
  });
});
