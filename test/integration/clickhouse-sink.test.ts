// The ClickHouse sink on real chDB: effectively-once inserts under retries, the dedup and _all views, and
// the ingest log.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openLocalRuntime, PACKAGE_ROOT, type LocalRuntime } from '../../functions/cli/local-runtime.js';
import { compactClosedPartitions } from '../../functions/core/lake/compact-partition.js';
import { ingestBatch, type IngestDeps } from '../../functions/core/ingest.js';
import type { Warehouse } from '../../functions/core/ports.js';
import { mskEvent, pageView } from '../helpers.js';

let rt: LocalRuntime;
const now = Date.now();
const iso = (ms: number): string => new Date(ms).toISOString();

before(async () => {
  rt = await openLocalRuntime({ home: mkdtempSync(join(tmpdir(), 'tributary-ch-')), schemasDir: join(PACKAGE_ROOT, 'schemas/events'), clock: () => now });
});
after(async () => rt.close());

const n = async (sql: string): Promise<number> => Number((await rt.warehouse.query<{ n: string }>(sql))[0]!.n);

/** A warehouse that fails its k-th Parquet insert once, like a ClickHouse outage in the middle of a batch. */
function failingOnce(inner: Warehouse, k: number): Warehouse {
  let calls = 0;
  return {
    database: inner.database,
    ensureTable: (s) => inner.ensureTable(s),
    ensureQuarantineTable: () => inner.ensureQuarantineTable(),
    insertParquet: async (...args) => {
      if (++calls === k) throw new Error('ClickHouse: connect ECONNREFUSED (injected)');
      return inner.insertParquet(...args);
    },
    recordIngest: (e, t) => inner.recordIngest(e, t),
    query: (sql, params) => inner.query(sql, params),
    replacePartition: (t, o, p, f) => inner.replacePartition(t, o, p, f),
    close: () => inner.close(),
  };
}

describe('ClickHouse sink', () => {
  const recent = (hoursAgo: number): string => iso(now - hoursAgo * 3_600_000);

  it('stores a batch inserted three times once', async () => {
    const event = mskEvent(['a1', 'a2', 'a3'].map((id, i) => pageView(id, {}, recent(i + 1))), { topic: 'thrice' });
    for (let i = 0; i < 3; i++) await ingestBatch(event, rt.deps);
    assert.equal(await n(`SELECT count() AS n FROM tributary.page_view WHERE _topic = 'thrice'`), 3, 'no FINAL needed: the repeats were never inserted');
    assert.equal(await n(`SELECT count() AS n FROM tributary_ops._ingest_log WHERE _topic = 'thrice'`), 3, 'one log row per file, once');
  });

  it('a batch retried after UTC midnight is logged once in the raw table, not only through FINAL', async () => {
    // The first attempt finishes a millisecond before midnight, its redelivery just after: same batch, same log rows.
    const midnight = Math.floor(now / 86_400_000) * 86_400_000;
    const event = mskEvent(['m1', 'm2'].map((id) => pageView(id, {}, iso(midnight - 30 * 60_000))), { topic: 'midnight' });
    await ingestBatch(event, { ...rt.deps, clock: () => midnight - 1 });
    await ingestBatch(event, { ...rt.deps, clock: () => midnight + 1_000 });
    assert.equal(await n(`SELECT count() AS n FROM tributary_ops._ingest_log WHERE _topic = 'midnight'`), 1);
  });

  it('after an injected ClickHouse failure, the retried batch is in ClickHouse once and in the lake as one file per (table, hour)', async () => {
    // Two tables: page_view over three hours and two partitions, click in one hour. One insert per table,
    // whatever hours and partitions it spans; the second insert fails after the first went in.
    const views = ['b1', 'b2', 'b3'].map((id, i) => pageView(id, {}, recent(i + 1)));
    const event = mskEvent([...views, { event: 'click', event_id: 'k1', ts: recent(1) }], { topic: 'outage' });
    const other = mskEvent(['b4', 'b5', 'b6'].map((id, i) => pageView(id, {}, recent(i + 1))), { topic: 'outage', partition: 1 });
    event.records = { ...event.records, ...other.records };
    const broken: IngestDeps = { ...rt.deps, warehouse: failingOnce(rt.warehouse, 2) };
    await assert.rejects(ingestBatch(event, broken), /ECONNREFUSED \(injected\)/);
    await new Promise((r) => setTimeout(r, 200)); // inserts in flight when the invocation failed may still land
    const inClickHouse = async (): Promise<number> => n(`SELECT (SELECT count() FROM tributary.page_view WHERE _topic = 'outage') + (SELECT count() FROM tributary.click WHERE _topic = 'outage') AS n`);
    assert.ok(await inClickHouse() < 7, 'the batch is incomplete in ClickHouse');
    assert.equal(await n(`SELECT count() AS n FROM tributary_ops._ingest_log WHERE _topic = 'outage'`), 0, 'a failed invocation is not logged as done');

    const report = await ingestBatch(event, rt.deps); // the event source mapping's retry
    assert.equal(report.stored, 7);
    assert.equal(report.inserts, 2, 'one insert per table');
    assert.equal(await inClickHouse(), 7);
    const lakeFiles = (await rt.store.list('lake/')).filter((k) => k.includes('/outage+'));
    assert.equal(lakeFiles.length, 4, 'page_view: one file per hour for both partitions; click: one');
    assert.ok(lakeFiles.filter((k) => k.startsWith('lake/page_view/')).every((k) => /\/outage\+2p\+[0-9a-f]{8}-[0-9a-f]{8}\.parquet$/.test(k)), lakeFiles.join(', '));
    // Lineage: one log row per file and topic-partition; the rows add up to the batch.
    assert.equal(await n(`SELECT count() AS n FROM tributary_ops._ingest_log WHERE _topic = 'outage'`), 7);
    assert.equal(await n(`SELECT sum(rows) AS n FROM tributary_ops._ingest_log WHERE _topic = 'outage'`), 7);
    assert.equal(await n(`SELECT uniqExact(file_key) AS n FROM tributary_ops._ingest_log WHERE _topic = 'outage'`), 4);

    // A third delivery of the same batch changes nothing anywhere.
    await ingestBatch(event, rt.deps);
    assert.equal(await inClickHouse(), 7);
    assert.equal((await rt.store.list('lake/')).filter((k) => k.includes('/outage+')).length, 4);
    assert.equal(await n(`SELECT count() AS n FROM tributary_ops._ingest_log WHERE _topic = 'outage'`), 7);
  });

  it('the dedup view shows one row per event_id across batches', async () => {
    const first = mskEvent(['c1', 'c2', 'c3'].map((id) => pageView(id, {}, recent(1))), { topic: 'redeliver' });
    const again = mskEvent(['c2', 'c3', 'c4'].map((id) => pageView(id, {}, recent(1))), { topic: 'redeliver', firstOffset: 3 });
    await ingestBatch(first, rt.deps);
    await ingestBatch(again, rt.deps);
    // The table itself may hold both copies until a background merge (when is up to ClickHouse); the view never does.
    assert.equal(await n(`SELECT count() AS n FROM tributary.page_view_dedup WHERE _topic = 'redeliver'`), 4);
    assert.deepEqual((await rt.warehouse.query<{ event_id: string }>(`SELECT event_id FROM tributary.page_view_dedup WHERE _topic = 'redeliver' ORDER BY event_id`)).map((r) => r.event_id), ['c1', 'c2', 'c3', 'c4']);
  });

  it('the _all view adds the lake\'s older days to ClickHouse\'s recent ones without counting any day twice', async () => {
    const old = mskEvent(['h1', 'h2'].map((id) => pageView(id, {}, iso(now - 120 * 86_400_000))), { topic: 'history' });
    await ingestBatch(old, rt.deps); // in the lake; ClickHouse's TTL drops it (at once or at the next merge)
    const recentInClickHouse = await n(`SELECT count() AS n FROM tributary.page_view_dedup WHERE dt >= today() - 89`);
    assert.ok(recentInClickHouse >= 10);
    assert.equal(await n(`SELECT count() AS n FROM tributary.page_view_all`), recentInClickHouse + 2, 'recent days from ClickHouse, older days from the lake');
    assert.equal(await n(`SELECT count() - uniqExact(event_id) AS n FROM tributary.page_view_all`), 0, 'no event counted twice');
    assert.equal(await n(`SELECT count() AS n FROM tributary.page_view_all WHERE event_id IN ('h1', 'h2')`), 2);

    // Compacted history reads the same once the superseded files are gone.
    const compaction = (clock: number) => ({ ...rt.compaction(), clock: () => clock });
    await compactClosedPartitions(compaction(now), { tables: ['page_view'], graceMs: 0, lookbackMs: 365 * 86_400_000 });
    await compactClosedPartitions(compaction(now + 61 * 60_000), { tables: ['page_view'], graceMs: 0, lookbackMs: 365 * 86_400_000 });
    assert.equal(await n(`SELECT count() AS n FROM tributary.page_view_all WHERE event_id IN ('h1', 'h2')`), 2);
  });

  it('views follow new columns', async () => {
    await ingestBatch(mskEvent([pageView('d1', { campaign: 'winter' }, recent(1))], { topic: 'newcol' }), rt.deps);
    assert.deepEqual(await rt.warehouse.query(`SELECT campaign FROM tributary.page_view_dedup WHERE event_id = 'd1'`), [{ campaign: 'winter' }]);
    assert.deepEqual(await rt.warehouse.query(`SELECT campaign FROM tributary.page_view_all WHERE event_id = 'd1'`), [{ campaign: 'winter' }]);
  });

  it('refuses event names that would collide with the views', async () => {
    const r = await ingestBatch(mskEvent([{ event: 'page_view_dedup', ts: recent(1) }, { event: 'Orders All', ts: recent(1) }], { topic: 'collide' }), rt.deps);
    assert.deepEqual(r.quarantinedByReason, { invalid_event_name: 2 });
  });

  it('the quarantine expires like the event tables, counted from arrival: a record filed under the epoch stays', async () => {
    // A Kafka timestamp beyond what the table holds files the record under the epoch (dt 1970-01-01).
    const event = mskEvent(['{"event":'], { topic: 'expiry', timestamp: 2 ** 60 });
    assert.equal((await ingestBatch(event, rt.deps)).quarantined, 1);
    const [ddl] = await rt.warehouse.query<{ statement: string }>('SHOW CREATE TABLE tributary_ops._quarantine');
    assert.match(ddl!.statement, /TTL toDateTime\(received_at\) \+ toIntervalDay\(90\)/);
    await rt.warehouse.query('OPTIMIZE TABLE tributary_ops._quarantine FINAL');
    assert.equal(await n(`SELECT count() AS n FROM tributary_ops._quarantine WHERE _topic = 'expiry' AND dt = '1970-01-01'`), 1);
  });
});
