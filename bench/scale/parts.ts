// Active parts in ClickHouse after a simulated minute of inserts at a given rate per table, measured in the
// local chDB warehouse (the real ClickHouseWarehouse adapter, the table as ingest creates it), through
// system.parts. The minute is compressed: inserts go in as fast as chDB takes them, so merges get less
// wall time than in a real minute and the count is an upper estimate of a real minute's.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openChdbWarehouse } from '../../functions/adapters/warehouse/chdb.js';
import { tableColumns, type TableSchema } from '../../functions/core/schema/model.js';

export interface PartsResult {
  readonly insertsPerS: number;
  readonly inserts: number;
  /** largest number of active parts in one partition right after the minute, and 5 s later */
  readonly activeParts: number;
  readonly activePartsAfter5s: number;
  readonly seconds: number;
}

export interface PartsLimits { readonly partsToDelayInsert: number; readonly partsToThrowInsert: number }

export async function measureParts(schema: TableSchema, sample: Uint8Array, rates: readonly number[]): Promise<{ results: PartsResult[]; limits: PartsLimits }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-scale-chdb-'));
  const { warehouse, raw } = await openChdbWarehouse(join(dir, 'clickhouse'));
  try {
    const limitsText = (await raw.queryAsync(
      "SELECT name, value FROM system.merge_tree_settings WHERE name IN ('parts_to_delay_insert', 'parts_to_throw_insert') FORMAT JSONEachRow",
    )).text();
    const limits = new Map(limitsText.trim().split('\n').filter(Boolean).map((l) => { const o = JSON.parse(l) as { name: string; value: string }; return [o.name, Number(o.value)]; }));
    const results: PartsResult[] = [];
    for (const [i, rate] of rates.entries()) {
      const table: TableSchema = { ...schema, table: `parts_${i}` };
      await warehouse.ensureTable(table);
      const inserts = Math.max(1, Math.round(rate * 60));
      const t = performance.now();
      for (let n = 0; n < inserts; n++) await warehouse.insertParquet(table.table, tableColumns(table), { key: `bench-${n}`, bytes: sample }, `bench-${i}-${n}`);
      const seconds = (performance.now() - t) / 1000;
      const parts = async (): Promise<number> => {
        const text = (await raw.queryAsync(
          `SELECT max(c) AS m FROM (SELECT partition, count() AS c FROM system.parts WHERE active AND database = 'tributary' AND table = '${table.table}' GROUP BY partition) FORMAT JSONEachRow`,
        )).text();
        return Number((JSON.parse(text.trim() || '{"m":0}') as { m: number }).m);
      };
      const activeParts = await parts();
      await new Promise((r) => setTimeout(r, 5000));
      results.push({ insertsPerS: rate, inserts, activeParts, activePartsAfter5s: await parts(), seconds });
    }
    return { results, limits: { partsToDelayInsert: limits.get('parts_to_delay_insert') ?? NaN, partsToThrowInsert: limits.get('parts_to_throw_insert') ?? NaN } };
  } finally {
    await warehouse.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(`${join(dir, 'clickhouse')}.scratch`, { recursive: true, force: true });
  }
}
