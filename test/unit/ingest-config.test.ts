import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lakeSource } from '../../functions/adapters/aws-services.js';
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

  it('reads the role ClickHouse Cloud assumes for the lake, and names it in every _all view', async () => {
    const base = { TRIBUTARY_BUCKET: 'b', TRIBUTARY_GLUE_DATABASE: 'g', CLICKHOUSE_URL: 'https://ch.example:8443', TRIBUTARY_PII_SALT: 's' };
    const role = 'arn:aws:iam::123456789012:role/tributary-prod-ClickHouseLakeReader-AbC';
    const c = readIngestEnvironment({ ...base, CLICKHOUSE_LAKE_URL: 'https://lake.s3.eu-west-1.amazonaws.com/lake', CLICKHOUSE_LAKE_ROLE_ARN: role });
    assert.equal(c.clickhouse.lakeRoleArn, role);
    assert.throws(() => readIngestEnvironment({ ...base, CLICKHOUSE_LAKE_URL: 'https://l/lake', CLICKHOUSE_LAKE_ROLE_ARN: 'my-role' }), /CLICKHOUSE_LAKE_ROLE_ARN is not an IAM role ARN/);
    assert.throws(() => readIngestEnvironment({ ...base, CLICKHOUSE_LAKE_ROLE_ARN: role }), /CLICKHOUSE_LAKE_ROLE_ARN is set without CLICKHOUSE_LAKE_URL/);
    const source = lakeSource('https://lake.s3.eu-west-1.amazonaws.com/lake', 'page_view', 'event_id String', role);
    assert.equal(source, `s3('https://lake.s3.eu-west-1.amazonaws.com/lake/page_view/**/*.parquet', 'Parquet', 'event_id String', extra_credentials(role_arn = '${role}'))`);
    assert.doesNotMatch(lakeSource('https://l/lake', 'page_view', 'event_id String'), /extra_credentials/);
    // ClickHouse parses it as the s3() function's fourth argument.
    const { query } = await import('chdb');
    assert.match(query(`EXPLAIN AST SELECT * FROM ${source}`, 'TSV'), /Function s3 \(children 1\)\n\s+ExpressionList \(children 4\)[\s\S]*Function extra_credentials/);
  });

  it('reads TRIBUTARY_SINKS: each path of split needs only its own sink\'s settings and refuses the other\'s', () => {
    const common = { TRIBUTARY_BUCKET: 'b', TRIBUTARY_PII_SALT: 's' };
    assert.deepEqual(readIngestEnvironment({ ...common, TRIBUTARY_GLUE_DATABASE: 'g', CLICKHOUSE_URL: 'https://ch:8443' }).sinks, { lake: true, warehouse: true });
    const lake = readIngestEnvironment({ ...common, TRIBUTARY_SINKS: 'lake', TRIBUTARY_GLUE_DATABASE: 'g' });
    assert.deepEqual([lake.sinks, lake.glueDatabase], [{ lake: true, warehouse: false }, 'g']);
    const fresh = readIngestEnvironment({ ...common, TRIBUTARY_SINKS: 'clickhouse', CLICKHOUSE_URL: 'https://ch:8443' });
    assert.deepEqual([fresh.sinks, fresh.clickhouse.url], [{ lake: false, warehouse: true }, 'https://ch:8443']);
    assert.throws(() => readIngestEnvironment({ ...common, TRIBUTARY_SINKS: 'lake' }), /missing environment variables: TRIBUTARY_GLUE_DATABASE$/);
    assert.throws(() => readIngestEnvironment({ ...common, TRIBUTARY_SINKS: 'clickhouse' }), /missing environment variables: CLICKHOUSE_URL$/);
    assert.throws(() => readIngestEnvironment({ ...common, TRIBUTARY_SINKS: 'lake', TRIBUTARY_GLUE_DATABASE: 'g', CLICKHOUSE_URL: 'https://ch:8443', CLICKHOUSE_USER: 'u' }),
      /CLICKHOUSE_URL, CLICKHOUSE_USER are set, but TRIBUTARY_SINKS=lake never reads them/);
    assert.throws(() => readIngestEnvironment({ ...common, TRIBUTARY_SINKS: 'clickhouse', CLICKHOUSE_URL: 'https://ch:8443', TRIBUTARY_GLUE_DATABASE: 'g' }),
      /TRIBUTARY_GLUE_DATABASE is set, but TRIBUTARY_SINKS=clickhouse never reads it/);
    assert.throws(() => readIngestEnvironment({ ...common, TRIBUTARY_SINKS: 'warehouse', TRIBUTARY_GLUE_DATABASE: 'g', CLICKHOUSE_URL: 'https://ch:8443' }), /TRIBUTARY_SINKS must be lake,clickhouse \(coupled\), lake or clickhouse/);
  });
});
