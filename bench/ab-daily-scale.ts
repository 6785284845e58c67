// ab-daily at scale (docs/benchmarks.md#ab-daily-at-scale): N cumulative exposures over DAYS days and N/10
// purchases, generated inside chDB with numbers(); then the last day computed two ways, each in its own
// process (so its peak RSS is its own): `scan`, the previous query over every exposure since the first, and
// `incremental`, that day's assignment rows (one day of exposures) plus the assignments table.
// The assignments of the days before are built first, as the daily runs would have (timed apart).
// Run: node --import tsx bench/ab-daily-scale.ts 10000000 [days=30] [scan memory cap GB=8]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openChdbWarehouse } from '../functions/adapters/warehouse/chdb.js';
import { createAssignmentsSql, refreshAssignmentDay, staleDays } from '../functions/core/ab/assignments.js';
import { parseAbConfig } from '../functions/core/ab/config.js';
import { abAggregateSql, crossoverSql, type AssignmentSource } from '../functions/core/ab/query.js';
import { parseDeclaredSchema } from '../functions/core/schema/declared-schema.js';
import { STANDARD_COLUMNS } from '../functions/core/schema/model.js';

const cfg = parseAbConfig({ exposure_event: 'experiment_exposure', metrics: [{ name: 'conversion', event: 'purchase', type: 'conversion' }, { name: 'revenue', event: 'purchase', type: 'sum', value: 'price' }] });
const cols = new Map([...STANDARD_COLUMNS.map((c) => [c.name, c.type] as const), ['price', 'double' as const]]);
const FIRST = Date.parse('2026-11-01T00:00:00Z');
const date = (d: number): string => new Date(FIRST + d * 86_400_000).toISOString().slice(0, 10);
const seconds = (t: number): string => ((performance.now() - t) / 1000).toFixed(1);

async function measure(dir: string, source: AssignmentSource, day: string, capGb: number): Promise<void> {
  const { warehouse } = await openChdbWarehouse(dir);
  const t = performance.now();
  const params = { window_end: `${date(Math.round((Date.parse(day) - FIRST) / 86_400_000) + 1)} 00:00:00.000`, day };
  let stale = 0;
  if (source === 'assignments') {
    const days = await staleDays(warehouse, cfg, day);
    stale = days.length;
    await refreshAssignmentDay(warehouse as Parameters<typeof refreshAssignmentDay>[0], cfg, day);
  }
  // A cap, so a query that does not fit fails instead of the machine (shared) running out of memory.
  const capped = (sql: string): string => `${sql}\nSETTINGS max_memory_usage = ${capGb * 1024 ** 3}`;
  const rows = await warehouse.query<Record<string, unknown>>(capped(abAggregateSql('tributary', cfg, () => cols, source)), params);
  const crossovers = await warehouse.query<Record<string, unknown>>(capped(crossoverSql('tributary', cfg, source)), params);
  console.log(JSON.stringify({ seconds: (performance.now() - t) / 1000, rssMb: process.resourceUsage().maxRSS / 1024, stale, rows: [...rows, ...crossovers] }));
  await warehouse.close();
}

async function main(): Promise<void> {
  const [n, daysArg, capArg] = process.argv.slice(2);
  if (n === 'measure') {
    const [dir, source, day, cap] = process.argv.slice(3);
    return measure(dir!, source as AssignmentSource, day!, Number(cap));
  }
  const N = Number(n ?? 1_000_000);
  const DAYS = Number(daysArg ?? 30);
  const capGb = Number(capArg ?? 8);
  // ⅓ as many users as exposures by default (as the 2026-11-21 figures); BENCH_EXPOSURES_PER_USER=30 for a user exposed about daily
  const users = Math.floor(N / Number(process.env['BENCH_EXPOSURES_PER_USER'] ?? 3));
  const perDay = Math.ceil(N / DAYS);
  const dir = mkdtempSync(join(tmpdir(), 'abscale-'));
  try {
    const { warehouse } = await openChdbWarehouse(join(dir, 'ch'));
    await warehouse.ensureTable(parseDeclaredSchema('experiment_exposure', { properties: { experiment_id: { type: 'string', 'x-low-cardinality': true }, variant: { type: 'string', 'x-low-cardinality': true } } }));
    await warehouse.ensureTable(parseDeclaredSchema('purchase', { properties: { price: { type: 'number' } } }));
    let t = performance.now();
    // Exposures spread evenly over the days; a user's variant is fixed per user (no crossovers), ~3 exposures per user.
    const time = (i: string, per: number): string => `toDateTime64('${date(0)} 00:00:00', 3, 'UTC') + toIntervalMillisecond(intDiv(${i}, ${per}) * 86400000 + (${i} % ${per}) * intDiv(86400000, ${per}))`;
    await warehouse.client.command({ query: `INSERT INTO tributary.experiment_exposure (event_id, event_time, user_id, received_at, _topic, _partition, _offset, dt, hour, experiment_id, variant)
      SELECT toString(number), ${time('number', perDay)} AS t, toString(cityHash64(number) % ${users}), now64(3), 't', 0, number, toDate(t), toHour(t),
             ['exp_a','exp_b'][number % 2 + 1], ['control','treat'][cityHash64(cityHash64(number) % ${users}) % 2 + 1]
      FROM numbers(${N})`, clickhouse_settings: { max_partitions_per_insert_block: '1000' } });
    const purchases = Math.floor(N / 10);
    await warehouse.client.command({ query: `INSERT INTO tributary.purchase (event_id, event_time, user_id, received_at, _topic, _partition, _offset, dt, hour, price)
      SELECT toString(number), ${time('number', Math.ceil(purchases / DAYS))} + toIntervalMillisecond(1000) AS t, toString(cityHash64(number + 7) % ${users}), now64(3), 't', 0, number, toDate(t), toHour(t), (number % 1000) / 10
      FROM numbers(${purchases})`, clickhouse_settings: { max_partitions_per_insert_block: '1000' } });
    console.log(`loaded ${N.toLocaleString('en')} exposures over ${DAYS} days (${users.toLocaleString('en')} users), ${purchases.toLocaleString('en')} purchases in ${seconds(t)} s`);
    t = performance.now();
    await warehouse.execute(createAssignmentsSql('tributary'));
    // What the daily runs leave behind, in one statement: with a variant fixed per user (no crossovers), a
    // day's rows are the users first exposed that day (BENCH_DAILY_BUILD=1 builds it day by day instead).
    if (process.env['BENCH_DAILY_BUILD'] === '1') for (let d = 0; d < DAYS - 1; d++) await refreshAssignmentDay(warehouse, cfg, date(d));
    else {
      await warehouse.execute(`INSERT INTO tributary.ab_assignments
        SELECT toDate(first_exposure), experiment_id, user_id, first_exposure, first_variant, first_variant, first_variant FROM (
          SELECT assumeNotNull(experiment_id) AS experiment_id, assumeNotNull(user_id) AS user_id, min(event_time) AS first_exposure, argMin(assumeNotNull(variant), event_time) AS first_variant
          FROM tributary.experiment_exposure WHERE event_time < toDateTime64('${date(DAYS - 1)} 00:00:00', 3, 'UTC') GROUP BY experiment_id, user_id)`,
      );
    }
    const [{ rows }] = await warehouse.query<{ rows: string }>('SELECT count() AS rows FROM tributary.ab_assignments') as [{ rows: string }];
    console.log(`assignments of days 1–${DAYS - 1} (what the daily runs leave): ${Number(rows).toLocaleString('en')} rows in ${seconds(t)} s`);
    await warehouse.close();

    const last = date(DAYS - 1);
    const results = new Map<string, { seconds: number; rssMb: number; stale: number; rows: unknown[] } | string>();
    for (const source of ['scan', 'assignments'] as const) {
      const child = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), 'measure', join(dir, 'ch'), source, last, String(capGb)], { encoding: 'utf8', maxBuffer: 64 << 20 });
      const line = child.stdout.split('\n').find((l) => l.startsWith('{'));
      results.set(source, line ? JSON.parse(line) : `failed: ${(child.stderr.match(/Code: \d+\. DB::Exception: [^(]*/)?.[0] ?? child.stderr.slice(-300)).trim()}`);
    }
    for (const [source, r] of results) {
      console.log(typeof r === 'string' ? `${source}: ${r}`
        : `${source === 'scan' ? 'scan of every exposure (previous)' : `incremental (day ${DAYS}: its assignment rows from its exposures, then the query over the assignments)`}: ${r.seconds.toFixed(1)} s, peak RSS ${(r.rssMb / 1024).toFixed(1)} GB`);
    }
    const scan = results.get('scan');
    const incremental = results.get('assignments');
    if (typeof scan !== 'string' && typeof incremental !== 'string') {
      // Sums may differ in the last bits (ClickHouse adds in another order): equal within 1e-9 relative.
      const same = (a: unknown, b: unknown): boolean => (typeof a === 'number' && typeof b === 'number' ? Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a))
        : typeof a === 'object' && a !== null && typeof b === 'object' && b !== null ? Object.keys(a).every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) && Object.keys(a).length === Object.keys(b).length
          : a === b);
      const equal = same(scan!.rows, incremental!.rows);
      console.log(`same results: ${equal ? 'yes' : 'NO'} (${scan!.rows.length} rows)`);
      if (!equal) console.log(JSON.stringify(scan!.rows), '\n', JSON.stringify(incremental!.rows));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
