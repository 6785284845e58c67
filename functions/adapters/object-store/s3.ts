// Object store on Amazon S3 (or any S3 API: Ceph radosgw in the integration tests).
import { GetObjectCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ObjectStore } from '../../core/ports.js';

export interface S3StoreOptions {
  readonly bucket: string;
  /** KMS key for SSE-KMS; without it the bucket's default encryption applies */
  readonly kmsKeyId?: string;
}

export class S3Store implements ObjectStore {
  constructor(private readonly client: S3Client, private readonly options: S3StoreOptions) {}

  async put(key: string, body: Uint8Array, options: { contentType: string }): Promise<void> {
    await this.client.send(new PutObjectCommand({
      Bucket: this.options.bucket,
      Key: key,
      Body: body,
      ContentType: options.contentType,
      ChecksumAlgorithm: 'CRC32',
      ...(this.options.kmsKeyId ? { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: this.options.kmsKeyId } : {}),
    }));
  }

  async putIfAbsent(key: string, body: Uint8Array, options: { contentType: string }): Promise<boolean> {
    try {
      await this.client.send(new PutObjectCommand({
        Bucket: this.options.bucket,
        Key: key,
        Body: body,
        ContentType: options.contentType,
        ChecksumAlgorithm: 'CRC32',
        IfNoneMatch: '*',
        ...(this.options.kmsKeyId ? { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: this.options.kmsKeyId } : {}),
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

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.options.bucket, Prefix: prefix, ContinuationToken: token }));
      for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys.sort();
  }

  uri(key: string): string {
    return `s3://${this.options.bucket}/${key}`;
  }
}
