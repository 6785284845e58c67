// The ingest function as the stack deploys it: the same esbuild bundle and assets, run in a fresh Node
// process against local stand-ins reached the way AWS is reached — S3 (Ceph radosgw), Glue (the in-process
// Glue endpoint) and ClickHouse over HTTP (chDB behind the HTTP interface).
import assert from 'node:assert/strict';
import { execFile, execSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { build } from 'esbuild';
import { assetCommands, ESBUILD_OPTIONS, PROJECT_ROOT } from '../../infra/functions.js';
import { startClickHouseHttp } from '../clickhouse-http.js';
import { startFakeGlue } from '../glue-endpoint.js';
import { mskEvent, pageView } from '../helpers.js';
import { startRadosgw, type Radosgw } from '../s3/radosgw.js';

const run = promisify(execFile);
const started = await startRadosgw();
const skip = 'unavailable' in started ? started.unavailable : false;
if (skip) console.log(`# SKIP bundled-function test: ${skip}`);
const rgw = started as Radosgw;
const glue = await startFakeGlue();
const clickhouse = await startClickHouseHttp();
after(async () => {
  await glue.close();
  await clickhouse.close();
  if (!skip) await rgw.stop();
});

describe('the bundled ingest function', () => {
  it('runs its handler on an MSK event and lands the batch in S3, Glue and ClickHouse', { skip }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-bundle-'));
    await build({
      entryPoints: [join(PROJECT_ROOT, 'functions/ingest/handler.ts')],
      outfile: join(dir, 'index.mjs'),
      bundle: true, minify: true, sourcemap: true, sourcesContent: ESBUILD_OPTIONS.sourcesContent, logLevel: 'error',
      format: ESBUILD_OPTIONS.format, platform: ESBUILD_OPTIONS.platform, target: 'node20', mainFields: ESBUILD_OPTIONS.mainFields,
      banner: { js: ESBUILD_OPTIONS.banner },
    });
    for (const command of assetCommands(dir)) execSync(command);
    const bucket = 'tributary-bundle-test';
    await rgw.createBucket(bucket);

    const now = Date.now();
    const event = mskEvent([
      pageView('b1', {}, new Date(now - 60_000).toISOString()),
      pageView('b2', { referrer: 'mail' }, new Date(now - 30_000).toISOString()),
      '{"event": "page_view", broken',
    ], { topic: 'tracking', partition: 3, firstOffset: 42 });
    const script = `const { handler } = await import(${JSON.stringify(pathToFileURL(join(dir, 'index.mjs')).href)});
      console.log(JSON.stringify(await handler(${JSON.stringify(event)})));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      cwd: dir,
      env: {
        PATH: process.env['PATH'] ?? '',
        LAMBDA_TASK_ROOT: dir,
        AWS_REGION: rgw.region,
        AWS_ACCESS_KEY_ID: rgw.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: rgw.credentials.secretAccessKey,
        AWS_ENDPOINT_URL_S3: rgw.endpoint,
        AWS_ENDPOINT_URL_GLUE: glue.endpoint,
        TRIBUTARY_BUCKET: bucket,
        TRIBUTARY_GLUE_DATABASE: 'tributary_test',
        CLICKHOUSE_URL: clickhouse.url,
        CLICKHOUSE_PASSWORD: '',
        TRIBUTARY_PII_SALT: 'bundle-test-salt',
        TRIBUTARY_SCHEMAS_DIR: 'schemas/events',
        POWERTOOLS_METRICS_NAMESPACE: 'Tributary',
      },
    });
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as { stored: number; quarantined: number };
    assert.deepEqual(result, { stored: 2, quarantined: 1 });

    const keys = (await rgw.client({ forcePathStyle: true }).send(new ListObjectsV2Command({ Bucket: bucket }))).Contents?.map((o) => o.Key) ?? [];
    assert.ok(keys.some((k) => /^lake\/page_view\/dt=.*\/tracking\+3\+42-43\.parquet$/.test(k!)), keys.join(', '));
    assert.ok(keys.some((k) => k!.startsWith('lake/_quarantine/')));
    assert.ok(keys.includes('_registry/events/page_view/v00000001.json'));
    assert.ok(glue.tables.has('page_view'));
    assert.equal(glue.partitions.get('page_view')?.length, 1);
    const rows = (await clickhouse.session.queryAsync('SELECT event_id, referrer FROM tributary.page_view ORDER BY event_id', { format: 'JSONEachRow' })).text().trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(rows, [{ event_id: 'b1', referrer: null }, { event_id: 'b2', referrer: 'mail' }]);
    assert.ok(clickhouse.statements.some((s) => /INSERT INTO .*page_view.* SELECT \* FROM file\('.*', 'Parquet'\)/.test(s)), 'the batch went over HTTP as a Parquet body');
  });
});
