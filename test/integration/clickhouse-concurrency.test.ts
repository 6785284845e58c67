// Several ingest containers syncing one ClickHouse table at once: the production adapter over HTTP to a
// chDB-backed ClickHouse endpoint, one adapter (and cache) per container.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClickHouseClient } from '@clickhouse/client';
import { ClickHouseWarehouse } from '../../functions/adapters/warehouse/clickhouse.js';
import { ColumnBuffers } from '../../functions/core/batch/column-buffers.js';
import { encodeParquet } from '../../functions/core/parquet/lake-file.js';
import { emptySchema, tableColumns, type ColumnSpec, type TableSchema } from '../../functions/core/schema/model.js';
import { clickHouseClients } from '../clickhouse-http.js';

const { client, server } = clickHouseClients();
const prop = (name: string, type: ColumnSpec['type'] = 'string'): ColumnSpec => ({ name, type, nullable: true, origin: 'inferred' });
const version = (table: string, ...properties: ColumnSpec[]): TableSchema => ({ ...emptySchema(table, 'inferred'), properties });
const columnsOf = async (w: ClickHouseWarehouse, table: string): Promise<string[]> =>
  (await w.query<{ name: string }>(`SELECT name FROM system.columns WHERE database = 'tributary' AND table = '${table}' ORDER BY position`)).map((r) => r.name);

describe('ClickHouse tables synced by several containers', () => {
  it('a container whose CREATE TABLE lost the race to another reads the columns that are there and adds its own', async () => {
    const v1 = version('race', prop('x'));
    const v2 = version('race', prop('x'), prop('y'));
    const a = new ClickHouseWarehouse(client(), { database: 'tributary' });
    // B looks the table up, finds none, and A creates it (without y) before B's CREATE TABLE IF NOT EXISTS.
    const inner = client();
    let raced = false;
    const racing = new Proxy(inner, {
      get(target, p) {
        if (p === 'query') {
          return async (params: Parameters<ClickHouseClient['query']>[0]) => {
            const rs = await target.query(params);
            if (!raced && String(params.query).includes('system.columns')) { raced = true; await a.ensureTable(v1); }
            return rs;
          };
        }
        const v = Reflect.get(target, p) as unknown;
        return typeof v === 'function' ? (v as (...args: unknown[]) => unknown).bind(target) : v;
      },
    });
    const b = new ClickHouseWarehouse(racing, { database: 'tributary' });
    await b.ensureTable(v2);
    assert.ok(raced);
    assert.deepEqual((await columnsOf(b, 'race')).slice(-2), ['x', 'y']);
    const now = Date.now(); // within the table's TTL
    const row = ['e1', now, 'u', now, 't', 0, 1, Math.floor(now / 86_400_000), new Date(now).getUTCHours(), 'xv', 'yv'];
    const bytes = await encodeParquet(ColumnBuffers.fromRows(tableColumns(v2), [row]));
    await b.insertParquet('race', tableColumns(v2), { key: 'k', bytes }, 'race-1');
    assert.deepEqual(await b.query('SELECT x, y FROM tributary.race_dedup'), [{ x: 'xv', y: 'yv' }]);
  });

  it('a container that widens a column another one added meanwhile makes the server column wide too', async () => {
    const a = new ClickHouseWarehouse(client(), { database: 'tributary' });
    const b = new ClickHouseWarehouse(client(), { database: 'tributary' });
    await b.ensureTable(version('widen', prop('other'))); // B caches the table's columns
    await a.ensureTable(version('widen', prop('other'), prop('n', 'int64'))); // A adds n as Int64
    const v = version('widen', prop('other'), prop('n', 'double')); // B's batch widened n to double
    await b.ensureTable(v);
    const [n] = await b.query<{ type: string }>("SELECT type FROM system.columns WHERE database = 'tributary' AND table = 'widen' AND name = 'n'");
    assert.equal(n!.type, 'Nullable(Float64)');
    const now = Date.now();
    const row = ['e1', now, 'u', now, 't', 0, 1, Math.floor(now / 86_400_000), new Date(now).getUTCHours(), 'o', 0.5];
    await b.insertParquet('widen', tableColumns(v), { key: 'k', bytes: await encodeParquet(ColumnBuffers.fromRows(tableColumns(v), [row])) }, 'widen-1');
    assert.deepEqual(await b.query('SELECT n FROM tributary.widen'), [{ n: 0.5 }], 'not cast down to 0');
  });

  it('a container on an older schema version keeps the columns a newer one added in the views', async () => {
    const newer = new ClickHouseWarehouse(client(), { database: 'tributary' });
    const older = new ClickHouseWarehouse(client(), { database: 'tributary' });
    await newer.ensureTable(version('stale', prop('x', 'int64'), prop('coupon')));
    await older.ensureTable(version('stale', prop('x', 'int64')));
    const view = await newer.query<{ name: string }>("SELECT name FROM system.columns WHERE database = 'tributary' AND table = 'stale_dedup' ORDER BY position");
    assert.deepEqual(view.map((r) => r.name).slice(-2), ['x', 'coupon']);
  });
});
