import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigurationError, readIngestEnvironment } from '../../functions/ingest/config.js';

describe('ingest function environment', () => {
  it('names every missing variable at cold start', () => {
    assert.throws(() => readIngestEnvironment({ TRIBUTARY_BUCKET: 'b' }), (err: Error) =>
      err instanceof ConfigurationError && /TRIBUTARY_GLUE_DATABASE, CLICKHOUSE_URL, TRIBUTARY_PII_SALT/.test(err.message));
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
  });
});
