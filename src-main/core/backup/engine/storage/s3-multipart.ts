/**
 * A large object to S3 in parts (docs/repository-format.md, "Storage"): CreateMultipartUpload,
 * the parts in parallel (read from the staged file or sliced from the buffer as they go, so at
 * most `connections` parts are in memory), then CompleteMultipartUpload, which is when the object
 * appears, whole. A failure aborts the upload so no parts are left behind to be billed.
 */
import { open } from 'node:fs/promises';
import type { CompletedPart, S3Client } from '@aws-sdk/client-s3';
import type { S3Sdk } from './s3-sdk.js';
import type { StagedFile } from './storage.js';

/**
 * Objects larger than this go up in parts. A pack is closed once it passes 16 MiB, so most are a
 * little larger: as parts they cost four requests, and the server a second copy of every byte
 * when it joins them (as restic, whose uploads go whole up to 200 MiB, a pack is one PUT).
 */
export const MULTIPART_ABOVE = 64 * 1024 * 1024;
/** The size of each part (or larger, to stay under 10,000 parts). */
export const PART_SIZE = 16 * 1024 * 1024;
const MAX_PARTS = 10_000;

/** Runs `fn` when one of the storage's connections is free. */
export type Slot = <T>(fn: () => Promise<T>) => Promise<T>;

export type UploadSource = Buffer | StagedFile;

export interface MultipartTarget {
  client: S3Client;
  sdk: S3Sdk;
  bucket: string;
  key: string;
  /** Send If-None-Match: * with the completion (create-only on servers that support it). */
  ifNoneMatch: boolean;
  slot: Slot;
  connections: number;
}

/** The part size for an object of `size` bytes. */
export function partSize(size: number): number {
  return Math.max(PART_SIZE, Math.ceil(size / MAX_PARTS));
}

async function readPart(source: UploadSource, fh: Awaited<ReturnType<typeof open>> | null, offset: number, length: number): Promise<Buffer> {
  if (Buffer.isBuffer(source)) return source.subarray(offset, offset + length);
  const out = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh!.read(out, done, length - done, offset + done);
    if (bytesRead === 0) throw new Error(`${source.file} is shorter than its stated ${source.size} bytes`);
    done += bytesRead;
  }
  return out;
}

export async function uploadMultipart(t: MultipartTarget, source: UploadSource): Promise<void> {
  const size = Buffer.isBuffer(source) ? source.length : source.size;
  const each = partSize(size);
  const count = Math.ceil(size / each);
  const created = await t.slot(() => t.client.send(new t.sdk.CreateMultipartUploadCommand({ Bucket: t.bucket, Key: t.key })));
  const uploadId = created.UploadId;
  if (!uploadId) throw new Error('CreateMultipartUpload returned no UploadId');
  const fh = Buffer.isBuffer(source) ? null : await open(source.file, 'r');
  try {
    const parts: CompletedPart[] = new Array<CompletedPart>(count);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < count) {
        const index = next++;
        const offset = index * each;
        const body = await readPart(source, fh, offset, Math.min(each, size - offset));
        const res = await t.slot(() =>
          t.client.send(new t.sdk.UploadPartCommand({ Bucket: t.bucket, Key: t.key, UploadId: uploadId, PartNumber: index + 1, Body: body })),
        );
        parts[index] = { PartNumber: index + 1, ETag: res.ETag };
      }
    };
    await Promise.all(Array.from({ length: Math.min(t.connections, count) }, worker));
    await t.slot(() =>
      t.client.send(
        new t.sdk.CompleteMultipartUploadCommand({
          Bucket: t.bucket,
          Key: t.key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts },
          ...(t.ifNoneMatch ? { IfNoneMatch: '*' } : {}),
        }),
      ),
    );
  } catch (e) {
    await t.slot(() => t.client.send(new t.sdk.AbortMultipartUploadCommand({ Bucket: t.bucket, Key: t.key, UploadId: uploadId }))).catch(() => undefined);
    throw e;
  } finally {
    await fh?.close();
  }
}
