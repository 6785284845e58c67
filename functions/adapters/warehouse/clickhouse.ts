// ClickHouse behind the Warehouse port, through the official client. The same class serves a server over
// HTTP and embedded chDB; only the way a Parquet file gets in differs (see ParquetInserter).
import { Readable } from 'node:stream';
import type { ClickHouseClient } from '@clickhouse/client';
import {
  addColumnSql, allViewSql, clickhouseType, columnDefinition, createDerivedTableSql, createIngestLogSql, createJobRunsSql, createQuarantineResolvedSql, createQuarantineTableSql, createTableSql, dedupViewSql,
  INGEST_LOG_TABLE, JOB_RUNS_TABLE, isSafeTypeChange, modifyColumnTypeSql, opsDatabaseOf, qualified, type LakeSource,
} from '../../core/warehouse/clickhouse-ddl.js';
import { quoteIdentifier, quoteString } from '../../core/identifiers.js';
import { QUARANTINE_TABLE } from '../../core/lake/layout.js';
import type { DerivedTable, IngestLogEntry, JobRunEntry, ParquetFile, PartitionRef, Warehouse } from '../../core/ports.js';
import { QUARANTINE_COLUMNS } from '../../core/quarantine/quarantine-rows.js';
import { QUARANTINE_RESOLVED_TABLE, RESOLUTION_COLUMNS } from '../../core/quarantine/resolution.js';
import { tableColumns, type ColumnSpec, type TableSchema } from '../../core/schema/model.js';

export interface ParquetInsert {
  readonly database: string;
  readonly table: string;
  readonly columns: readonly ColumnSpec[];
  readonly file: ParquetFile;
  readonly dedupToken: string;
  /** further settings of this insert (those of an asynchronous insert) */
  readonly settings?: Readonly<Record<string, 0 | 1>>;
}

/** How Parquet bytes reach ClickHouse: HTTP streams them as the insert body; chDB reads a file. */
export type ParquetInserter = (client: ClickHouseClient, insert: ParquetInsert) => Promise<void>;

export const httpParquetInserter: ParquetInserter = async (client, i) => {
  await client.insert({
    table: `${quoteIdentifier(i.database)}.${quoteIdentifier(i.table)}`,
    // A byte stream, not an object stream: the client refuses object mode for binary formats.
    values: Readable.from([Buffer.from(i.file.bytes.buffer, i.file.bytes.byteOffset, i.file.bytes.byteLength)], { objectMode: false }),
    format: 'Parquet',
    columns: i.columns.map((c) => c.name) as [string, ...string[]],
    clickhouse_settings: { ...i.settings, insert_deduplication_token: i.dedupToken, insert_deduplicate: 1 },
  });
};

/**
 * An asynchronous insert that still drops a retry by its token (on a replicated table, the only kind it is
 * sent to) and returns only once its rows are written, so an invocation that returns has stored its batch.
 */
export const ASYNC_INSERT_SETTINGS = { async_insert: 1, wait_for_async_insert: 1, async_insert_deduplicate: 1 } as const;

export interface ClickHouseWarehouseOptions {
  readonly database: string;
  /** where the quarantine and the ingest log live, out of a BI grant's reach (default `<database>_ops`) */
  readonly opsDatabase?: string;
  readonly insertParquet?: ParquetInserter;
  /** days ClickHouse keeps; also where `<event>_all` views switch from ClickHouse to the lake (default 90) */
  readonly ttlDays?: number;
  /** how ClickHouse reads the lake for `<event>_all` views; without it no `_all` views are made */
  readonly lakeSource?: LakeSource;
  /**
   * Batches are inserted asynchronously (ClickHouse buffers small inserts into fewer parts), and only into
   * replicated tables (Replicated…, Shared…), where ClickHouse deduplicates asynchronous inserts by their
   * token: an insert into any other table throws (docs/clickhouse.md#asynchronous-inserts).
   */
  readonly asyncInsert?: boolean;
}

export const DEFAULT_TTL_DAYS = 90;

/** Tables for operators, not BI: raw payloads (PII) and lineage. They live in the ops database. */
const OPERATIONAL_TABLES: ReadonlySet<string> = new Set([QUARANTINE_TABLE, INGEST_LOG_TABLE, QUARANTINE_RESOLVED_TABLE, JOB_RUNS_TABLE]);

export class ClickHouseWarehouse implements Warehouse {
  readonly database: string;
  readonly opsDatabase: string;
  private readonly insertParquetVia: ParquetInserter;
  private readonly ttlDays: number;
  private readonly lakeSource: LakeSource | undefined;
  readonly asyncInsert: boolean;
  /** tables (`database.table`) whose engine was checked to be replicated, for asynchronous inserts */
  private readonly replicated = new Set<string>();
  /** tables whose views this container has made for their current columns */
  private readonly viewsFor = new Map<string, string>();
  /** column types per table as this container last saw them: DDL runs only when something differs */
  private readonly columns = new Map<string, Map<string, string>>();
  private readonly databasesReady = new Set<string>();

  constructor(readonly client: ClickHouseClient, options: ClickHouseWarehouseOptions) {
    this.database = options.database;
    this.opsDatabase = options.opsDatabase ?? opsDatabaseOf(options.database);
    this.insertParquetVia = options.insertParquet ?? httpParquetInserter;
    this.ttlDays = options.ttlDays ?? DEFAULT_TTL_DAYS;
    this.lakeSource = options.lakeSource;
    this.asyncInsert = options.asyncInsert ?? false;
  }

  /**
   * The settings of an insert into `table` beyond its token: asynchronous ones when configured, once the
   * table's engine is known to be replicated. The operator's declaration (CLICKHOUSE_TABLES_REPLICATED) is
   * checked, not trusted: on a non-replicated table ClickHouse before 26.2 ignores the token of an
   * asynchronous insert, and a retried batch would go in twice.
   */
  private async insertSettings(table: string): Promise<Record<string, 0 | 1>> {
    if (!this.asyncInsert) return {};
    const database = this.databaseOf(table);
    const id = `${database}.${table}`;
    if (!this.replicated.has(id)) {
      const rs = await this.client.query({
        query: 'SELECT engine FROM system.tables WHERE database = {db:String} AND name = {table:String}',
        query_params: { db: database, table },
        format: 'JSONEachRow',
      });
      const engine = (await rs.json<{ engine: string }>())[0]?.engine;
      if (!engine || !/^(Replicated|Shared)/.test(engine)) {
        throw new Error(`asynchronous inserts (CLICKHOUSE_ASYNC_INSERT=1) need a replicated table, whose inserts ClickHouse deduplicates by token; ${id} is ${engine ?? 'missing'}: unset CLICKHOUSE_ASYNC_INSERT (docs/clickhouse.md#asynchronous-inserts)`);
      }
      this.replicated.add(id);
    }
    return { ...ASYNC_INSERT_SETTINGS };
  }

  /** The database a table lives in: the ops database for operational tables, else the BI one. */
  databaseOf(table: string): string {
    return OPERATIONAL_TABLES.has(table) ? this.opsDatabase : this.database;
  }

  private async ensureDatabase(database = this.database): Promise<void> {
    if (this.databasesReady.has(database)) return;
    await this.client.command({ query: `CREATE DATABASE IF NOT EXISTS ${quoteIdentifier(database)}` });
    this.databasesReady.add(database);
  }

  private async existingColumns(table: string): Promise<Map<string, string>> {
    const cached = this.columns.get(table);
    if (cached) return cached;
    const rs = await this.client.query({
      query: 'SELECT name, type FROM system.columns WHERE database = {db:String} AND table = {table:String}',
      query_params: { db: this.database, table },
      format: 'JSONEachRow',
    });
    const types = new Map((await rs.json<{ name: string; type: string }>()).map((r) => [r.name, r.type]));
    if (types.size > 0) this.columns.set(table, types);
    return types;
  }

  async ensureTable(schema: TableSchema): Promise<void> {
    await this.ensureDatabase();
    try {
      await this.syncColumns(schema);
      await this.ensureViews(schema.table);
    } catch (err) {
      // A retry starts from the server's columns, not from what this container believed they were.
      this.columns.delete(schema.table);
      this.viewsFor.delete(schema.table);
      throw err;
    }
  }

  private async syncColumns(schema: TableSchema): Promise<void> {
    let have = await this.existingColumns(schema.table);
    const wanted = tableColumns(schema);
    if (have.size === 0) {
      // IF NOT EXISTS: another invocation may have created the table a moment ago with other columns, so
      // read what is there rather than assume it is what this statement asked for.
      await this.client.command({ query: createTableSql(this.database, schema, { ttlDays: this.ttlDays }) });
      have = await this.existingColumns(schema.table);
    }
    let added = false;
    for (const c of wanted) {
      if (have.has(c.name)) continue;
      // IF NOT EXISTS: two invocations discovering the same new field converge.
      await this.client.command({ query: addColumnSql(this.database, schema.table, c) });
      added = true;
    }
    if (added) {
      // Another container may have added some of those columns first, with the type it knew then (Int64
      // where this one now needs Float64), and IF NOT EXISTS kept it: read what the server has, or a
      // narrower column would take this batch's values and cast them down without a word.
      this.columns.delete(schema.table);
      have = await this.existingColumns(schema.table);
    }
    for (const c of wanted) {
      const type = clickhouseType(c);
      const current = have.get(c.name);
      if (current === undefined || current === type || !isSafeTypeChange(current, type)) continue;
      // Idempotent too: a second MODIFY to the same type is a no-op.
      await this.client.command({ query: modifyColumnTypeSql(this.database, schema.table, c) });
      have.set(c.name, type);
    }
  }

  /**
   * `<event>_dedup` and `<event>_all` over the table's columns as the server has them (views fix their
   * columns when made). Not the caller's schema: an invocation holding an older registry version would
   * drop the columns a newer one added.
   */
  private async ensureViews(table: string): Promise<void> {
    const columns = [...(await this.existingColumns(table))].map(([name, type]) => ({ name, type }));
    const signature = columns.map((c) => `${c.name}:${c.type}`).join(',');
    if (this.viewsFor.get(table) === signature) return;
    await this.client.command({ query: dedupViewSql(this.database, table, columns) });
    if (this.lakeSource) await this.client.command({ query: allViewSql(this.database, table, columns, this.ttlDays, this.lakeSource) });
    this.viewsFor.set(table, signature);
  }

  async recordIngest(entries: readonly IngestLogEntry[], dedupToken: string): Promise<void> {
    if (entries.length === 0) return;
    await this.ensureOpsTable(INGEST_LOG_TABLE, (db) => createIngestLogSql(db, { ttlDays: this.ttlDays }));
    await this.client.insert({
      table: qualified(this.opsDatabase, INGEST_LOG_TABLE),
      // Times as ISO-8601 text: unambiguous for DateTime64 with best_effort parsing, unlike bare epoch numbers.
      values: entries.map((e) => ({
        ...e,
        min_event_time: e.min_event_time === null ? null : new Date(e.min_event_time).toISOString(),
        max_event_time: e.max_event_time === null ? null : new Date(e.max_event_time).toISOString(),
        started_at: new Date(e.started_at).toISOString(),
        finished_at: new Date(e.finished_at).toISOString(),
      })),
      format: 'JSONEachRow',
      clickhouse_settings: { ...(await this.insertSettings(INGEST_LOG_TABLE)), insert_deduplication_token: dedupToken, insert_deduplicate: 1, date_time_input_format: 'best_effort' },
    });
  }

  async recordJobRun(run: JobRunEntry): Promise<void> {
    await this.ensureOpsTable(JOB_RUNS_TABLE, (db) => createJobRunsSql(db, { ttlDays: this.ttlDays }));
    await this.client.insert({
      table: qualified(this.opsDatabase, JOB_RUNS_TABLE),
      values: [{ ...run, started_at: new Date(run.started_at).toISOString(), finished_at: new Date(run.finished_at).toISOString() }],
      format: 'JSONEachRow',
      clickhouse_settings: { date_time_input_format: 'best_effort' },
    });
  }

  async ensureQuarantineTable(): Promise<void> {
    await this.ensureOpsTable(QUARANTINE_TABLE, (db) => createQuarantineTableSql(db, QUARANTINE_TABLE, QUARANTINE_COLUMNS, { ttlDays: this.ttlDays }), QUARANTINE_COLUMNS);
  }

  /** `_quarantine_resolved`, which `tributary quarantine` reads and its replay writes. */
  async ensureQuarantineResolvedTable(): Promise<void> {
    await this.ensureOpsTable(QUARANTINE_RESOLVED_TABLE, (db) => createQuarantineResolvedSql(db, QUARANTINE_RESOLVED_TABLE, RESOLUTION_COLUMNS, { ttlDays: this.ttlDays }), RESOLUTION_COLUMNS);
  }

  /** An operational table of the ops database, created once per container (`columns`: known, for its inserts). */
  private async ensureOpsTable(table: string, create: (database: string) => string, columns: readonly ColumnSpec[] = []): Promise<void> {
    if (this.columns.has(table)) return;
    await this.ensureDatabase(this.opsDatabase);
    await this.client.command({ query: create(this.opsDatabase) });
    this.columns.set(table, new Map(columns.map((c) => [c.name, clickhouseType(c)])));
  }

  async insertParquet(table: string, columns: readonly ColumnSpec[], file: ParquetFile, dedupToken: string): Promise<void> {
    const settings = await this.insertSettings(table);
    await this.insertParquetVia(this.client, { database: this.databaseOf(table), table, columns, file, dedupToken, ...(this.asyncInsert ? { settings } : {}) });
  }

  async replacePartition(t: DerivedTable, orderBy: readonly string[], partition: PartitionRef, file: ParquetFile | undefined): Promise<void> {
    const { dt, hour } = partition;
    if (!/^\d{4}-\d{2}-\d{2}$/.test(dt)) throw new Error(`invalid date ${JSON.stringify(dt)}`);
    if (hour !== undefined && !(Number.isInteger(hour) && hour >= 0 && hour < 24)) throw new Error(`invalid hour ${hour}`);
    // The partition value as ClickHouse spells it: the key is dt, or the tuple (dt, hour).
    const value = hour === undefined ? quoteString(dt) : `tuple(${quoteString(dt)}, ${hour})`;
    await this.ensureDatabase();
    const known = this.columns.get(t.table);
    if (!known || t.columns.some((c) => !known.has(c.name))) {
      await this.client.command({ query: createDerivedTableSql(this.database, t, orderBy) });
      // A SQL job's output gains columns as its query does (additively, like event tables): only the
      // missing ones are added, so a job whose columns never change needs no ALTER right.
      const rs = await this.client.query({
        query: 'SELECT name FROM system.columns WHERE database = {db:String} AND table = {t:String}', query_params: { db: this.database, t: t.table }, format: 'JSONEachRow',
      });
      const have = new Set((await rs.json<{ name: string }>()).map((r) => r.name));
      const missing = t.columns.filter((c) => !have.has(c.name));
      if (missing.length > 0) {
        await this.client.command({ query: `ALTER TABLE ${qualified(this.database, t.table)} ${missing.map((c) => `ADD COLUMN IF NOT EXISTS ${columnDefinition(c)}`).join(', ')}` });
      }
      this.columns.set(t.table, new Map(t.columns.map((c) => [c.name, clickhouseType(c)])));
    }
    const target = qualified(this.database, t.table);
    if (!file) {
      await this.client.command({ query: `ALTER TABLE ${target} DROP PARTITION ${value}` });
      return;
    }
    // Load a private staging table, then swap the day in one step: readers see the old day or the new one.
    const stage = `_stage_${t.table}_${dt.replace(/-/g, '')}${hour === undefined ? '' : `_${hour}`}_${Math.random().toString(36).slice(2, 10)}`;
    await this.client.command({ query: `CREATE TABLE ${qualified(this.database, stage)} AS ${target}` });
    try {
      const columns = [...t.columns, ...t.partitionKeys];
      await this.insertParquetVia(this.client, { database: this.database, table: stage, columns, file, dedupToken: `${stage}:${file.key}` });
      await this.client.command({ query: `ALTER TABLE ${target} REPLACE PARTITION ${value} FROM ${qualified(this.database, stage)}` });
    } finally {
      await this.client.command({ query: `DROP TABLE IF EXISTS ${qualified(this.database, stage)}` });
    }
  }

  /** A statement without rows, for a job's own state tables (ab-daily's assignments). */
  async execute(query: string, params: Record<string, unknown> = {}): Promise<void> {
    await this.ensureDatabase();
    await this.client.command({ query, query_params: params });
  }

  /** Rows of a query as objects (for the CLI, jobs and tests). */
  async query<T>(query: string, params: Record<string, unknown> = {}): Promise<T[]> {
    const rs = await this.client.query({ query, query_params: params, format: 'JSONEachRow' });
    return rs.json<T>();
  }

  /** A table's name as queries spell it, in the database it lives in (operational tables: the ops one). */
  qualified(table: string): string {
    return qualified(this.databaseOf(table), table);
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
