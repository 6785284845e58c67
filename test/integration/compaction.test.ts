// Compaction of closed hour partitions on the local stand-ins (directory lake, Glue-shaped catalog, chDB
// views that read each partition at its catalog location, DuckDB as the engine).
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openLocalRuntime, PACKAGE_ROOT, type LocalRuntime } from '../../functions/cli/local-runtime.js';
import { compactClosedPartitions, compactPartition, type CompactionStep } from '../../functions/core/lake/compact-partition.js';
import { ingestBatch } from '../../functions/core/ingest.js';
import { partitionPrefix } from '../../functions/core/lake/layout.js';
import { mskEvent, NOW, pageView, lakeIdsOfHour } from '../helpers.js';

let rt: LocalRuntime;
let now = NOW;
let nextOffset = 0;

before(async () => {
  rt = await openLocalRuntime({ home: mkdtempSync(join(tmpdir(), 'tributary-compact-')), schemasDir: join(PACKAGE_ROOT, 'schemas/events'), clock: () => now });
});
after(async () => rt.close());

const at = (hour: number, minute = 0): string => `2026-11-19T${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}:00Z`;

/** Ingests page views as one MSK batch at fresh offsets, so every call writes a new file. */
async function send(ids: readonly string[], hour: number): Promise<string[]> {
  const event = mskEvent(ids.map((id, i) => pageView(id, { n: i }, at(hour, i % 60))), { topic: 'web', firstOffset: nextOffset });
  nextOffset += ids.length;
  return (await ingestBatch(event, rt.deps)).files.map((f) => f.key);
}

const lakeIds = (hour: number): Promise<string[]> => lakeIdsOfHour(rt, hour);

const ids = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(3, '0')}`);
const distinct = (xs: readonly string[]): string[] => [...new Set(xs)].sort();
const partitionState = async (hour: number) => (await rt.catalog.listPartitions('page_view')).find((p) => p.hour === hour)!;

describe('compaction', () => {
  it('turns many small files with duplicates into one file per target size with one row per event_id', async () => {
    const all = ids('a', 200);
    for (let i = 0; i < 200; i += 20) await send(all.slice(i, i + 20), 10);
    // Redeliveries with other batch boundaries: the same events again, in files of their own.
    now += 60_000;
    await send(all.slice(5, 35), 10);
    await send(all.slice(100, 103), 10);
    const before = await lakeIds(10);
    assert.equal(before.length, 233);

    const [result] = await compactClosedPartitions(rt.compaction(), { tables: ['page_view'] });
    assert.equal(result!.outcome, 'compacted');
    assert.equal(result!.filesBefore, 12);
    assert.equal(result!.filesAfter, 1);
    assert.equal(result!.duplicatesRemoved, 33);
    assert.equal(result!.rowsOut, 200);
    assert.deepEqual(await lakeIds(10), distinct(before), 'row set after = distinct event_ids before');

    const state = await partitionState(10);
    assert.equal(state.version, 1);
    assert.match(state.location, /hour=10\/_v0001\/$/);
    // The latest received_at wins, in the lake as in ClickHouse (ReplacingMergeTree(received_at)): the
    // redelivered copies came a minute later, and both stores keep them.
    const [inLake] = await rt.warehouse.query<{ r: string }>(`SELECT toString(received_at) AS r FROM lake.page_view WHERE event_id = 'a010'`);
    const [inClickHouse] = await rt.warehouse.query<{ r: string }>(`SELECT toString(received_at) AS r FROM tributary.page_view FINAL WHERE event_id = 'a010'`);
    assert.equal(inLake!.r, '2026-11-19 12:31:00.000');
    assert.equal(inClickHouse!.r, inLake!.r);

    const again = await compactPartition('page_view', { dt: '2026-11-19', hour: 10 }, rt.compaction());
    assert.equal(again.outcome, 'skipped');
    assert.equal(again.detail, 'already compacted');
  });

  it('a Kafka record delivered again keeps its first copy in both stores; a newer record of its event_id still wins', async () => {
    const record = (offset: number, v: number) => mskEvent([pageView('again', { v }, at(6, 5))], { topic: 'again', firstOffset: offset });
    const rows = async (from: string): Promise<Array<[number, string]>> =>
      (await rt.warehouse.query<{ v: string; r: string }>(`SELECT v, toString(received_at) AS r FROM ${from} WHERE event_id = 'again' ORDER BY _offset, received_at`)).map((x) => [Number(x.v), x.r]);
    const t0 = now;
    await ingestBatch(record(0, 1), rt.deps);
    now = t0 + 1000;
    await ingestBatch(record(1, 2), rt.deps); // another record of the same event, a second later
    now = t0 + 2000;
    await ingestBatch(record(0, 1), rt.deps); // the event source mapping delivers the first batch again
    await rt.refreshLakeViews();
    const first = new Date(t0).toISOString().replace('T', ' ').replace('Z', '');
    const second = new Date(t0 + 1000).toISOString().replace('T', ' ').replace('Z', '');
    assert.deepEqual(await rows('lake.page_view'), [[1, first], [2, second]], 'the file of the first delivery is kept, received_at and all');
    assert.deepEqual(await rows('tributary.page_view FINAL'), [[2, second]]);

    now = t0 + 3 * 3_600_000;
    await compactPartition('page_view', { dt: '2026-11-19', hour: 6 }, rt.compaction());
    now += 1000;
    await ingestBatch(record(1, 2), rt.deps); // the surviving record again, into the compacted hour's current version
    await compactPartition('page_view', { dt: '2026-11-19', hour: 6 }, rt.compaction());
    await rt.refreshLakeViews();
    assert.deepEqual(await rows('lake.page_view'), await rows('tributary.page_view FINAL'), 'the lake keeps the row ClickHouse keeps');
    assert.deepEqual(await rows('lake.page_view'), [[2, second]]);
  });

  it('leaves open hours alone, and hours that closed less than the grace period ago', async () => {
    await send(['open1'], 12);
    await send(['open2'], 12);
    await send(['grace1'], 11);
    await send(['grace2'], 11);
    now = Date.parse('2026-11-19T12:10:00Z') + 60_000 * 2 + (NOW - Date.parse('2026-11-19T12:30:00Z'));
    const results = await compactClosedPartitions(rt.compaction(), { tables: ['page_view'] });
    assert.deepEqual(results.filter((r) => r.outcome === 'compacted').map((r) => r.hour), []);
    now = NOW + 60_000;
  });

  it('late data goes into the current version at once, and the next compaction keeps it', async () => {
    const keys = await send(['late1', 'late2'], 10);
    assert.match(keys[0]!, /hour=10\/_v0001\/web\+0\+\d+-\d+\.parquet$/);
    assert.ok((await lakeIds(10)).includes('late1'), 'readers see late rows before the next compaction');
    const result = await compactPartition('page_view', { dt: '2026-11-19', hour: 10 }, rt.compaction());
    assert.equal(result.outcome, 'compacted');
    assert.equal(result.version, 2);
    assert.equal(result.rowsOut, 202);
    assert.deepEqual((await lakeIds(10)).length, 202);
  });

  it('deletes superseded files only after the retention delay', async () => {
    const prefix = partitionPrefix('page_view', '2026-11-19', 10);
    const parquet = async (): Promise<string[]> => (await rt.store.list(prefix)).filter((k) => k.endsWith('.parquet'));
    assert.equal((await parquet()).length, 12 + 1 + 1 + 1, 'v0 files, v1 output, the late file and v2 output are all still there');
    const early = await compactPartition('page_view', { dt: '2026-11-19', hour: 10 }, rt.compaction());
    assert.equal(early.filesDeleted, 0);
    now += 61 * 60_000;
    const late = await compactPartition('page_view', { dt: '2026-11-19', hour: 10 }, rt.compaction());
    assert.equal(late.filesDeleted, 12 + 2);
    assert.deepEqual(await parquet(), [`${prefix}_v0002/part-00000.parquet`]);
    assert.equal((await lakeIds(10)).length, 202);
  });

  it('is safe to run twice at once: one compacts, the other notices and stops', async () => {
    for (let i = 0; i < 4; i++) await send(ids(`c${i}-`, 10), 5);
    const [a, b] = await Promise.all([
      compactPartition('page_view', { dt: '2026-11-19', hour: 5 }, rt.compaction({ owner: 'first' })),
      compactPartition('page_view', { dt: '2026-11-19', hour: 5 }, rt.compaction({ owner: 'second' })),
    ]);
    assert.deepEqual([a.outcome, b.outcome].sort(), ['busy', 'compacted']);
    assert.match((a.outcome === 'busy' ? a : b).detail, /being written by (first|second)/);
    assert.equal((await lakeIds(5)).length, 40);
  });

  for (const [i, crashAt] of (['claimed', 'written', 'manifest', 'switched'] as CompactionStep[]).entries()) {
    it(`a crash after "${crashAt}" leaves the partition readable, and a re-run completes it`, async () => {
      const hour = i;
      const sent = [...ids(`k${hour}-`, 30), ...ids(`k${hour}-`, 10)];
      for (let j = 0; j < sent.length; j += 10) await send(sent.slice(j, j + 10), hour);
      const before = await lakeIds(hour);
      const seen: string[][] = [];
      const crash = rt.compaction({ leaseMs: 5 * 60_000 }, async (step) => {
        seen.push(await lakeIds(hour)); // a reader in the middle of the compaction
        if (step === crashAt) throw new Error(`crash after ${step}`);
      });
      await assert.rejects(compactPartition('page_view', { dt: '2026-11-19', hour }, crash), /crash after/);
      const readable = await lakeIds(hour);
      assert.ok(readable.join() === before.join() || readable.join() === distinct(before).join(), 'old version or new one, never a mix');
      for (const s of seen) assert.ok(s.join() === before.join() || s.join() === distinct(before).join(), 'every reader saw exactly one version');

      now += 6 * 60_000; // the crashed run's lease expires
      const rerun = await compactPartition('page_view', { dt: '2026-11-19', hour }, rt.compaction());
      assert.ok(['compacted', 'switched', 'skipped'].includes(rerun.outcome), rerun.detail);
      assert.equal((await partitionState(hour)).version, 1);
      assert.deepEqual(await lakeIds(hour), distinct(before));

      now += 61 * 60_000; // past the retention delay: what the compaction superseded goes, claim and all
      await compactPartition('page_view', { dt: '2026-11-19', hour }, rt.compaction());
      const prefix = partitionPrefix('page_view', '2026-11-19', hour);
      assert.deepEqual((await rt.store.list(prefix)).filter((k) => !k.endsWith('_manifest.json')), [`${prefix}_v0001/part-00000.parquet`]);
    });
  }

  it('processes a partition larger than the piece limit in bounded pieces, still one row per event_id', async () => {
    const hour = 8;
    const sent = ids('big', 120);
    for (let j = 0; j < 120; j += 20) await send(sent.slice(j, j + 20), hour);
    await send(sent.slice(0, 60), hour); // duplicates spread over every piece
    const inputBytes = (await Promise.all((await rt.store.list(partitionPrefix('page_view', '2026-11-19', hour))).map(async (k) => (await rt.store.get(k))!.byteLength))).reduce((a, b) => a + b, 0);
    const result = await compactPartition('page_view', { dt: '2026-11-19', hour }, rt.compaction({ maxPieceBytes: Math.ceil(inputBytes / 3) }));
    assert.equal(result.outcome, 'compacted');
    assert.equal(result.filesAfter, 3, 'one output per piece');
    assert.equal(result.rowsOut, 120);
    assert.deepEqual(await lakeIds(hour), distinct(sent));
  });

  it('a file ingest writes into the old version while compaction switches is compacted next time, not lost', async () => {
    const hour = 7;
    for (let j = 0; j < 3; j++) await send(ids(`s${j}-`, 5), hour);
    const racing = rt.compaction({}, async (step) => {
      if (step === 'manifest') await send(['straggler'], hour); // catalog still points at version 0
    });
    const first = await compactPartition('page_view', { dt: '2026-11-19', hour }, racing);
    assert.equal(first.rowsOut, 15);
    const second = await compactPartition('page_view', { dt: '2026-11-19', hour }, rt.compaction());
    assert.equal(second.outcome, 'compacted');
    assert.equal(second.version, 2);
    assert.ok((await lakeIds(hour)).includes('straggler'));
    now += 61 * 60_000;
    await compactPartition('page_view', { dt: '2026-11-19', hour }, rt.compaction());
    assert.ok((await lakeIds(hour)).includes('straggler'), 'retention deleted only superseded files');
    assert.equal((await lakeIds(hour)).length, 16);
  });

  it('deletes what a compaction late in the lookback superseded, after the partition has left the lookback', async () => {
    const hour = 15;
    await send(ids('late-', 10), hour);
    await send(ids('late-', 10), hour); // a redelivery: two files
    const end = Date.parse(at(hour + 1));
    const lookbackMs = now - end + 10 * 60_000; // hour 15 is 10 minutes inside the lookback
    const [first] = await compactClosedPartitions(rt.compaction(), { tables: ['page_view'], dt: '2026-11-19', lookbackMs });
    assert.deepEqual([first!.hour, first!.outcome], [hour, 'compacted']);
    now += 2 * 3_600_000; // past the retention delay, and the partition past the lookback
    const results = await compactClosedPartitions(rt.compaction(), { tables: ['page_view'], dt: '2026-11-19', lookbackMs });
    assert.deepEqual(results.map((r) => [r.hour, r.outcome, r.detail, r.filesDeleted]), [[hour, 'skipped', 'past the lookback: cleanup only', 2]]);
    const prefix = partitionPrefix('page_view', '2026-11-19', hour);
    assert.deepEqual((await rt.store.list(prefix)).filter((k) => k.endsWith('.parquet')), [`${prefix}_v0001/part-00000.parquet`]);
  });

  it('skips a settled partition without a request of its own, and compacts it again when a late file lands', async () => {
    const hour = 17;
    await send(ids('settle-', 10), hour);
    await send(ids('settle-', 10), hour);
    const opts = { tables: ['page_view'], dt: '2026-11-19' };
    const base = rt.compaction();
    const calls = { list: 0, get: 0, catalog: 0 };
    // Counts the calls of an adapter's methods, the adapter itself unchanged.
    const counting = <T extends object>(target: T, count: (method: string) => void): T => new Proxy(target, {
      get: (t, k) => { const v = Reflect.get(t, k) as unknown; return typeof v === 'function' ? (...a: unknown[]) => { count(String(k)); return (v as (...x: unknown[]) => unknown).apply(t, a); } : v; },
    });
    const counted = {
      ...base,
      store: counting(base.store, (m) => { if (m === 'list') calls.list++; if (m === 'get') calls.get++; }),
      catalog: counting(base.catalog, () => { calls.catalog++; }),
    };
    const runOf = async (): Promise<Map<number, string>> => new Map((await compactClosedPartitions(counted, opts)).map((r) => [r.hour, `${r.outcome}: ${r.detail}`]));
    assert.match((await runOf()).get(hour)!, /^compacted/);
    now += 61 * 60_000;
    await runOf(); // past the retention delay: the superseded files go
    const before = { ...calls };
    const settled = await runOf();
    const partitions = [...settled.values()].length;
    assert.ok(partitions >= 5, `the run visits every closed hour of the day (${partitions})`);
    assert.equal(settled.get(hour), 'skipped: already compacted');
    assert.deepEqual({ list: calls.list - before.list, get: calls.get - before.get, catalog: calls.catalog - before.catalog }, { list: 1, get: 0, catalog: 3 },
      'one LIST for the table; the catalog read for the tables, the table and its partitions: nothing per partition');
    // A late event lands in the compacted version's folder: the partition is no longer settled.
    const [late] = await send(['settle-late'], hour);
    assert.match(late!, /_v0001\/web\+/);
    assert.match((await runOf()).get(hour)!, /^compacted/);
    assert.equal((await partitionState(hour)).version, 2);
    assert.deepEqual(await lakeIds(hour), [...distinct(ids('settle-', 10)), 'settle-late'].sort());
  });
});
