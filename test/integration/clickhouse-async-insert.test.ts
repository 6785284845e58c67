// ClickHouse asynchronous inserts as a setting of the ingest function (CLICKHOUSE_ASYNC_INSERT=1): refused
// at cold start unless the tables are declared replicated, checked against the table's engine before the
// first insert, and sent as settings that keep the token's deduplication and wait for the write.
// chDB (ClickHouse in-process) accepts the settings but runs every insert synchronously, so what ClickHouse
// does with an asynchronous insert's token is documented (docs/clickhouse.md#asynchronous-inserts), not
// shown here; what is shown is what the adapter sends and that ClickHouse's parser takes it.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Session } from 'chdb';
import { openAwsServices } from '../../functions/adapters/aws-services.js';
import { ConfigurationError, readIngestEnvironment } from '../../functions/adapters/environment.js';
import { ASYNC_INSERT_SETTINGS, ClickHouseWarehouse } from '../../functions/adapters/warehouse/clickhouse.js';
import { ColumnBuffers } from '../../functions/core/batch/column-buffers.js';
import { encodeParquet } from '../../functions/core/parquet/lake-file.js';
import type { IngestLogEntry } from '../../functions/core/ports.js';
import { emptySchema, tableColumns, type TableSchema } from '../../functions/core/schema/model.js';
import { clickHouseClients } from '../clickhouse-http.js';

const base = { TRIBUTARY_BUCKET: 'b', TRIBUTARY_GLUE_DATABASE: 'g', CLICKHOUSE_URL: 'https://ch.example:8443', TRIBUTARY_PII_SALT: 's' };

describe('asynchronous inserts: the setting', () => {
  it('is off by default', () => {
    assert.equal(readIngestEnvironment(base).clickhouse.asyncInsert, undefined);
    assert.equal(readIngestEnvironment({ ...base, CLICKHOUSE_ASYNC_INSERT: '0' }).clickhouse.asyncInsert, undefined);
  });

  it('is refused at cold start unless the tables are declared replicated', () => {
    assert.throws(() => readIngestEnvironment({ ...base, CLICKHOUSE_ASYNC_INSERT: '1' }), (err: Error) =>
      err instanceof ConfigurationError && /CLICKHOUSE_ASYNC_INSERT=1 needs CLICKHOUSE_TABLES_REPLICATED=1/.test(err.message));
    assert.throws(() => readIngestEnvironment({ ...base, CLICKHOUSE_ASYNC_INSERT: '1', CLICKHOUSE_TABLES_REPLICATED: '0' }), /needs CLICKHOUSE_TABLES_REPLICATED=1/);
    assert.throws(() => readIngestEnvironment({ ...base, CLICKHOUSE_ASYNC_INSERT: 'true', CLICKHOUSE_TABLES_REPLICATED: '1' }), /CLICKHOUSE_ASYNC_INSERT must be 1 or 0, got "true"/);
    assert.throws(() => readIngestEnvironment({ ...base, CLICKHOUSE_ASYNC_INSERT: '1', CLICKHOUSE_TABLES_REPLICATED: 'yes' }), /CLICKHOUSE_TABLES_REPLICATED must be 1 or 0/);
    assert.equal(readIngestEnvironment({ ...base, CLICKHOUSE_ASYNC_INSERT: '1', CLICKHOUSE_TABLES_REPLICATED: '1' }).clickhouse.asyncInsert, true);
  });

  it('belongs to the fresh path: the lake path refuses it, as every ClickHouse setting', () => {
    const lake = { TRIBUTARY_BUCKET: 'b', TRIBUTARY_PII_SALT: 's', TRIBUTARY_SINKS: 'lake', TRIBUTARY_GLUE_DATABASE: 'g' };
    assert.throws(() => readIngestEnvironment({ ...lake, CLICKHOUSE_ASYNC_INSERT: '1', CLICKHOUSE_TABLES_REPLICATED: '1' }),
      /CLICKHOUSE_ASYNC_INSERT, CLICKHOUSE_TABLES_REPLICATED are set, but TRIBUTARY_SINKS=lake never reads them/);
    const fresh = readIngestEnvironment({ TRIBUTARY_BUCKET: 'b', TRIBUTARY_PII_SALT: 's', TRIBUTARY_SINKS: 'clickhouse', CLICKHOUSE_URL: 'https://ch:8443', CLICKHOUSE_ASYNC_INSERT: '1', CLICKHOUSE_TABLES_REPLICATED: '1' });
    assert.equal(fresh.clickhouse.asyncInsert, true);
  });

  it('reaches the ingest function\'s warehouse', async () => {
    const env = readIngestEnvironment({ ...base, CLICKHOUSE_PASSWORD: 'p', CLICKHOUSE_ASYNC_INSERT: '1', CLICKHOUSE_TABLES_REPLICATED: '1' });
    const on = await openAwsServices(env);
    const off = await openAwsServices(readIngestEnvironment({ ...base, CLICKHOUSE_PASSWORD: 'p' }));
    try {
      assert.equal(on.warehouse.asyncInsert, true);
      assert.equal(off.warehouse.asyncInsert, false);
    } finally {
      await on.warehouse.close();
      await off.warehouse.close();
    }
  });
});

describe('asynchronous inserts on chDB', () => {
  it('chDB takes the settings but inserts synchronously, so it cannot show ClickHouse\'s asynchronous deduplication', async () => {
    const session = new Session(join(mkdtempSync(join(tmpdir(), 'tributary-async-')), 'db'));
    try {
      const q = async (sql: string): Promise<string> => (await session.queryAsync(sql, { format: 'TSV' })).text().trim();
      await q('CREATE TABLE t (a UInt32) ENGINE = MergeTree ORDER BY a SETTINGS non_replicated_deduplication_window = 100');
      // Not even waiting: a buffered insert would not be visible yet.
      await q("INSERT INTO t SETTINGS async_insert = 1, wait_for_async_insert = 0, async_insert_busy_timeout_max_ms = 60000, async_insert_use_adaptive_busy_timeout = 0 VALUES (1)");
      assert.equal(await q('SELECT count() FROM t'), '1', 'written at once: synchronously');
      assert.equal(await q("SELECT count() FROM system.events WHERE event LIKE 'AsyncInsert%'"), '0', 'no asynchronous insert ever ran');
      for (let i = 0; i < 2; i++) await q(`INSERT INTO t SETTINGS ${Object.entries(ASYNC_INSERT_SETTINGS).map(([k, v]) => `${k} = ${v}`).join(', ')}, insert_deduplication_token = 'x' VALUES (2)`);
      assert.equal(await q('SELECT count() FROM t'), '2', 'the token dropped the repeat, by the synchronous path');
    } finally {
      session.cleanup();
    }
  });
});

describe('asynchronous inserts: what the adapter sends', () => {
  const { client, server } = clickHouseClients();

  const schema = (table: string): TableSchema => ({ ...emptySchema(table, 'inferred'), properties: [{ name: 'x', type: 'string', nullable: true, origin: 'inferred' }] });
  const file = async (s: TableSchema) => {
    const now = Date.now(); // within the table's TTL, which ClickHouse reckons by its own clock
    const row = ['e1', now, 'u', now, 't', 0, 1, Math.floor(now / 86_400_000), new Date(now).getUTCHours(), 'xv'];
    return { key: 'k', bytes: await encodeParquet(ColumnBuffers.fromRows(tableColumns(s), [row])) };
  };
  const logEntry: IngestLogEntry = {
    batch_key: 't+0+0-0', file_key: 'k', event: 'e', outcome: 'stored', _topic: 't', _partition: 0, first_offset: 0, last_offset: 0, rows: 1, bytes: 1,
    min_event_time: 0, max_event_time: 0, started_at: 0, finished_at: 0,
  };

  it('refuses to insert asynchronously into a table that is not replicated, before sending anything', async () => {
    const w = new ClickHouseWarehouse(client(), { database: 'tributary', asyncInsert: true });
    const s = schema('plain');
    await w.ensureTable(s); // ReplacingMergeTree: what a self-managed server without replication has
    const inserts = server().statements.length;
    await assert.rejects(w.insertParquet('plain', tableColumns(s), await file(s), 'plain#1'), /need a replicated table.*tributary\.plain is ReplacingMergeTree: unset CLICKHOUSE_ASYNC_INSERT/);
    assert.equal(server().statements.slice(inserts).filter((q) => /^\s*INSERT/i.test(q)).length, 0);
    await assert.rejects(w.recordIngest([logEntry], 'log#1'), /tributary_ops\._ingest_log is ReplacingMergeTree/);
    // Without the setting the same table takes the insert.
    await new ClickHouseWarehouse(client(), { database: 'tributary' }).insertParquet('plain', tableColumns(s), await file(s), 'plain#1');
    assert.deepEqual(await w.query('SELECT x FROM tributary.plain'), [{ x: 'xv' }]);
  });

  it('into a replicated table: async_insert with wait_for_async_insert and async_insert_deduplicate, beside the token; the engine asked once', async () => {
    // The server's answer about the engine is ClickHouse Cloud's (chDB has no Keeper for Replicated*);
    // everything else goes over HTTP to chDB, whose parser takes the settings.
    const engineQueries: string[] = [];
    const real = client();
    const cloud = new Proxy(real, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (prop !== 'query' || typeof v !== 'function') return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        return async (params: { query: string }) => {
          if (!params.query.includes('system.tables')) return (v as (p: unknown) => unknown).call(target, params);
          engineQueries.push(params.query);
          return { json: async () => [{ engine: 'SharedReplacingMergeTree' }] };
        };
      },
    });
    const w = new ClickHouseWarehouse(cloud, { database: 'tributary', asyncInsert: true });
    const s = schema('cloudy');
    await w.ensureTable(s);
    const from = server().statements.length;
    for (let i = 0; i < 2; i++) await w.insertParquet('cloudy', tableColumns(s), await file(s), 'cloudy#1');
    await w.recordIngest([logEntry], 'log#2');
    const inserts = server().statements.slice(from).filter((q) => /^\s*INSERT/i.test(q));
    assert.equal(inserts.length, 3);
    for (const q of inserts) {
      for (const setting of ["async_insert = '1'", "wait_for_async_insert = '1'", "async_insert_deduplicate = '1'", "insert_deduplicate = '1'"]) assert.ok(q.includes(setting), `${setting} in ${q}`);
    }
    assert.match(inserts[0]!, /insert_deduplication_token = 'cloudy#1'/);
    assert.match(inserts[2]!, /insert_deduplication_token = 'log#2'/);
    assert.equal(engineQueries.length, 2, 'once per table per container: cloudy and the ingest log');
    assert.deepEqual(await w.query('SELECT toString(count()) AS n FROM tributary.cloudy'), [{ n: '1' }], 'chDB took them (and its synchronous path the token)');

    // Without the setting, nothing asynchronous is sent and the engine is never asked.
    const sync = new ClickHouseWarehouse(cloud, { database: 'tributary' });
    const at = server().statements.length;
    await sync.insertParquet('cloudy', tableColumns(s), await file(s), 'cloudy#2');
    const [plain] = server().statements.slice(at).filter((q) => /^\s*INSERT/i.test(q));
    assert.doesNotMatch(plain!, /async_insert/);
    assert.equal(engineQueries.length, 2);
  });
});
