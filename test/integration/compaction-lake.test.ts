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

describe('compacted doubles', () => {
  let lake: LocalRuntime;
  let offset = 0;
  const clock = NOW + 3_600_000;
  before(async () => {
    lake = await openLocalRuntime({ home: mkdtempSync(join(tmpdir(), 'tributary-zero-')), schemasDir: join(PACKAGE_ROOT, 'schemas/events'), clock: () => clock });
  });
  after(async () => lake.close());

  // JSON text keeps -0.0 (JSON.stringify(-0) would write 0).
  const json = (v: number): string => (Object.is(v, -0) ? '-0.0' : String(v));
  const expected = new Map<string, number>();
  /** Records of one hour, values cycling through `cycle` by event time, sent in three batches (three files). */
  const sendHour = async (hour: number, cycle: readonly number[]): Promise<void> => {
    const all = Array.from({ length: 300 }, (_, i) => {
      const id = `h${hour}-${String(i).padStart(3, '0')}`;
      const v = cycle[i % cycle.length]!;
      expected.set(id, v);
      const ts = new Date(Date.UTC(2026, 10, 19, hour, 0, 0, 0) + i * 1000).toISOString();
      return `{"event":"measure","event_id":"${id}","ts":"${ts}","user_id":"u1","properties":{"v":${json(v)}}}`;
    });
    for (let b = 0; b < 3; b++) {
      await ingestBatch(mskEvent(all.filter((_, i) => i % 3 === b), { topic: 'zero', firstOffset: offset }), lake.deps);
      offset += 100;
    }
  };
  const statsOf = async (path: string): Promise<Array<{ lo: string; hi: string }>> =>
    (await duckRows(`SELECT stats_min_value AS lo, stats_max_value AS hi FROM parquet_metadata('${path}') WHERE path_in_schema = 'v'`)) as Array<{ lo: string; hi: string }>;
  /** Parquet's rule: a zero min is written -0.0, a zero max +0.0. */
  const obeysZeroRule = (s: { lo: string; hi: string }): boolean => (Number(s.lo) !== 0 || s.lo === '-0.0') && (Number(s.hi) !== 0 || s.hi === '0.0');

  it('keep every value bit-exact, -0.0 included, with statistics per the signed-zero rule, and DuckDB finds every zero', async () => {
    await ingestBatch(mskEvent(['{"event":"measure","event_id":"first","ts":"2026-11-19T00:10:00Z","user_id":"u1","properties":{"v":1.5}}'], { topic: 'zero', firstOffset: offset++ }), lake.deps);
    expected.set('first', 1.5);
    await sendHour(1, [0, -0, 1.5]); // DuckDB meets +0 first: it would write min 0.0
    await sendHour(2, [-0, 0, -2.5]); // -0 first: it would write max -0.0
    await sendHour(3, [0, -5, 7]); // no -0: dictionary-encoded, and its bloom filter would hash only +0

    // Tributary's own files already follow the rule.
    for (const hour of [1, 2]) {
      for (const key of (await lake.store.list(`lake/measure/dt=2026-11-19/hour=0${hour}/`)).filter((k) => k.endsWith('.parquet'))) {
        for (const s of await statsOf(tempParquet((await lake.store.get(key))!))) assert.ok(obeysZeroRule(s), `${key}: ${JSON.stringify(s)}`);
      }
    }

    const results = await compactClosedPartitions(lake.compaction(), { tables: ['measure'] });
    assert.deepEqual(results.filter((r) => r.outcome === 'compacted').map((r) => r.hour), [0, 1, 2, 3]);
    for (const hour of [1, 2, 3]) {
      const path = tempParquet((await lake.store.get(`${versionPrefix('measure', '2026-11-19', hour, 1)}part-00000.parquet`))!);
      const rows = await duckRows(`SELECT event_id, v FROM read_parquet('${path}')`);
      assert.equal(rows.length, 300);
      for (const r of rows) {
        const want = expected.get(String(r['event_id']))!;
        assert.ok(Object.is(r['v'], want), `hour ${hour} ${String(r['event_id'])}: ${String(r['v'])} is not ${json(want)}`);
      }
      const stats = await statsOf(path);
      for (const s of stats) assert.ok(obeysZeroRule(s), `hour ${hour}: ${JSON.stringify(s)}`);
      const zeros = [...expected].filter(([id, v]) => id.startsWith(`h${hour}-`) && v === 0).length;
      for (const literal of ['0', "'-0.0'::DOUBLE"]) {
        const [found] = await duckRows(`SELECT count(*) AS n FROM read_parquet('${path}') WHERE v = ${literal}`);
        assert.equal(Number(found!['n']), zeros, `hour ${hour}: v = ${literal} finds every zero`);
      }
    }
    assert.deepEqual((await statsOf(tempParquet((await lake.store.get(`${versionPrefix('measure', '2026-11-19', 1, 1)}part-00000.parquet`))!))).map((s) => [s.lo, s.hi]), [['-0.0', '1.5']]);
    assert.deepEqual((await statsOf(tempParquet((await lake.store.get(`${versionPrefix('measure', '2026-11-19', 2, 1)}part-00000.parquet`))!))).map((s) => [s.lo, s.hi]), [['-2.5', '0.0']]);
  });
  it('hold timestamps as INT64 adjusted to UTC: MILLIS as ingest writes them, MICROS after compaction (no INT96: docs, item 15)', async () => {
    const schemaOf = async (bytes: Uint8Array): Promise<string[]> =>
      (await duckRows(`SELECT name, type, logical_type FROM parquet_schema('${tempParquet(bytes)}') WHERE name IN ('event_time', 'received_at') ORDER BY name`))
        .map((r) => `${String(r['name'])}:${String(r['type'])}:${/isAdjustedToUTC=(true|1)/.test(String(r['logical_type'])) ? 'UTC' : 'local'}:${/MILLIS=MilliSeconds/.test(String(r['logical_type'])) ? 'MILLIS' : /MICROS=MicroSeconds/.test(String(r['logical_type'])) ? 'MICROS' : '?'}`);
    const raw = (await lake.store.list('lake/measure/dt=2026-11-19/hour=01/')).find((k) => /\/zero\+0\+\d+-\d+\.parquet$/.test(k))!;
    assert.deepEqual(await schemaOf((await lake.store.get(raw))!), ['event_time:INT64:UTC:MILLIS', 'received_at:INT64:UTC:MILLIS']);
    assert.deepEqual(await schemaOf((await lake.store.get(`${versionPrefix('measure', '2026-11-19', 1, 1)}part-00000.parquet`))!), ['event_time:INT64:UTC:MICROS', 'received_at:INT64:UTC:MICROS']);
  });
});
