// The windowed-job framework with an hourly job defined in the test: windows that have started run,
// each hour's results replace that hour in ClickHouse and in the lake, re-runs and late data included.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openLocalRuntime, type LocalRuntime } from '../../functions/cli/local-runtime.js';
import type { CellValue } from '../../functions/core/batch/coerce.js';
import { compactClosedPartitions } from '../../functions/core/lake/compact-partition.js';
import { ingestBatch } from '../../functions/core/ingest.js';
import type { JobDefinition } from '../../functions/core/jobs/job.js';
import { runJobDay } from '../../functions/core/jobs/run-job.js';
import type { ColumnSpec } from '../../functions/core/schema/model.js';
import { mskEvent, pageView } from '../helpers.js';

const D = '2026-11-19';
const at = (h: number, m = 0): number => Date.parse(`${D}T00:00:00Z`) + h * 3_600_000 + m * 60_000;
let rt: LocalRuntime;
let now = at(11, 30);
let offset = 0;

const col = (name: string, type: ColumnSpec['type']): ColumnSpec => ({ name, type, nullable: false, origin: 'declared' });
const hourly: JobDefinition = {
  name: 'page-views-hourly',
  window: 'hourly',
  latenessMs: 10 * 60_000,
  sources: ['page_view'],
  output: { table: 'page_views_hourly', columns: [col('page', 'string'), col('views', 'int64'), col('is_final', 'boolean')], partitionKeys: [col('dt', 'date'), col('hour', 'int32')], description: 'test job' },
  orderBy: ['page'],
  async compute(ctx): Promise<CellValue[][]> {
    const rows = await ctx.warehouse.query<{ page: string; views: string }>(
      `SELECT page, count() AS views FROM ${ctx.warehouse.database}.page_view FINAL
       WHERE event_time >= fromUnixTimestamp64Milli({start:Int64}) AND event_time < fromUnixTimestamp64Milli({end:Int64}) GROUP BY page ORDER BY page`,
      { start: ctx.window.start, end: ctx.window.end });
    return rows.map((r) => [r.page, Number(r.views), ctx.isFinal]);
  },
};

async function send(hour: number, pages: string[]): Promise<void> {
  const events = pages.map((page, i) => pageView(`h${hour}-${offset + i}`, { page }, new Date(at(hour, i % 60)).toISOString()));
  await ingestBatch(mskEvent(events, { topic: 'jobs', firstOffset: offset }), rt.deps);
  offset += pages.length;
}

const results = (): Promise<Array<{ hour: number; page: string; views: string; is_final: boolean }>> =>
  rt.warehouse.query(`SELECT hour, page, views, is_final FROM tributary.page_views_hourly ORDER BY hour, page`);

before(async () => {
  rt = await openLocalRuntime({ home: mkdtempSync(join(tmpdir(), 'tributary-jobs-')), schemasDir: join(tmpdir(), 'no-schemas'), clock: () => now });
});
after(async () => rt.close());

describe('windowed jobs', () => {
  it('an hourly job runs the hours that started; closed ones are final, the current one provisional', async () => {
    await send(9, ['/a', '/a', '/b']);
    await send(10, ['/a']);
    await send(11, ['/c', '/c']);
    const runs = await runJobDay(hourly, D, { ...rt.deps, registry: rt.registry });
    assert.deepEqual(runs.map((r) => r.window), Array.from({ length: 12 }, (_, h) => `${D}T${String(h).padStart(2, '0')}`));
    assert.deepEqual(runs.map((r) => r.isFinal), [...Array(11).fill(true), false]);
    assert.deepEqual((await results()).map((r) => [r.hour, r.page, Number(r.views), r.is_final]), [[9, '/a', 2, true], [9, '/b', 1, true], [10, '/a', 1, true], [11, '/c', 2, false]]);
    const parts = await rt.catalog.listPartitions('page_views_hourly');
    assert.equal(parts.length, 12);
    assert.ok(parts.every((p) => p.hour !== undefined));
    assert.ok((await rt.store.list(`lake/page_views_hourly/dt=${D}/hour=09/`)).includes(`lake/page_views_hourly/dt=${D}/hour=09/part-00000.parquet`));
  });

  it('a re-run with late data replaces exactly its hours, with no second copy', async () => {
    now = at(12, 5);
    await send(10, ['/a', '/d']); // late for hour 10
    await runJobDay(hourly, D, { ...rt.deps, registry: rt.registry });
    const rows = await results();
    assert.deepEqual(rows.map((r) => [r.hour, r.page, Number(r.views), r.is_final]), [[9, '/a', 2, true], [9, '/b', 1, true], [10, '/a', 2, true], [10, '/d', 1, true], [11, '/c', 2, false], ]);
    await runJobDay(hourly, D, { ...rt.deps, registry: rt.registry });
    assert.deepEqual(await results(), rows);
    await rt.refreshLakeViews();
    assert.deepEqual(await rt.warehouse.query(`SELECT toUInt32(sum(views)) AS v FROM lake.page_views_hourly`), [{ v: 8 }]);
  });

  it('leaves an hourly job\'s output to its job: compaction works on event tables only', async () => {
    const results = await compactClosedPartitions(rt.compaction(), { graceMs: 0 });
    assert.ok(results.length > 0, 'the event tables were compacted');
    assert.ok(results.every((r) => r.table !== 'page_views_hourly'));
    assert.deepEqual(await compactClosedPartitions(rt.compaction(), { graceMs: 0, tables: ['page_views_hourly'] }), []);
    assert.ok((await rt.catalog.listPartitions('page_views_hourly')).every((p) => !p.location.includes('_v0')));
    await rt.refreshLakeViews();
    assert.deepEqual(await rt.warehouse.query(`SELECT toUInt32(sum(views)) AS v FROM lake.page_views_hourly`), [{ v: 8 }]);
  });

  it('refuses a day that has not started', async () => {
    await assert.rejects(runJobDay(hourly, '2026-11-21', { ...rt.deps, registry: rt.registry }), /has not started yet/);
  });
});
