import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigurationError, readIngestEnvironment } from '../../functions/adapters/environment.js';

describe('ingest function environment', () => {
  it('names every missing variable at cold start', () => {
    assert.throws(() => readIngestEnvironment({ TRIBUTARY_BUCKET: 'b' }), (err: Error) =>
      err instanceof ConfigurationError && /TRIBUTARY_GLUE_DATABASE, CLICKHOUSE_URL, TRIBUTARY_PII_SALT \(or TRIBUTARY_PII_SALT_SECRET_ARN\)/.test(err.message));
  });

  it('reads a complete environment with defaults', () => {
    const c = readIngestEnvironment({
      TRIBUTARY_BUCKET: 'lake-bucket', TRIBUTARY_GLUE_DATABASE: 'tributary_dev', CLICKHOUSE_URL: 'https://ch.example:8443',
      CLICKHOUSE_PASSWORD: 'secret', TRIBUTARY_PII_SALT: 'salt', LAMBDA_TASK_ROOT: '/var/task',
    });
    assert.equal(c.clickhouse.username, 'default');
    assert.equal(c.clickhouse.database, 'tributary');
    assert.equal(c.schemasDir, '/var/task/schemas/events');
    assert.equal(c.kmsKeyId, undefined);
    assert.deepEqual(c.clickhouse.password, { value: 'secret' });
    assert.equal(c.clickhouse.ttlDays, 90);
  });

  it('takes secrets from Secrets Manager ARNs and refuses what is not one', () => {
    const base = { TRIBUTARY_BUCKET: 'b', TRIBUTARY_GLUE_DATABASE: 'g', CLICKHOUSE_URL: 'https://ch.example:8443' };
    const c = readIngestEnvironment({
      ...base, CLICKHOUSE_PASSWORD: 'ignored', CLICKHOUSE_PASSWORD_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:1:secret:ch-AbC',
      TRIBUTARY_PII_SALT_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:1:secret:salt-XyZ', CLICKHOUSE_LAKE_URL: 'https://lake.s3.eu-west-1.amazonaws.com/lake',
    });
    assert.deepEqual(c.clickhouse.password, { secretArn: 'arn:aws:secretsmanager:eu-west-1:1:secret:ch-AbC' });
    assert.deepEqual(c.piiSalt, { secretArn: 'arn:aws:secretsmanager:eu-west-1:1:secret:salt-XyZ' });
    assert.equal(c.clickhouse.lakeUrl, 'https://lake.s3.eu-west-1.amazonaws.com/lake');
    assert.throws(() => readIngestEnvironment({ ...base, TRIBUTARY_PII_SALT_SECRET_ARN: 'my-salt' }), /not a Secrets Manager ARN/);
    assert.throws(() => readIngestEnvironment({ ...base, CLICKHOUSE_URL: 'ch.example:9000', TRIBUTARY_PII_SALT: 's' }), /must start with http/);
  });
});
