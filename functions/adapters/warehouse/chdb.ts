// Embedded ClickHouse (chDB) plugged into @clickhouse/client: same client API and SQL as a server.
// chDB's client connection passes insert bodies as text, so Parquet goes in through file() instead.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { qualified } from '../../core/warehouse/clickhouse-ddl.js';
import { quoteIdentifier, quoteString } from '../../core/identifiers.js';
import { ClickHouseWarehouse, type ClickHouseWarehouseOptions, type ParquetInserter } from './clickhouse.js';

interface ChdbRaw {
  queryAsync(sql: string, opts?: { format?: string }): Promise<{ text(): string }>;
}

export interface ChdbWarehouse {
  readonly warehouse: ClickHouseWarehouse;
  /** raw chDB access for statements the HTTP-shaped client cannot express (file() inserts) */
  readonly raw: ChdbRaw;
}

/** Opens chDB on a data directory. libchdb binds one directory per process: open it once. */
export async function openChdbWarehouse(path: string, database = 'tributary', options: Pick<ClickHouseWarehouseOptions, 'ttlDays' | 'lakeSource'> = {}): Promise<ChdbWarehouse> {
  // chdb is a dev/local dependency (570 MB): loaded lazily so Lambda bundles never include it.
  const { createChdbConnection } = await import('chdb/connection');
  const connection = createChdbConnection({ path });
  const raw = connection.chdb as unknown as ChdbRaw;
  const client = createClient({ connection } as unknown as Parameters<typeof createClient>[0]) as ClickHouseClient;
  let scratch: string | undefined;

  const insertParquet: ParquetInserter = async (_client, i) => {
    scratch ??= await mkdtemp(join(tmpdir(), 'tributary-chdb-'));
    const file = join(scratch, `${Math.random().toString(36).slice(2)}.parquet`);
    await writeFile(file, i.file.bytes);
    try {
      const cols = i.columns.map((c) => quoteIdentifier(c.name)).join(', ');
      await raw.queryAsync(
        `INSERT INTO ${qualified(i.database, i.table)} (${cols}) SETTINGS insert_deduplication_token = ${quoteString(i.dedupToken)}, insert_deduplicate = 1 ` +
        `SELECT ${cols} FROM file(${quoteString(file)}, 'Parquet')`,
      );
    } finally {
      await rm(file, { force: true });
    }
  };
  return { warehouse: new ClickHouseWarehouse(client, { database, insertParquet, ...options }), raw };
}
