// The ab-daily aggregation at scale (docs/jobs.md, docs/benchmarks.md): N exposures and N/10 purchases generated inside chDB
// with numbers(), then the day's query, timed. Run: node --import tsx bench/ab-daily-scale.ts 10000000
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openChdbWarehouse } from '../functions/adapters/warehouse/chdb.js';
import { parseDeclaredSchema } from '../functions/core/schema/declared-schema.js';
import { parseAbConfig } from '../functions/core/ab/config.js';
import { abAggregateSql } from '../functions/core/ab/query.js';
import { STANDARD_COLUMNS } from '../functions/core/schema/model.js';
const N = Number(process.argv[2] ?? 1_000_000);
const { warehouse } = await openChdbWarehouse(mkdtempSync(join(tmpdir(), 'abscale-')));
await warehouse.ensureTable(parseDeclaredSchema('experiment_exposure', { properties: { experiment_id: { type: 'string', 'x-low-cardinality': true }, variant: { type: 'string', 'x-low-cardinality': true } } }));
await warehouse.ensureTable(parseDeclaredSchema('purchase', { properties: { price: { type: 'number' } } }));
const day = "toDateTime64('2026-11-20 00:00:00', 3, 'UTC')";
let t = performance.now();
await warehouse.client.command({ query: `INSERT INTO tributary.experiment_exposure (event_id, event_time, user_id, received_at, _topic, _partition, _offset, dt, hour, experiment_id, variant)
  SELECT toString(number), ${day} + toIntervalMillisecond(number * 8), toString(cityHash64(number) % ${Math.floor(N / 3)}), now64(3), 't', 0, number, toDate('2026-11-20'), 0,
         ['exp_a','exp_b'][number % 2 + 1], ['control','treat'][cityHash64(cityHash64(number) % ${Math.floor(N / 3)}) % 2 + 1]
  FROM numbers(${N})` });
await warehouse.client.command({ query: `INSERT INTO tributary.purchase (event_id, event_time, user_id, received_at, _topic, _partition, _offset, dt, hour, price)
  SELECT toString(number), ${day} + toIntervalMillisecond(number * 80 + 1000), toString(cityHash64(number + 7) % ${Math.floor(N / 3)}), now64(3), 't', 0, number, toDate('2026-11-20'), 0, (number % 1000) / 10
  FROM numbers(${Math.floor(N / 10)})` });
console.log(`loaded ${N} exposures, ${N / 10} purchases in ${((performance.now() - t) / 1000).toFixed(1)} s`);
const cfg = parseAbConfig({ exposure_event: 'experiment_exposure', metrics: [{ name: 'conversion', event: 'purchase', type: 'conversion' }, { name: 'revenue', event: 'purchase', type: 'sum', value: 'price' }] });
const cols = new Map([...STANDARD_COLUMNS.map((c) => [c.name, c.type] as const), ['price', 'double' as const]]);
t = performance.now();
const rows = await warehouse.query(abAggregateSql('tributary', cfg, () => cols), { window_end: '2026-11-21 00:00:00.000' });
console.log(`ab-daily aggregation: ${rows.length} rows in ${((performance.now() - t) / 1000).toFixed(1)} s, peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
await warehouse.close();
