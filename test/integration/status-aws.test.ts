// `tributary status` against AWS (TRIBUTARY_BUCKET set): tables from the deployed ClickHouse (here its HTTP
// interface over chDB, with rows a real ingest put there) and the Glue catalog, consumer lag from CloudWatch's
// OffsetLag (per ingest function, and MSK's per group, topic and partition). Glue and CloudWatch are mocked at
// the SDK boundary (aws-sdk-client-mock); the command runs in this process so the mocks apply.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CloudWatchClient, GetMetricDataCommand, ListMetricsCommand, type GetMetricDataCommandInput, type Metric } from '@aws-sdk/client-cloudwatch';
import { GetPartitionsCommand, GetTablesCommand, GlueClient } from '@aws-sdk/client-glue';
import { mockClient } from 'aws-sdk-client-mock';
import { LocalJsonCatalog } from '../../functions/adapters/catalog/local-json.js';
import { ClickHouseWarehouse } from '../../functions/adapters/warehouse/clickhouse.js';
import { statusCommand } from '../../functions/cli/commands/status.js';
import { ingestBatch } from '../../functions/core/ingest.js';
import { SchemaRegistry } from '../../functions/core/schema/registry.js';
import { clickHouseClients } from '../clickhouse-http.js';
import { memoryStore, mskEvent } from '../helpers.js';

const NOW = '2026-11-21T10:00:00Z';
const now = Date.parse(NOW);
const GROUP = 'tributary-dev-coupled-tracking';
const { client, server } = clickHouseClients();
const cw = mockClient(CloudWatchClient);
const glue = mockClient(GlueClient);

const kafkaMetric = (group: string, partition: number): Metric => ({
  Namespace: 'AWS/Kafka', MetricName: 'OffsetLag',
  Dimensions: [{ Name: 'Cluster Name', Value: 'tributary-dev' }, { Name: 'Consumer Group', Value: group }, { Name: 'Topic', Value: 'tracking' }, { Name: 'Partition', Value: String(partition) }],
});
const fnMetric = (...dims: Array<[string, string]>): Metric => ({ Namespace: 'AWS/Lambda', MetricName: 'OffsetLag', Dimensions: dims.map(([Name, Value]) => ({ Name, Value })) });
/** The latest value CloudWatch holds per series (by its dimensions). */
const LATEST = new Map<string, number[]>([
  [`${GROUP}/0`, [30, 900]], [`${GROUP}/1`, [70]], ['stuck-group/0', [250_000]],
  ['tributary-dev-ingest', [60_000]], ['other-function', [5]],
]);
const seriesKey = (m: Metric): string => {
  const d = new Map((m.Dimensions ?? []).map((x) => [x.Name!, x.Value!]));
  return d.has('FunctionName') ? d.get('FunctionName')! : `${d.get('Consumer Group')}/${d.get('Partition')}`;
};

interface Report {
  overall: { health: string; reason: string };
  tables: Array<{ table: string; health: string; freshnessSeconds: number | null; stored: { lastHour: number }; quarantined: { lastHour: number } }>;
  consumers: Array<{ group: string; health: string; lag: number; partitions: Array<{ topic: string; partition: number; lag: number; committed: null; high: null }> }>;
  functions: Array<{ functionName: string; health: string; lag: number }>;
}

async function status(args: string[]): Promise<{ code: number; report: Report; text: string }> {
  let text = '';
  const out = { write: (s: string) => { text += s; return true; } } as unknown as NodeJS.WriteStream;
  const code = await statusCommand(args, out);
  return { code, text, report: args.includes('--json') ? (JSON.parse(text) as Report) : (undefined as unknown as Report) };
}

describe('tributary status against AWS', () => {
  const saved = { ...process.env };

  before(async () => {
    // A real ingest into the ClickHouse the command then reads: 3 page views and a record quarantined.
    const warehouse = new ClickHouseWarehouse(client(), { database: 'tributary' });
    const store = memoryStore();
    const deps = {
      store, catalog: new LocalJsonCatalog(mkdtempSync(join(tmpdir(), 'tributary-status-aws-'))), warehouse,
      registry: new SchemaRegistry(store, { clock: () => now }), clock: () => now, config: { piiSalt: 'salt' },
    };
    const views = ['a', 'b', 'c'].map((id, i) => ({ event: 'page_view', event_id: id, ts: `2026-11-21T09:5${i}:00Z`, properties: { path: `/${id}` } }));
    await ingestBatch(mskEvent([...views, { event: 'page_view', ts: 'not a time' }], { topic: 'tracking', timestamp: now - 60_000 }), deps);
    glue.on(GetTablesCommand).resolves({ TableList: [{ Name: 'page_view', Parameters: {} }] });
    glue.on(GetPartitionsCommand).resolves({ Partitions: [] });
    cw.on(ListMetricsCommand, { Namespace: 'AWS/Kafka' }).resolves({ Metrics: [kafkaMetric(GROUP, 0), kafkaMetric(GROUP, 1), kafkaMetric('stuck-group', 0), kafkaMetric('quiet-group', 0)] });
    cw.on(ListMetricsCommand, { Namespace: 'AWS/Lambda' }).resolves({
      Metrics: [fnMetric(['FunctionName', 'tributary-dev-ingest']), fnMetric(['FunctionName', 'other-function']), fnMetric(['FunctionName', 'tributary-dev-ingest'], ['Resource', 'tributary-dev-ingest:live'])],
    });
    cw.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => ({
      MetricDataResults: input.MetricDataQueries!.map((q) => ({ Id: q.Id, Values: LATEST.get(seriesKey(q.MetricStat!.Metric!)) ?? [] })),
    }));
    Object.assign(process.env, {
      TRIBUTARY_BUCKET: 'tributary-dev-lake', TRIBUTARY_GLUE_DATABASE: 'tributary', CLICKHOUSE_URL: server().url, CLICKHOUSE_PASSWORD: 'x',
      CLICKHOUSE_DATABASE: 'tributary', TRIBUTARY_NOW: NOW, AWS_REGION: 'eu-west-1',
    });
  });

  after(() => {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
    cw.restore();
    glue.restore();
  });

  it('reports tables from ClickHouse and Glue, and consumer lag per group and partition and per ingest function from CloudWatch OffsetLag', async () => {
    const { code, report } = await status(['--json']);
    const [pv] = report.tables;
    assert.equal(pv!.table, 'page_view');
    assert.equal(pv!.stored.lastHour, 3);
    assert.equal(pv!.quarantined.lastHour, 1);
    assert.ok(pv!.freshnessSeconds! >= 8 * 60 && pv!.freshnessSeconds! < 9 * 60, String(pv!.freshnessSeconds)); // newest event 09:52; the clock runs on from TRIBUTARY_NOW
    // Per group and partition (MSK's OffsetLag, the latest value of each series, groups by name); a group CloudWatch
    // lists but has no value for in the window (gone, or rebalancing) is left out unless named with --group
    assert.deepEqual(report.consumers.map((c) => [c.group, c.health, c.lag]), [['stuck-group', 'critical', 250_000], [GROUP, 'ok', 100]]);
    assert.deepEqual(report.consumers[1]!.partitions, [
      { group: GROUP, topic: 'tracking', partition: 0, committed: null, high: null, lag: 30 },
      { group: GROUP, topic: 'tracking', partition: 1, committed: null, high: null, lag: 70 },
    ]);
    // Per function (Lambda's OffsetLag, the alarm's metric; dev's alarms.offsetLag is 100,000): only the function-wide series
    assert.deepEqual(report.functions.map((f) => [f.functionName, f.health, f.lag]), [['other-function', 'ok', 5], ['tributary-dev-ingest', 'warn', 60_000]]);
    assert.equal(report.overall.health, 'critical');
    assert.match(report.overall.reason, /consumer group stuck-group lags 250000 records > 100000/);
    assert.equal(code, 3);
    // The cluster is dev's in cdk.json; the values are Maximum per minute over the last 15 minutes, newest first.
    const listed = cw.commandCalls(ListMetricsCommand).map((c) => c.args[0].input);
    assert.deepEqual(listed.find((i) => i.Namespace === 'AWS/Kafka')!.Dimensions, [{ Name: 'Cluster Name', Value: 'tributary-dev' }]);
    const data = cw.commandCalls(GetMetricDataCommand)[0]!.args[0].input;
    assert.equal(data.EndTime!.getTime() - data.StartTime!.getTime(), 15 * 60_000);
    assert.ok(Math.abs(data.EndTime!.getTime() - now) < 10_000, 'ends at the command\'s clock (TRIBUTARY_NOW)');
    assert.equal(data.ScanBy, 'TimestampDescending');
    assert.ok(data.MetricDataQueries!.every((q) => q.MetricStat!.Stat === 'Maximum' && q.MetricStat!.Period === 60));
  });

  it('takes --cluster as a name or an ARN, --group and --function to narrow, and prints them as tables', async () => {
    cw.resetHistory();
    const { code, text } = await status(['--cluster', 'arn:aws:kafka:eu-west-1:111111111111:cluster/tributary-dev/0a1b-s1', '--group', GROUP, '--group', 'quiet-group', '--function', 'tributary-dev-ingest']);
    // critical for the table's quarantine rate (1 of 4 records), not for the consumers narrowed to
    assert.equal(code, 3, text);
    assert.match(text, /^Pipeline: critical — page_view: quarantine rate 25\.0 % > 10 %/);
    assert.deepEqual(cw.commandCalls(ListMetricsCommand).find((c) => c.args[0].input.Namespace === 'AWS/Kafka')!.args[0].input.Dimensions, [{ Name: 'Cluster Name', Value: 'tributary-dev' }]);
    assert.match(text, new RegExp(`${GROUP}\\s+tracking\\s+1\\s+–\\s+–\\s+70`));
    assert.match(text, /Ingest functions' OffsetLag[^\n]*\n[\s\S]*tributary-dev-ingest\s+warn\s+60000/);
    assert.match(text, /quiet-group\s+warn\s+consumer group quiet-group has no OffsetLag in CloudWatch for the last 15 minutes/);
    assert.doesNotMatch(text, /stuck-group|other-function/);
  });

  it('refuses --cluster and --function without TRIBUTARY_BUCKET', async () => {
    const bucket = process.env['TRIBUTARY_BUCKET'];
    delete process.env['TRIBUTARY_BUCKET'];
    try {
      await assert.rejects(status(['--cluster', 'x']), /--cluster applies against AWS only/);
    } finally {
      process.env['TRIBUTARY_BUCKET'] = bucket;
    }
  });
});
