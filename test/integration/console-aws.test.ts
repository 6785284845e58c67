// The console against an AWS deployment (`tributary serve` with TRIBUTARY_BUCKET set), through its JSON API:
// serve as a process, its S3 a real S3 API server (Ceph radosgw, AWS_ENDPOINT_URL_S3), its Glue the Glue protocol
// endpoint of test/glue-endpoint.ts, its ClickHouse the HTTP interface over chDB, its CloudWatch a small endpoint
// of the CloudWatch JSON protocol below. The deployment was written by the real ingest handler on those services.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
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

const NOW = '2026-11-21T10:00:00Z';
const now = Date.parse(NOW);
const BUCKET = 'tributary-console-aws';
const CH_PASSWORD = 'ch-pw-7f3a9c'; // must appear in no output and no answer
const FUNCTION = 'tributary-dev-ingest';

/** CloudWatch's JSON protocol (awsJson1_0), enough for ListMetrics and GetMetricData: one ingest function's OffsetLag. */
async function startCloudWatch(): Promise<{ endpoint: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const op = String(req.headers['x-amz-target'] ?? '').split('.').pop();
      const input = JSON.parse(body || '{}') as { Namespace?: string; MetricDataQueries?: Array<{ Id: string }> };
      const out = op === 'ListMetrics'
        ? { Metrics: input.Namespace === 'AWS/Lambda' ? [{ Namespace: 'AWS/Lambda', MetricName: 'OffsetLag', Dimensions: [{ Name: 'FunctionName', Value: FUNCTION }] }] : [] }
        : op === 'GetMetricData' ? { MetricDataResults: (input.MetricDataQueries ?? []).map((q) => ({ Id: q.Id, StatusCode: 'Complete', Values: [70_000], Timestamps: [now / 1000 - 60] })) }
          : undefined;
      res.writeHead(out ? 200 : 400, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify(out ?? { __type: 'InvalidAction', message: `no ${op}` }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** A pass-through in front of the ClickHouse HTTP interface that records each request's headers and body. */
async function startRecordingProxy(target: string): Promise<{ url: string; requests: Array<{ headers: Record<string, string | string[] | undefined>; body: string }>; close(): Promise<void> }> {
  const requests: Array<{ headers: Record<string, string | string[] | undefined>; body: string }> = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      requests.push({ headers: req.headers, body: body.toString('utf8') });
      const forward = request(`${target}${req.url ?? '/'}`, { method: req.method, headers: { ...req.headers, host: new URL(target).host } }, (answer) => {
        res.writeHead(answer.statusCode ?? 500, answer.headers);
        answer.pipe(res);
      });
      forward.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

const started = await startRadosgw();

describe('the console against AWS (radosgw S3, Glue endpoint, ClickHouse over HTTP, CloudWatch endpoint)', { timeout: 180_000 }, () => {
  let rgw: Radosgw;
  let glue: FakeGlue;
  let ch: ClickHouseHttp;
  let cw: Awaited<ReturnType<typeof startCloudWatch>>;
  let proxy: Awaited<ReturnType<typeof startRecordingProxy>>;
  let client: ClickHouseClient;
  let env: NodeJS.ProcessEnv;
  let url = '';
  let output = '';
  const home = mkdtempSync(join(tmpdir(), 'tributary-console-aws-'));
  const children: ChildProcess[] = [];

  /** `tributary serve --port 0` as a process, once it has said what the console reads. */
  const startAwsServe = async (environment: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; url: string; output: () => string }> => {
    const child = spawn(process.execPath, [join(PACKAGE_ROOT, 'bin/tributary.mjs'), 'serve', '--port', '0'], { env: environment, cwd: PACKAGE_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let text = '';
    child.stderr!.on('data', (c: Buffer) => { text += c.toString(); });
    const address = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve did not start within 60 s: ${text}`)), 60_000);
      child.stdout!.on('data', (c: Buffer) => {
        text += c.toString();
        const m = /on (http:\/\/127\.0\.0\.1:\d+)[\s\S]*The console reads .*\n/.exec(text);
        if (m) { clearTimeout(timer); resolve(m[1]!); }
      });
      child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`serve exited with ${code}: ${text}`)); });
    });
    return { child, url: address, output: () => text };
  };

  const get = async <T>(path: string): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${url}${path}`);
    const text = await res.text();
    assert.ok(!text.includes(CH_PASSWORD), `${path} answers the ClickHouse password`);
    return { status: res.status, body: JSON.parse(text) as T };
  };
  const post = async <T>(path: string, value: unknown): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${url}${path}`, { method: 'POST', body: JSON.stringify(value), headers: { 'x-tributary-console': '1', 'content-type': 'application/json' } });
    const text = await res.text();
    assert.ok(!text.includes(CH_PASSWORD), `${path} answers the ClickHouse password`);
    return { status: res.status, body: JSON.parse(text) as T };
  };
  const count = async (table: string): Promise<number> =>
    Number((await (await client.query({ query: `SELECT count() AS n FROM tributary.${table}`, format: 'JSONEachRow' })).json<{ n: string }>())[0]!.n);

  before(async () => {
    // No skip: without radosgw this test fails, saying why.
    if ('unavailable' in started) throw new Error(started.unavailable);
    rgw = started;
    await rgw.createBucket(BUCKET);
    [glue, ch, cw] = await Promise.all([startFakeGlue(), startClickHouseHttp(), startCloudWatch()]);
    proxy = await startRecordingProxy(ch.url);
    client = createClient({ url: ch.url, log: { level: 127 as never } });
    // The ingest function's ports on the same services: page views and trial starts stored, one trial start
    // quarantined for a type conflict (seats: "many" where the table has an integer).
    const store = new S3Store(rgw.client(S3_CLIENT_CONFIG as Record<string, unknown>), { bucket: BUCKET });
    const deps = {
      store, catalog: new GlueCatalog(glue.client, 'tributary'), warehouse: new ClickHouseWarehouse(client, { database: 'tributary' }),
      registry: new SchemaRegistry(store, { clock: () => now }), clock: () => now, config: { piiSalt: 'salt' },
    };
    const report = await ingestBatch(mskEvent([
      ...['a', 'b', 'c'].map((id, i) => ({ event: 'page_view', event_id: id, ts: `2026-11-21T09:5${i}:00Z`, properties: { path: `/${id}` } })),
      { event: 'trial_started', event_id: 't0', ts: '2026-11-21T09:40:00Z', properties: { plan: 'pro', seats: 2 } },
      { event: 'trial_started', event_id: 't1', ts: '2026-11-21T09:41:00Z', properties: { plan: 'pro', seats: 'many' } },
      // two days old: in ClickHouse and the lake, outside the Tables page's last 24 hours
      { event: 'page_view', event_id: 'old', ts: '2026-11-19T08:00:00Z', properties: { path: '/old' } },
    ], { topic: 'tracking', timestamp: now - 5 * 60_000 }), deps);
    assert.equal(report.quarantined, 1);

    env = {
      ...process.env, TRIBUTARY_NOW: NOW, TRIBUTARY_HOME: home, TRIBUTARY_SCHEMAS: mkdtempSync(join(tmpdir(), 'tributary-console-aws-schemas-')),
      TRIBUTARY_BUCKET: BUCKET, TRIBUTARY_GLUE_DATABASE: 'tributary', TRIBUTARY_PII_SALT: 'salt',
      CLICKHOUSE_URL: proxy.url, CLICKHOUSE_DATABASE: 'tributary', CLICKHOUSE_PASSWORD: CH_PASSWORD,
      AWS_ENDPOINT_URL_S3: rgw.endpoint, AWS_ENDPOINT_URL_GLUE: glue.endpoint, AWS_ENDPOINT_URL_CLOUDWATCH: cw.endpoint, AWS_REGION: rgw.region,
      AWS_ACCESS_KEY_ID: rgw.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: rgw.credentials.secretAccessKey,
    };
    const first = await startAwsServe(env);
    url = first.url;
    output = first.output();
  });

  after(async () => {
    for (const child of children.filter((c) => c.exitCode === null)) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      await exited;
    }
    await client?.close();
    await Promise.all([proxy?.close(), ch?.close(), glue?.close(), cw?.close()]);
    await rgw?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it('says at start what the console reads, without the ClickHouse password', () => {
    assert.match(output, new RegExp(`The console reads the AWS deployment: S3 bucket ${BUCKET} \\(registry, lake\\), Glue database tributary, ClickHouse ${proxy.url.replace(/[.]/g, '\\.')} \\(user default, database tributary\\), CloudWatch OffsetLag \\(MSK cluster tributary-dev\\)`));
    assert.match(output, /ClickHouse HTTP interface on http:\/\/127\.0\.0\.1:\d+ .*the local store .*, not the deployment/);
    assert.ok(!output.includes(CH_PASSWORD), output);
  });

  it('overview: every table of the deployment with its verdict, and the ingest function\'s OffsetLag from CloudWatch', async () => {
    const { status, body } = await get<{ mode: string; report: { overall: { health: string; reason: string }; tables: Array<{ table: string; health: string; stored: { lastHour: number }; quarantined: { lastHour: number } }>; functions: Array<{ functionName: string; health: string; lag: number }> }; throughput: Array<{ table: string; rows: number }> }>('/api/overview');
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.mode, 'aws');
    assert.deepEqual(body.report.tables.map((t) => [t.table, t.health, t.stored.lastHour, t.quarantined.lastHour]), [
      ['page_view', 'ok', 4, 0],
      ['trial_started', 'critical', 1, 1], // 1 of 2 records quarantined: above dev's 10 %
    ]);
    assert.deepEqual(body.report.functions.map((f) => [f.functionName, f.health, f.lag]), [[FUNCTION, 'warn', 70_000]]); // dev's alarms.offsetLag is 100,000
    assert.equal(body.report.overall.health, 'critical');
    assert.deepEqual(body.throughput.map((t) => [t.table, t.rows]).sort(), [['page_view', 4], ['trial_started', 1]]);
  });

  it('tables: the registry in S3, and an hour\'s rows in ClickHouse and in the lake (from the files\' footers in S3)', async () => {
    const list = await get<{ tables: Array<{ table: string; status: string; version: number; inferred: number }> }>('/api/tables');
    assert.equal(list.status, 200, JSON.stringify(list.body));
    const pv = list.body.tables.find((t) => t.table === 'page_view');
    assert.deepEqual(pv && [pv.status, pv.version, pv.inferred], ['inferred', 1, 1]);
    const one = await get<{ entry: { fields: Array<{ name: string; type: string }> }; hours: Array<{ hour: string; clickhouse: number; lake: number }>; sample: { rows: unknown[][] } }>('/api/table?table=page_view');
    assert.equal(one.status, 200, JSON.stringify(one.body));
    assert.ok(one.body.entry.fields.some((f) => f.name === 'path'));
    assert.deepEqual(one.body.hours, [{ hour: '2026-11-21T09', clickhouse: 3, lake: 3 }]); // not 2026-11-19T08: a day back only
    assert.equal(one.body.sample.rows.length, 4);
  });

  it('SQL: a read returns the deployment\'s rows; a write is refused; sample data runs in the local chDB, not the deployment', async () => {
    const read = await post<{ columns: Array<{ name: string }>; rows: unknown[][] }>('/api/sql', { sql: 'SELECT event_id, path FROM tributary.page_view ORDER BY event_id' });
    assert.equal(read.status, 200, JSON.stringify(read.body));
    assert.deepEqual(read.body.rows, [['a', '/a'], ['b', '/b'], ['c', '/c'], ['old', '/old']]);
    // It went with the operator's login (CLICKHOUSE_USER/PASSWORD) and named the database for unqualified names.
    const sent = proxy.requests.find((r) => r.body.includes('SELECT event_id, path FROM tributary.page_view ORDER BY event_id') && !r.body.includes('formatQuery'));
    assert.ok(sent, 'the query reached the deployment\'s ClickHouse');
    assert.equal(sent.headers['x-clickhouse-database'], 'tributary');
    assert.equal(Buffer.from(String(sent.headers['authorization']).replace(/^Basic /, ''), 'base64').toString(), `default:${CH_PASSWORD}`);
    const write = await post<{ error: string }>('/api/sql', { sql: 'DROP TABLE tributary.page_view' });
    assert.equal(write.status, 400);
    assert.match(write.body.error, /reads only/);
    assert.equal(await count('page_view'), 4);
    // An error that echoes a secret (here the query's own text) reaches the page with it masked.
    const echoed = await post<{ error: string }>('/api/sql', { sql: `SELECT '${CH_PASSWORD}' FROM tributary.no_such_table` });
    assert.equal(echoed.status, 400);
    assert.match(echoed.body.error, /\*\*\*.*no_such_table|no_such_table.*\*\*\*/s);

    const seen = ch.statements.length;
    const sample = await post<{ result: { rows: unknown[][] } }>('/api/sql/sample', { sql: 'SELECT count() FROM signup', events: '{"event":"signup","ts":"2026-11-21T09:00:00Z","properties":{"plan":"pro"}}' });
    assert.equal(sample.status, 200, JSON.stringify(sample.body));
    assert.deepEqual(sample.body.result.rows, [[1]]);
    assert.deepEqual(ch.statements.slice(seen).filter((s) => /scratch|signup/i.test(s)), [], 'the sample never reaches the deployment\'s ClickHouse');
  });

  it('quarantine: lists the record, shows it, and a replay with a fix lands it in ClickHouse and S3', async () => {
    const list = await get<{ counts: Array<{ reason: string; event: string; records: number }>; records: Array<{ id: string; reason: string; status: string }> }>('/api/quarantine');
    assert.equal(list.status, 200, JSON.stringify(list.body));
    assert.deepEqual(list.body.records.map((r) => [r.id, r.reason, r.status]), [['tracking:0:4', 'type_conflict', 'open']]);
    const shown = await get<{ reason: string; lineage: { quarantine_files: string[] } }>('/api/quarantine/record?id=tracking:0:4');
    assert.equal(shown.body.reason, 'type_conflict');
    assert.equal(shown.body.lineage.quarantine_files.length, 1);

    const started = await post<{ job: string; total: number }>('/api/quarantine/replay', { ids: ['tracking:0:4'], rename: ['seats=seats_text'] });
    assert.equal(started.status, 200, JSON.stringify(started.body));
    let job: { finished: boolean; landed: number; failed: number; error: string | null } = { finished: false, landed: 0, failed: 0, error: null };
    for (let i = 0; i < 300 && !job.finished; i++) {
      await new Promise((r) => setTimeout(r, 100));
      job = (await get<typeof job>(`/api/quarantine/replay-progress?job=${started.body.job}`)).body;
    }
    assert.deepEqual([job.finished, job.landed, job.failed, job.error], [true, 1, 0, null]);
    assert.equal(await count('trial_started'), 2);
    const lake = await get<{ hours: Array<{ hour: string; clickhouse: number; lake: number }> }>('/api/table?table=trial_started');
    assert.deepEqual(lake.body.hours, [{ hour: '2026-11-21T09', clickhouse: 2, lake: 2 }]);
    const open = await get<{ records: unknown[] }>('/api/quarantine');
    assert.deepEqual(open.body.records, []);
  });

  it('lineage and jobs read the deployment\'s ingest log and tables', async () => {
    const lineage = await get<{ rows: Array<{ topic: string; first_offset: number; last_offset: number; rows: number }> }>('/api/lineage?table=page_view&hour=2026-11-21T09');
    assert.equal(lineage.status, 200, JSON.stringify(lineage.body));
    assert.deepEqual(lineage.body.rows.map((r) => [r.topic, r.first_offset, r.last_offset, r.rows]), [['tracking', 0, 2, 3]]);
    const jobs = await get<{ jobs: unknown[]; experiments: string[] }>('/api/jobs');
    assert.equal(jobs.status, 200, JSON.stringify(jobs.body));
    assert.deepEqual(jobs.body, { jobs: [], experiments: [], runs: [] });
  });

  it('replay without the ingest function\'s PII salt is refused with the variable it needs, nothing replayed', async () => {
    const other = mkdtempSync(join(tmpdir(), 'tributary-console-aws-nosalt-'));
    const { TRIBUTARY_PII_SALT: _salt, ...unsalted } = env;
    const s = await startAwsServe({ ...unsalted, TRIBUTARY_HOME: other });
    try {
      const res = await fetch(`${s.url}/api/quarantine/replay`, { method: 'POST', body: JSON.stringify({ ids: ['tracking:0:4'] }), headers: { 'x-tributary-console': '1' } });
      const body = (await res.json()) as { error: string };
      assert.equal(res.status, 400);
      assert.match(body.error, /^replay cannot run: .*TRIBUTARY_PII_SALT \(or TRIBUTARY_PII_SALT_SECRET_ARN\)/);
      assert.equal(await count('trial_started'), 2);
    } finally {
      s.child.kill('SIGTERM');
      await new Promise<void>((r) => (s.child.exitCode !== null ? r() : s.child.once('exit', () => r())));
      rmSync(other, { recursive: true, force: true });
    }
  });
});
