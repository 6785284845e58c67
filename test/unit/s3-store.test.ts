// S3Store's request shapes and error branches (aws-sdk-client-mock); behaviour against a real S3 API server
// is in test/integration/s3-radosgw.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DeleteObjectsCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { S3Store } from '../../functions/adapters/object-store/s3.js';

describe('S3Store requests', () => {
  let s3: ReturnType<typeof mockClient>;
  before(() => { s3 = mockClient(S3Client); });
  after(() => s3.restore());
  const store = (kmsKeyId?: string): S3Store => new S3Store(new S3Client({ region: 'eu-west-1' }), { bucket: 'lake', ...(kmsKeyId ? { kmsKeyId } : {}) });
  const failure = (status: number, name: string): S3ServiceException =>
    new S3ServiceException({ name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status }, message: name });

  it('encrypts with the configured KMS key, and leaves encryption to the bucket default otherwise', async () => {
    s3.reset();
    s3.on(PutObjectCommand).resolves({});
    await store('arn:aws:kms:eu-west-1:1:key/k').put('a', Buffer.from('x'), { contentType: 'application/vnd.apache.parquet' });
    await store().put('b', Buffer.from('x'), { contentType: 'application/json' });
    const [kms, plain] = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    assert.equal(kms!.ServerSideEncryption, 'aws:kms');
    assert.equal(kms!.SSEKMSKeyId, 'arn:aws:kms:eu-west-1:1:key/k');
    assert.equal(kms!.ChecksumAlgorithm, 'CRC32');
    assert.equal(kms!.ContentType, 'application/vnd.apache.parquet');
    assert.equal(plain!.ServerSideEncryption, undefined);
  });

  it('treats 412 and 409 on a conditional put as "taken" and anything else as an error', async () => {
    s3.reset();
    s3.on(PutObjectCommand).rejectsOnce(failure(412, 'PreconditionFailed')).rejectsOnce(failure(409, 'ConditionalRequestConflict')).rejectsOnce(failure(403, 'AccessDenied'));
    assert.equal(await store().putIfAbsent('k', Buffer.from('x'), { contentType: 'application/json' }), false);
    assert.equal(await store().putIfAbsent('k', Buffer.from('x'), { contentType: 'application/json' }), false);
    await assert.rejects(store().putIfAbsent('k', Buffer.from('x'), { contentType: 'application/json' }), /AccessDenied/);
    assert.equal(s3.commandCalls(PutObjectCommand)[0]!.args[0].input.IfNoneMatch, '*');
  });

  it('deletes in calls of at most 1,000 keys and surfaces per-key errors', async () => {
    s3.reset();
    s3.on(DeleteObjectsCommand).resolvesOnce({}).resolvesOnce({}).resolves({ Errors: [{ Key: 'k1', Code: 'AccessDenied' }] });
    await store().delete(Array.from({ length: 1_500 }, (_, i) => `k${i}`));
    assert.deepEqual(s3.commandCalls(DeleteObjectsCommand).map((c) => c.args[0].input.Delete!.Objects!.length), [1000, 500]);
    await assert.rejects(store().delete(['k1']), /DeleteObjects failed for 1 keys: k1: AccessDenied/);
  });
});
