// Object store on Amazon S3 (or any S3 API: Ceph radosgw in the integration tests).
import {
  DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand,
  type PutObjectCommandInput, type S3Client, type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { inKeyRange, type KeyRange, type ObjectStore } from '../../core/ports.js';

/**
 * Client settings for the lake: the SDK retries 5xx and throttling (`SlowDown`) with exponential backoff and
 * jitter; adaptive mode also slows the client down while S3 throttles a prefix, and a few more attempts
 * than the default three ride out a burst of 503s instead of failing the whole Kafka batch.
 */
export const S3_CLIENT_CONFIG: S3ClientConfig = { retryMode: 'adaptive', maxAttempts: 6 };

export interface S3StoreOptions {
  readonly bucket: string;
  /** KMS key for SSE-KMS; without it the bucket's default encryption applies */
  readonly kmsKeyId?: string;
  /** bodies above this size go up as a multipart upload (default 16 MiB) */
  readonly multipartThreshold?: number;
  /** part size of multipart uploads (default 8 MiB, S3's minimum is 5 MiB) */
  readonly partSize?: number;
}

/** DeleteObjects takes at most 1,000 keys per call. */
const DELETE_BATCH = 1000;

export class S3Store implements ObjectStore {
  constructor(private readonly client: S3Client, private readonly options: S3StoreOptions) {}

  private encryption(): Pick<PutObjectCommandInput, 'ServerSideEncryption' | 'SSEKMSKeyId'> {
    return this.options.kmsKeyId ? { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: this.options.kmsKeyId } : {};
  }

  async put(key: string, body: Uint8Array, options: { contentType: string }): Promise<void> {
    const input: PutObjectCommandInput = {
      Bucket: this.options.bucket, Key: key, Body: body, ContentType: options.contentType, ...this.encryption(),
    };
    if (body.byteLength > (this.options.multipartThreshold ?? 16 * 1024 * 1024)) {
      // lib-storage uploads parts in parallel and aborts the upload on failure, so no orphaned parts stay behind.
      await new Upload({ client: this.client, params: { ...input, ChecksumAlgorithm: 'CRC32' }, partSize: this.options.partSize ?? 8 * 1024 * 1024, queueSize: 4, leavePartsOnError: false }).done();
      return;
    }
    await this.client.send(new PutObjectCommand({ ...input, ChecksumAlgorithm: 'CRC32' }));
  }

  async putIfAbsent(key: string, body: Uint8Array, options: { contentType: string }): Promise<boolean> {
    try {
      await this.client.send(new PutObjectCommand({
        Bucket: this.options.bucket, Key: key, Body: body, ContentType: options.contentType,
        ChecksumAlgorithm: 'CRC32', IfNoneMatch: '*', ...this.encryption(),
      }));
      return true;
    } catch (err) {
      // 412: the key exists; 409: a concurrent conditional write to the same key is in flight (S3 says retry,
      // and the retry would find the key taken, so both mean "someone else got there first").
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 412 || status === 409) return false;
      throw err;
    }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: key }));
      return out.Body ? await out.Body.transformToByteArray() : new Uint8Array();
    } catch (err) {
      if (err instanceof NoSuchKey || (err as { name?: string }).name === 'NoSuchKey') return undefined;
      throw err;
    }
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const chunk = keys.slice(i, i + DELETE_BATCH);
      const out = await this.client.send(new DeleteObjectsCommand({
        Bucket: this.options.bucket,
        Delete: { Objects: chunk.map((Key) => ({ Key })), Quiet: true },
      }));
      // A missing key is not an error for DeleteObjects; anything reported here is (access, throttling).
      if (out.Errors && out.Errors.length > 0) {
        throw new Error(`S3 DeleteObjects failed for ${out.Errors.length} keys: ${out.Errors.slice(0, 3).map((e) => `${e.Key}: ${e.Code}`).join('; ')}`);
      }
    }
  }

  async list(prefix: string, range?: KeyRange): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({
        Bucket: this.options.bucket, Prefix: prefix, ContinuationToken: token, ...(token === undefined && range?.startAfter !== undefined ? { StartAfter: range.startAfter } : {}),
      }));
      let past = false;
      for (const o of page.Contents ?? []) {
        if (!o.Key) continue;
        if (range?.before !== undefined && o.Key >= range.before) past = true;
        else if (inKeyRange(o.Key, range)) keys.push(o.Key);
      }
      // S3 lists in key order: once a page reaches `before`, the later pages hold nothing in the range.
      token = page.IsTruncated && !past ? page.NextContinuationToken : undefined;
    } while (token);
    return keys.sort();
  }

  uri(key: string): string {
    return `s3://${this.options.bucket}/${key}`;
  }
}
