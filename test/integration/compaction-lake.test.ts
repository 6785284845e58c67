// What compaction makes of the lake as other engines read it: partitions a schema change left behind,
// any age (issue 22, item 13). One local runtime per process (chDB), hence a file of its own.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCompact } from '../../functions/cli/commands/compact.js';
import { openLocalRuntime, PACKAGE_ROOT, type LocalRuntime } from '../../functions/cli/local-runtime.js';
import { compactClosedPartitions } from '../../functions/core/lake/compact-partition.js';
import { versionPrefix } from '../../functions/core/lake/layout.js';
import { ingestBatch } from '../../functions/core/ingest.js';
import { duckRows, tempParquet } from '../duckdb.js';
import { mskEvent, NOW } from '../helpers.js';

describe('compaction reaches every partition that still needs it', () => {
  let lake: LocalRuntime;
  let clock = NOW;
  let offset = 0;
  before(async () => {
    lake = await openLocalRuntime({ home: mkdtempSync(join(tmpdir(), 'tributary-lag-')), schemasDir: join(PACKAGE_ROOT, 'schemas/events'), clock: () => clock });
  });
  after(async () => lake.close());

  const OLD = '2026-11-01'; // 18 days before NOW: outside the 7-day lookback
  const send = async (ts: string, properties: Record<string, unknown>): Promise<void> => {
    await ingestBatch(mskEvent([{ event: 'reading', event_id: `r${offset}`, ts, user_id: 'u1', properties }], { topic: 'lag', firstOffset: offset }), lake.deps);
    offset += 1;
  };
  const columnTypes = async (dt: string, hour: number): Promise<string[]> => {
    const state = (await lake.catalog.listPartitions('reading')).find((p) => p.dt === dt && p.hour === hour)!;
    return state.columns!.map((c) => `${c.name}:${c.type}`).filter((c) => /^(score|referrer|device):/.test(c)).sort();
  };
  const fileTypes = async (key: string): Promise<string[]> => {
    const rows = await duckRows(`SELECT name, type FROM parquet_schema('${tempParquet((await lake.store.get(key))!)}') WHERE name IN ('score', 'referrer') ORDER BY name`);
    return rows.map((r) => `${String(r['name'])}:${String(r['type'])}`);
  };

  it('rewrites an old hour that a schema change left behind (column added, int64 widened to double), whatever its age', async () => {
    await send(`${OLD}T10:05:00Z`, { score: 1 });
    await send(`${OLD}T10:06:00Z`, { score: 2 });
    // An hour compacted long ago, then left alone by the lookback.
    const { results: [first] } = await runCompact(lake, { date: OLD, graceMinutes: 15, targetMb: 256, retentionMinutes: 60 });
    assert.equal(first!.outcome, 'compacted');
    assert.deepEqual(await compactClosedPartitions(lake.compaction()), [], 'outside the lookback and in step: not visited');

    // Today's data widens score and adds referrer: the old hour's partition still says bigint, no referrer.
    await send('2026-11-19T10:10:00Z', { score: 2.5, referrer: 'mail' });
    assert.deepEqual(await columnTypes(OLD, 10), ['score:int64']);

    const results = await compactClosedPartitions(lake.compaction());
    const old = results.find((r) => r.dt === OLD && r.hour === 10)!;
    assert.equal(old.outcome, 'compacted', old.detail);
    assert.match(old.detail, /rewritten with the table's column types/);
    assert.equal(old.version, 2);
    assert.deepEqual(await columnTypes(OLD, 10), ['referrer:string', 'score:double'], 'the partition reads as the table does');
    assert.deepEqual(await fileTypes(`${versionPrefix('reading', OLD, 10, 2)}part-00000.parquet`), ['referrer:BYTE_ARRAY', 'score:DOUBLE'], 'and so do its files');
    await lake.refreshLakeViews();
    const rows = await lake.warehouse.query<{ score: number }>(`SELECT score FROM lake.reading WHERE dt = '${OLD}' ORDER BY score`);
    assert.deepEqual(rows.map((r) => Number(r.score)), [1, 2]);

    // In step now: the next run leaves it alone.
    assert.equal((await compactClosedPartitions(lake.compaction())).filter((r) => r.dt === OLD && r.outcome !== 'skipped').length, 0);
  });

  it('gives an old hour a column added since in the catalog alone: its files lack it and read as NULL', async () => {
    await send('2026-11-19T10:20:00Z', { score: 5.5, device: 'ios' });
    const results = await compactClosedPartitions(lake.compaction());
    assert.deepEqual(results.filter((r) => r.dt === OLD).map((r) => [r.hour, r.outcome, r.version]), [[10, 'updated', 2]], 'no rewrite');
    assert.deepEqual(await columnTypes(OLD, 10), ['device:string', 'referrer:string', 'score:double']);
    await lake.refreshLakeViews();
    const rows = await lake.warehouse.query<{ n: string }>(`SELECT count(*) AS n FROM lake.reading WHERE dt = '${OLD}' AND device IS NULL`);
    assert.equal(Number(rows[0]!.n), 2);
  });

  it('`compact --date` compacts a date older than the lookback', async () => {
    const day = '2026-11-02';
    await send(`${day}T07:00:00Z`, { score: 3.5, referrer: 'ads' });
    await send(`${day}T07:01:00Z`, { score: 4.5, referrer: 'ads' });
    assert.equal((await compactClosedPartitions(lake.compaction())).filter((r) => r.dt === day).length, 0, 'the lookback leaves it alone');
    const { results } = await runCompact(lake, { date: day, graceMinutes: 15, targetMb: 256, retentionMinutes: 60 });
    assert.deepEqual(results.map((r) => [r.dt, r.hour, r.outcome, r.filesBefore, r.filesAfter]), [[day, 7, 'compacted', 2, 1]]);
  });
});
