// The ingest handler's core against real engines: a local lake directory, the Glue-shaped catalog and
// embedded ClickHouse (chDB); DuckDB reads the lake back independently.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ingestFile } from '../../functions/cli/commands/ingest.js';
import { openLocalRuntime, PACKAGE_ROOT, type LocalRuntime } from '../../functions/cli/local-runtime.js';
import { ingestBatch } from '../../functions/core/ingest.js';
import { duckRows } from '../duckdb.js';
import { mskEvent, NOW, pageView, TS } from '../helpers.js';

let rt: LocalRuntime;
let home: string;

before(async () => {
  home = mkdtempSync(join(tmpdir(), 'tributary-it-'));
  rt = await openLocalRuntime({ home, schemasDir: join(PACKAGE_ROOT, 'schemas/events'), clock: () => NOW, piiSalt: 'test-salt' });
});
after(async () => rt.close());

const count = async (sql: string): Promise<number> => Number((await rt.warehouse.query<{ n: string }>(sql))[0]?.n);
const lakeCount = async (table: string): Promise<number> =>
  Number((await duckRows(`SELECT count(*) AS n FROM read_parquet('${home}/lake/${table}/*/*/*.parquet')`))[0]!['n']);

describe('ingest on chDB', () => {
  const bad: Array<[string, unknown]> = [
    ['malformed_json', '{"event": "page_view", '],
    ['not_an_object', '[1, 2, 3]'],
    ['missing_event', { ts: TS }],
    ['invalid_event_name', { event: "x`; DROP TABLE tributary.page_view; --", ts: TS }],
    ['invalid_property_name', { event: 'page_view', ts: TS, properties: { '../../x': 1 } }],
    ['invalid_event_id', { event: 'page_view', event_id: ['a'], ts: TS }],
    ['invalid_timestamp', { event: 'page_view', ts: 'not a time' }],
    ['future_timestamp', { event: 'page_view', ts: NOW + 2 * 3_600_000 }],
    ['missing_required', { event: 'purchase', ts: TS, properties: { price: 1 } }],
    ['uncoercible_value', { event: 'purchase', ts: TS, properties: { order_id: 'o', price: 'free' } }],
    ['empty_value', null],
  ];
  const good = [
    pageView('pv-1', { durationMs: 1200 }),
    { event: 'purchase', event_id: 'pu-1', ts: TS, user_id: 'u1', properties: { order_id: 'o1', price: 9.5, currency: 'EUR', email: 'a@example.com' } },
    pageView('pv-2', { durationMs: 800 }, '2026-11-19T11:05:00Z'),
  ];
  const event = mskEvent([good[0], ...bad.map(([, v]) => v), good[1], good[2]], { topic: 'web', partition: 2, firstOffset: 500 });

  it('stores every valid record and quarantines every invalid one with its reason', async () => {
    const report = await ingestBatch(event, rt.deps);
    assert.equal(report.recordsIn, good.length + bad.length);
    assert.equal(report.stored, good.length);
    assert.equal(report.quarantined, bad.length);
    assert.deepEqual(Object.keys(report.quarantinedByReason).sort(), bad.map(([r]) => r).sort());
    assert.deepEqual(report.tablesCreated.sort(), ['page_view', 'purchase']);

    assert.equal(await count('SELECT count() AS n FROM tributary.page_view'), 2);
    assert.equal(await count('SELECT count() AS n FROM tributary.purchase'), 1);
    const q = await rt.warehouse.query<{ reason: string; value_base64: string | null; _offset: string; _topic: string }>(
      'SELECT reason, value_base64, _offset, _topic FROM tributary_ops._quarantine ORDER BY _offset');
    assert.deepEqual(q.map((r) => r.reason), bad.map(([r]) => r));
    // The raw bytes survive, so a fixed record can be replayed.
    const first = bad[0]![1] as string;
    assert.equal(Buffer.from(q[0]!.value_base64!, 'base64').toString(), first);
    assert.equal(q[0]!._topic, 'web');
    assert.equal(Number(q[0]!._offset), 501);
    assert.equal(q[q.length - 1]!.value_base64, null, 'a tombstone is quarantined with a null value');
    const tables = await rt.warehouse.query<{ name: string }>("SELECT name FROM system.tables WHERE database = 'tributary' ORDER BY name");
    // Each event table comes with its _dedup and _all views; nothing from a hostile name.
    assert.deepEqual(tables.map((t) => t.name), ['page_view', 'page_view_all', 'page_view_dedup', 'purchase', 'purchase_all', 'purchase_dedup'], 'no table from a hostile name');
    // The raw payloads and the log sit beside the BI database, where a grant on tributary.* does not reach.
    const ops = await rt.warehouse.query<{ name: string }>("SELECT name FROM system.tables WHERE database = 'tributary_ops' ORDER BY name");
    assert.deepEqual(ops.map((t) => t.name), ['_ingest_log', '_quarantine']);
  });

  it('writes Hive-partitioned Parquet that DuckDB reads with the same row count as ClickHouse', async () => {
    const keys = await rt.store.list('lake/page_view/');
    assert.deepEqual(keys, [
      'lake/page_view/dt=2026-11-19/hour=10/web+2+500-500.parquet',
      'lake/page_view/dt=2026-11-19/hour=11/web+2+513-513.parquet',
    ]);
    assert.equal(await lakeCount('page_view'), await count('SELECT count() AS n FROM tributary.page_view'));
    const [row] = await duckRows(`SELECT duration_ms, _offset, hour, dt::VARCHAR AS dt FROM read_parquet('${home}/lake/page_view/dt=2026-11-19/hour=10/*.parquet', hive_partitioning = false)`);
    assert.deepEqual(row, { duration_ms: 1200n, _offset: 500n, hour: 10, dt: '2026-11-19' });
    assert.equal((await rt.store.list('lake/_quarantine/')).length, 1);
  });

  it('masks PII declared in the schema before it reaches either store', async () => {
    const [ch] = await rt.warehouse.query<{ email: string }>('SELECT email FROM tributary.purchase');
    assert.match(ch!.email, /^[0-9a-f]{64}$/);
    const lake = readFileSync(join(home, (await rt.store.list('lake/purchase/'))[0]!));
    assert.equal(lake.includes(Buffer.from('a@example.com')), false);
  });

  it('registers Glue-shaped tables and partitions in the catalog', async () => {
    const stored = await rt.catalog.read('page_view');
    assert.ok(stored);
    assert.deepEqual(stored.TableInput.PartitionKeys.map((k) => `${k.Name}:${k.Type}`), ['dt:date', 'hour:int']);
    assert.equal(stored.TableInput.StorageDescriptor.SerdeInfo.SerializationLibrary, 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe');
    assert.ok(stored.TableInput.StorageDescriptor.Columns.some((c) => c.Name === 'duration_ms' && c.Type === 'bigint'));
    assert.deepEqual(stored.Partitions.map((p) => p.Values), [['2026-11-19', '10'], ['2026-11-19', '11']]);
    assert.match(stored.Partitions[0]!.StorageDescriptor.Location, /lake\/page_view\/dt=2026-11-19\/hour=10\/$/);
  });

  it('is idempotent when the same batch is delivered again', async () => {
    const keysBefore = await rt.store.list('lake/');
    const again = await ingestBatch(event, rt.deps);
    assert.equal(again.stored, good.length);
    assert.deepEqual(again.tablesCreated, []);
    assert.deepEqual(await rt.store.list('lake/'), keysBefore, 'same object keys, overwritten in place');
    assert.equal(await count('SELECT count() AS n FROM tributary.page_view'), 2, 'dedup token: no second insert');
    assert.equal(await count('SELECT count() AS n FROM tributary_ops._quarantine'), bad.length);
    assert.equal(await lakeCount('page_view'), 2);
  });

  it('adds a column when a later batch brings a new field, and keeps older rows readable', async () => {
    const r = await ingestBatch(mskEvent([pageView('pv-3', { durationMs: 5, abVariant: 'green' })], { topic: 'web', partition: 2, firstOffset: 600 }), rt.deps);
    assert.deepEqual(r.columnsAdded, [{ table: 'page_view', column: 'ab_variant', type: 'string' }]);
    const rows = await rt.warehouse.query<{ event_id: string; ab_variant: string | null }>('SELECT event_id, ab_variant FROM tributary.page_view ORDER BY event_id');
    assert.deepEqual(rows, [{ event_id: 'pv-1', ab_variant: null }, { event_id: 'pv-2', ab_variant: null }, { event_id: 'pv-3', ab_variant: 'green' }]);
    assert.ok((await rt.catalog.getTable('page_view'))!.properties.some((c) => c.name === 'ab_variant'));
    await rt.refreshLakeViews();
    assert.equal(await count('SELECT count() AS n FROM lake.page_view WHERE ab_variant IS NULL'), 2, 'the lake view spans old and new files');
  });

  it('quarantines a value whose type conflicts with the registered column and stores the rest', async () => {
    const r = await ingestBatch(mskEvent([pageView('pv-4', { durationMs: 'long' }), pageView('pv-5', { durationMs: 7 })], { topic: 'web', partition: 2, firstOffset: 700 }), rt.deps);
    assert.equal(r.stored, 1);
    assert.deepEqual(r.quarantinedByReason, { type_conflict: 1 });
  });
});

describe('a retry that stores a different set of rows', () => {
  it('reaches ClickHouse too, so the warehouse and the lake agree', async () => {
    let now = NOW; // 12:30
    const at = (min: number): string => new Date(NOW + min * 60_000).toISOString();
    const click = (id: string, ts: string) => ({ event: 'retry_click', event_id: id, ts, properties: { x: 1 } });
    // e1 is 70 minutes ahead of the first attempt's clock (limit 60) and 55 ahead of the retry's.
    const event = mskEvent([click('e0', at(40)), click('e1', at(70)), click('e2', at(50))], { topic: 'retry', partition: 0, firstOffset: 0 });
    // The first attempt fails after its ClickHouse inserts, at the ingest log.
    const warehouse = Object.create(rt.deps.warehouse) as typeof rt.deps.warehouse;
    warehouse.recordIngest = async () => { throw new Error('timeout writing the ingest log'); };
    await assert.rejects(ingestBatch(event, { ...rt.deps, warehouse, clock: () => now }), /timeout/);
    now += 15 * 60_000;
    const r = await ingestBatch(event, { ...rt.deps, clock: () => now });
    assert.equal(r.stored, 3);
    const inClickHouse = await rt.warehouse.query<{ event_id: string }>('SELECT event_id FROM tributary.retry_click FINAL ORDER BY event_id');
    const inLake = await duckRows(`SELECT event_id FROM read_parquet('${home}/lake/retry_click/*/*/*.parquet') ORDER BY event_id`);
    assert.deepEqual(inClickHouse.map((x) => x.event_id), ['e0', 'e1', 'e2']);
    assert.deepEqual(inLake.map((x) => x['event_id']), ['e0', 'e1', 'e2']);
  });
});

describe('Kafka timestamps out of range', () => {
  it('never fail a batch: a record quarantined with one is filed under the epoch, its timestamp in the detail', async () => {
    const microseconds = 1_763_546_400_123_000; // a producer that sends CreateTime in µs
    for (const timestamp of [microseconds, 9e15, -(2 ** 52)]) {
      const event = mskEvent(['not json', pageView(`kts-${timestamp}`)], { topic: 'kts', partition: 0, firstOffset: 10, timestamp });
      const r = await ingestBatch(event, rt.deps);
      assert.deepEqual([r.stored, r.quarantinedByReason], [1, { malformed_json: 1 }], String(timestamp));
    }
    const rows = await rt.warehouse.query<{ dt: string; hour: number; kafka_timestamp: string; detail: string }>(
      "SELECT toString(dt) AS dt, hour, toString(kafka_timestamp) AS kafka_timestamp, detail FROM tributary_ops._quarantine FINAL WHERE _topic = 'kts'");
    assert.equal(rows.length, 1, 'the same offset each time: one quarantine row');
    assert.deepEqual([rows[0]!.dt, rows[0]!.hour, rows[0]!.kafka_timestamp], ['1970-01-01', 0, '1970-01-01 00:00:00.000']);
    assert.match(rows[0]!.detail, /Kafka timestamp -?\d+ is outside 1900–2299/);
    assert.ok((await rt.store.list('lake/_quarantine/dt=1970-01-01/hour=00/')).some((k) => k.endsWith('kts+0+10-10.parquet')));
  });
});

describe('tributary ingest <file>', () => {
  it('treats a file as one topic-partition: re-ingesting it stores nothing twice, other files never collide', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-files-'));
    const lines = [pageView('f-1'), pageView('f-2'), { event: 'signup', event_id: 's-1', ts: TS }].map((v) => JSON.stringify(v));
    writeFileSync(join(dir, 'batch-a.ndjson'), `${lines.join('\n')}\n\n{broken\n`);
    writeFileSync(join(dir, 'batch-b.ndjson'), `${JSON.stringify(pageView('f-3'))}\n`);
    const a1 = await ingestFile({ file: join(dir, 'batch-a.ndjson'), batchSize: 2 }, rt.deps);
    assert.equal(a1.stored, 3);
    assert.deepEqual(a1.quarantinedByReason, { malformed_json: 1 });
    const a2 = await ingestFile({ file: join(dir, 'batch-a.ndjson'), batchSize: 2 }, rt.deps);
    assert.equal(a2.stored, 3);
    await ingestFile({ file: join(dir, 'batch-b.ndjson'), batchSize: 2 }, rt.deps);
    assert.equal(await count("SELECT count() AS n FROM tributary.page_view WHERE _topic LIKE 'batch-%'"), 3);
    assert.equal(await count("SELECT count() AS n FROM tributary.signup"), 1);
    const keys = (await rt.store.list('lake/page_view/')).filter((k) => k.includes('batch-'));
    assert.deepEqual(keys.map((k) => k.slice(k.lastIndexOf('/') + 1)), ['batch-a+0+1-2.parquet', 'batch-b+0+1-1.parquet']);
    const [q] = await rt.warehouse.query<{ _offset: string }>("SELECT _offset FROM tributary_ops._quarantine WHERE _topic = 'batch-a'");
    assert.equal(Number(q!._offset), 5, 'the offset is the line number of the broken line');
  });

  it('keeps a file a redelivery after it is touched: records without ts keep their first timestamp', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-touch-'));
    const file = join(dir, 'touched.ndjson');
    writeFileSync(file, `${JSON.stringify({ event: 'touch_click', event_id: 't1' })}\n${JSON.stringify({ event: 'touch_click' })}\nnot json\n`);
    utimesSync(file, new Date(NOW - 3_600_000), new Date(NOW - 3_600_000));
    const first = await ingestFile({ file, batchSize: 10 }, rt.deps);
    utimesSync(file, new Date(NOW - 60_000), new Date(NOW - 60_000)); // an hour later on the file's clock
    const again = await ingestFile({ file, batchSize: 10 }, rt.deps);
    assert.deepEqual([first.stored, again.stored], [2, 2]);
    assert.equal(await count('SELECT count() AS n FROM tributary.touch_click FINAL'), 2);
    assert.equal(await lakeCount('touch_click'), 2);
    assert.equal(await count("SELECT count() AS n FROM tributary_ops._quarantine FINAL WHERE _topic = 'touched'"), 1);
  });

  it('reads NDJSON lines as NDJSON does: a \\r inside a record, CRLF line ends and a byte-order mark', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-crlf-'));
    const file = join(dir, 'windows.ndjson');
    writeFileSync(file, `\uFEFF${JSON.stringify(pageView('w-1'))}\r\n{"event":"page_view",\r"event_id":"w-2","ts":"${TS}"}\r\n`);
    const s = await ingestFile({ file, batchSize: 10 }, rt.deps);
    assert.deepEqual([s.stored, s.quarantined], [2, 0]);
    const rows = await rt.warehouse.query<{ event_id: string; _offset: string }>("SELECT event_id, _offset FROM tributary.page_view WHERE _topic = 'windows' ORDER BY _offset");
    assert.deepEqual(rows.map((r) => [r.event_id, Number(r._offset)]), [['w-1', 1], ['w-2', 2]]);
  });

  it('quarantines a line that is not UTF-8 with its bytes as they were, instead of storing replacement characters', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-latin1-'));
    const file = join(dir, 'latin1.ndjson');
    const bad = Buffer.concat([Buffer.from(`{"event":"page_view","event_id":"l-1","ts":"${TS}","properties":{"page":"caf`), Buffer.from([0xe9, 0xff]), Buffer.from('"}}')]);
    writeFileSync(file, Buffer.concat([bad, Buffer.from(`\n${JSON.stringify(pageView('l-2'))}\n`)]));
    const s = await ingestFile({ file, batchSize: 10 }, rt.deps);
    assert.deepEqual([s.stored, s.quarantinedByReason], [1, { malformed_json: 1 }]);
    const [q] = await rt.warehouse.query<{ value_base64: string; detail: string }>("SELECT value_base64, detail FROM tributary_ops._quarantine WHERE _topic = 'latin1'");
    assert.deepEqual(Buffer.from(q!.value_base64, 'base64'), bad);
    assert.match(q!.detail, /not valid UTF-8/);
  });

  it('refuses a second file under a topic another file made, and standard input without --topic', async () => {
    const [a, b] = [mkdtempSync(join(tmpdir(), 'tributary-a-')), mkdtempSync(join(tmpdir(), 'tributary-b-'))];
    writeFileSync(join(a, 'clash.ndjson'), `${JSON.stringify(pageView('clash-a'))}\n`);
    writeFileSync(join(b, 'clash.ndjson'), `${JSON.stringify(pageView('clash-b'))}\n`);
    await ingestFile({ file: join(a, 'clash.ndjson'), batchSize: 10 }, rt.deps);
    await assert.rejects(ingestFile({ file: join(b, 'clash.ndjson'), batchSize: 10 }, rt.deps), /topic clash was made from .*clash\.ndjson; .*pass --topic/);
    const other = await ingestFile({ file: join(b, 'clash.ndjson'), topic: 'clash-b', batchSize: 10 }, rt.deps);
    assert.equal(other.stored, 1);
    assert.deepEqual((await rt.warehouse.query<{ event_id: string }>("SELECT event_id FROM tributary.page_view WHERE event_id LIKE 'clash-%' ORDER BY event_id")).map((r) => r.event_id), ['clash-a', 'clash-b']);
    await assert.rejects(ingestFile({ file: '-', batchSize: 10 }, rt.deps), /standard input has no name to make a topic of: pass --topic/);
  });

  it('refuses a second standard-input stream under a topic one already made', async () => {
    const { Readable } = await import('node:stream');
    const stdin = Object.getOwnPropertyDescriptor(process, 'stdin')!;
    const feed = (text: string): void => { Object.defineProperty(process, 'stdin', { value: Object.assign(Readable.from([text]), { setEncoding() { return this; } }), configurable: true }); };
    try {
      feed(`${JSON.stringify(pageView('piped-1'))}\n`);
      assert.equal((await ingestFile({ file: '-', topic: 'piped', batchSize: 10 }, rt.deps)).stored, 1);
      feed(`${JSON.stringify(pageView('piped-2'))}\n`);
      await assert.rejects(ingestFile({ file: '-', topic: 'piped', batchSize: 10 }, rt.deps), /topic piped was made from standard input before/);
    } finally {
      Object.defineProperty(process, 'stdin', stdin);
    }
  });
});
