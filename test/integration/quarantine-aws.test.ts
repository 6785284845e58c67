// `tributary quarantine list | show | replay` against AWS (TRIBUTARY_BUCKET set), as an operator runs it: the
// command as a process, its S3 a real S3 API server (Ceph radosgw, reached through AWS_ENDPOINT_URL_S3), its
// Glue the Glue protocol endpoint of test/glue-endpoint.ts (AWS_ENDPOINT_URL_GLUE), its ClickHouse the HTTP
// interface over chDB. The records were quarantined by the real ingest handler on those same services.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { GlueCatalog } from '../../functions/adapters/catalog/glue.js';
import { S3_CLIENT_CONFIG, S3Store } from '../../functions/adapters/object-store/s3.js';
import { ClickHouseWarehouse } from '../../functions/adapters/warehouse/clickhouse.js';
import { PACKAGE_ROOT } from '../../functions/cli/local-runtime.js';
import { ingestBatch } from '../../functions/core/ingest.js';
import { SchemaRegistry } from '../../functions/core/schema/registry.js';
import { startClickHouseHttp, type ClickHouseHttp } from '../clickhouse-http.js';
import { startFakeGlue, type FakeGlue } from '../glue-endpoint.js';
import { mskEvent } from '../helpers.js';
import { startRadosgw, type Radosgw } from '../s3/radosgw.js';

const run = promisify(execFile);
const NOW = '2026-11-21T00:10:00Z';
const BUCKET = 'tributary-quarantine-aws';
const started = await startRadosgw();
const skip = 'unavailable' in started ? started.unavailable : false;
if (skip) console.log(`# SKIP quarantine against AWS: ${skip}`);

interface Result { stdout: string; stderr: string; code: number }

describe('tributary quarantine against AWS (radosgw S3, Glue endpoint, ClickHouse over HTTP)', { skip }, () => {
  const rgw = started as Radosgw;
  let glue: FakeGlue;
  let ch: ClickHouseHttp;
  let client: ClickHouseClient;
  let env: NodeJS.ProcessEnv;

  const cli = async (...args: string[]): Promise<Result> => {
    try {
      const { stdout, stderr } = await run(process.execPath, [join(PACKAGE_ROOT, 'bin/tributary.mjs'), ...args], { env, cwd: PACKAGE_ROOT, maxBuffer: 16 << 20 });
      return { stdout, stderr, code: 0 };
    } catch (e) {
      const err = e as Result;
      return { stdout: err.stdout, stderr: err.stderr, code: err.code };
    }
  };
  const ok = async (...args: string[]): Promise<string> => {
    const r = await cli(...args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    return r.stdout;
  };
  const rows = async (): Promise<number> =>
    Number((await (await client.query({ query: 'SELECT count() AS n FROM tributary.trial_started', format: 'JSONEachRow' })).json<{ n: string }>())[0]!.n);
  const lakeKeys = async (table: string): Promise<string[]> =>
    ((await rgw.client().send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `lake/${table}/` }))).Contents ?? []).map((o) => o.Key!).filter((k) => k.endsWith('.parquet')).sort();

  before(async () => {
    await rgw.createBucket(BUCKET);
    glue = await startFakeGlue();
    ch = await startClickHouseHttp();
    client = createClient({ url: ch.url, log: { level: 127 as never } });
    // The ingest function's ports on the same services: one record stored, one quarantined for a type conflict.
    const store = new S3Store(rgw.client(S3_CLIENT_CONFIG as Record<string, unknown>), { bucket: BUCKET });
    const now = Date.parse(NOW);
    const deps = {
      store, catalog: new GlueCatalog(glue.client, 'tributary'), warehouse: new ClickHouseWarehouse(client, { database: 'tributary' }),
      registry: new SchemaRegistry(store, { clock: () => now }), clock: () => now, config: { piiSalt: 'salt' },
    };
    const report = await ingestBatch(mskEvent([
      { event: 'trial_started', event_id: 't0', ts: '2026-11-20T10:00:00Z', properties: { plan: 'pro', seats: 2 } },
      { event: 'trial_started', event_id: 't1', ts: '2026-11-20T10:01:00Z', properties: { plan: 'pro', seats: 'many' } },
    ], { topic: 'trial', timestamp: Date.parse('2026-11-20T10:30:00Z') }), deps);
    assert.equal(report.quarantined, 1);
    env = {
      ...process.env, TRIBUTARY_NOW: NOW, TRIBUTARY_HOME: mkdtempSync(join(tmpdir(), 'tributary-quarantine-aws-')),
      TRIBUTARY_SCHEMAS: mkdtempSync(join(tmpdir(), 'tributary-quarantine-aws-schemas-')),
      TRIBUTARY_BUCKET: BUCKET, TRIBUTARY_GLUE_DATABASE: 'tributary', TRIBUTARY_PII_SALT: 'salt',
      CLICKHOUSE_URL: ch.url, CLICKHOUSE_DATABASE: 'tributary',
      AWS_ENDPOINT_URL_S3: rgw.endpoint, AWS_ENDPOINT_URL_GLUE: glue.endpoint, AWS_REGION: rgw.region,
      AWS_ACCESS_KEY_ID: rgw.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: rgw.credentials.secretAccessKey,
    };
  });

  after(async () => {
    await client?.close();
    await ch?.close();
    await glue?.close();
    await rgw.stop();
  });

  it('lists and shows the record, its quarantine file in S3; a replay with a fix lands it once, in S3, Glue and ClickHouse', { timeout: 240_000 }, async () => {
    assert.match(await ok('quarantine', 'list'), /type_conflict\s+trial_started\s+1\s+2026-11-20T10:30:00\.000Z/);
    const show = await ok('quarantine', 'show', 'trial:0:1');
    assert.match(show, /^reason: +type_conflict$/m);
    const file = /^quarantine files: (\S+)$/m.exec(show)?.[1];
    assert.ok(file, show);
    await rgw.client().send(new HeadObjectCommand({ Bucket: BUCKET, Key: file })); // it is in the bucket
    assert.equal(await rows(), 1);
    const before = await lakeKeys('trial_started');

    const replay = await ok('quarantine', 'replay', '--rename', 'seats=seats_text');
    assert.match(replay, /Replayed 1 record in 1 batch .*: 1 stored and marked resolved, 0 quarantined again/);
    assert.equal(await rows(), 2);
    const after1 = await lakeKeys('trial_started');
    assert.equal(after1.length, before.length + 1, 'one new lake file in S3');
    assert.ok(JSON.stringify(glue.tables.get('trial_started') ?? [...glue.tables.values()]).includes('seats_text'), 'the new column is in Glue');
    assert.match(await ok('quarantine', 'list'), /^No open quarantined records\.$/m);

    // Replaying it again (named: resolved ones too) stores nothing more, in ClickHouse or in S3.
    assert.match(await ok('quarantine', 'replay', 'trial:0:1', '--rename', 'seats=seats_text'), /1 stored and marked resolved/);
    assert.equal(await rows(), 2);
    assert.deepEqual(await lakeKeys('trial_started'), after1);
  });
});
