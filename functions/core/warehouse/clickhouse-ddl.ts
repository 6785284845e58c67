// ClickHouse DDL derived from a table schema. Every identifier is validated upstream and quoted here.
import { quoteIdentifier as q, quoteString } from '../identifiers.js';
import type { DerivedTable } from '../ports.js';
import { tableColumns, type ColumnSpec, type ColumnType, type TableSchema } from '../schema/model.js';

const BASE_TYPES: Record<ColumnType, string> = {
  boolean: 'Bool',
  int32: 'Int32',
  int64: 'Int64',
  double: 'Float64',
  string: 'String',
  json: 'String',
  timestamp: "DateTime64(3, 'UTC')",
  date: 'Date32', // 1900–2299 like the lake's DATE; Date stops at 1970–2149 and wraps what falls outside
};

/** Insert deduplication on non-replicated MergeTree tables needs a window (number of recent blocks kept). */
export const DEDUP_WINDOW = 10_000;

export function clickhouseType(c: ColumnSpec): string {
  const base = BASE_TYPES[c.type];
  const nullable = c.nullable ? `Nullable(${base})` : base;
  return c.lowCardinality && c.type === 'string' ? `LowCardinality(${nullable})` : nullable;
}

export const columnDefinition = (c: ColumnSpec): string =>
  `${q(c.name)} ${clickhouseType(c)}${c.description ? ` COMMENT '${c.description.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'` : ''}`;

export const qualified = (database: string, table: string): string => `${q(database)}.${q(table)}`;

/**
 * Where operational tables live (`_quarantine`, `_ingest_log`): beside the BI database, not in it, so a
 * BI grant on `<database>.*` reaches no raw payload (decided 2026-12-06, issue 22 item 17).
 */
export const opsDatabaseOf = (database: string): string => `${database}_ops`;

export interface TableOptions {
  /** days of data ClickHouse keeps (whole daily partitions are dropped); the lake keeps everything */
  readonly ttlDays?: number;
}

/** Rows expire `ttlDays` after `from` (a Date or DateTime expression; `dt` unless said otherwise). */
const ttlClause = (o: TableOptions, from = 'dt'): string => (o.ttlDays ? `\nTTL ${from} + INTERVAL ${Math.floor(o.ttlDays)} DAY DELETE` : '');

/**
 * ReplacingMergeTree keyed by the schema's ordering keys (always ending in event_id), so rows that share
 * the key collapse to the latest received_at; partitions by day so TTL drops whole parts and merges stay
 * cheap.
 */
export function createTableSql(database: string, schema: TableSchema, o: TableOptions = {}): string {
  const cols = tableColumns(schema).map(columnDefinition).join(',\n  ');
  return `CREATE TABLE IF NOT EXISTS ${qualified(database, schema.table)} (\n  ${cols}\n)
ENGINE = ReplacingMergeTree(received_at)
PARTITION BY toYYYYMMDD(dt)
ORDER BY (${schema.orderBy.map(q).join(', ')})${ttlClause(o)}
SETTINGS non_replicated_deduplication_window = ${DEDUP_WINDOW}, allow_nullable_key = 1${o.ttlDays ? ', ttl_only_drop_parts = 1' : ''}`;
}

/** View names derived from an event table; event names with these suffixes are refused upstream. */
export const dedupViewName = (table: string): string => `${table}_dedup`;
export const allViewName = (table: string): string => `${table}_all`;

/**
 * `<event>_dedup`: one row per event for BI tools, without them knowing about FINAL. Views expand their
 * column list when created, so this is re-created whenever the table gains a column.
 */
/** A table's column as ClickHouse has it (`system.columns`): the name and the ClickHouse type. */
export interface ServerColumn {
  readonly name: string;
  readonly type: string;
}

export function dedupViewSql(database: string, table: string, columns: readonly ServerColumn[]): string {
  const cols = columns.map((c) => q(c.name)).join(', ');
  return `CREATE OR REPLACE VIEW ${qualified(database, dedupViewName(table))} AS SELECT ${cols} FROM ${qualified(database, table)} FINAL`;
}

/** How ClickHouse reads a table's lake files: `s3(…)` in AWS, `file(…)` locally. */
export type LakeSource = (table: string, structure: string) => string;

/**
 * `<event>_all`: the days ClickHouse keeps (deduplicated) plus the lake's older days, split at one cutoff so
 * no day is counted twice or missed: ClickHouse answers `dt >= today() - (ttlDays - 1)`, the lake the rest.
 */
export function allViewSql(database: string, table: string, columns: readonly ServerColumn[], ttlDays: number, lake: LakeSource): string {
  const cols = columns.map((c) => q(c.name)).join(', ');
  const structure = columns.map((c) => `${q(c.name)} ${c.type}`).join(', ');
  const cutoff = `today() - ${Math.max(0, Math.floor(ttlDays) - 1)}`;
  // SQL SECURITY DEFINER: the view reads the lake with its creator's (ingest's) source rights, so a BI user
  // needs SELECT on the view only, never the s3() grant that would let it read lake/_quarantine/ directly.
  return `CREATE OR REPLACE VIEW ${qualified(database, allViewName(table))} DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
SELECT ${cols} FROM ${qualified(database, table)} FINAL WHERE dt >= ${cutoff}
UNION ALL
SELECT ${cols} FROM ${lake(table, structure)} WHERE dt < ${cutoff}`;
}

/**
 * The lake files of a table under a root (`s3` URL or directory), version folders included. Days older
 * than the ClickHouse window hold one version per hour: compaction finished with them long ago and
 * deleted what it superseded once the retention delay passed.
 */
export const lakeGlob = (root: string, table: string): string => `${root.replace(/\/$/, '')}/${table}/**/*.parquet`;

/** A job's output table: a plain MergeTree partitioned by day, each day replaced whole by its job. */
export function createDerivedTableSql(database: string, t: DerivedTable, orderBy: readonly string[], o: TableOptions = {}): string {
  const cols = [...t.columns, ...t.partitionKeys].map(columnDefinition).join(',\n  ');
  return `CREATE TABLE IF NOT EXISTS ${qualified(database, t.table)} (\n  ${cols}\n)
ENGINE = MergeTree
PARTITION BY ${t.partitionKeys.length === 1 ? q(t.partitionKeys[0]!.name) : `(${t.partitionKeys.map((k) => q(k.name)).join(', ')})`}
ORDER BY (${orderBy.map(q).join(', ')})${ttlClause(o)}
COMMENT ${quoteString(t.description)}`;
}

export const INGEST_LOG_TABLE = '_ingest_log';

export const JOB_RUNS_TABLE = '_job_runs';

/** Every run of a job window, failed ones with their message: the history the console's Jobs page shows. */
export function createJobRunsSql(database: string, o: TableOptions = {}): string {
  return `CREATE TABLE IF NOT EXISTS ${qualified(database, JOB_RUNS_TABLE)} (
  job LowCardinality(String),
  window String COMMENT '2026-11-20 (daily) or 2026-11-20T09 (hourly)',
  outcome LowCardinality(String) COMMENT 'final, provisional or failed',
  rows UInt64,
  started_at DateTime64(3, 'UTC'),
  finished_at DateTime64(3, 'UTC'),
  error String COMMENT 'the failure''s message; empty unless failed'
)
ENGINE = MergeTree
ORDER BY (job, started_at)${ttlClause(o, 'toDateTime(finished_at)')}`;
}

/**
 * One row per file and Kafka topic-partition an invocation wrote (a file holds every partition of its batch
 * for one table and hour): freshness and lineage for operators. The key holds the topic-partition, so the
 * rows of one file do not collapse into one. Not partitioned by date: ClickHouse
 * puts the partition into an insert's block id, so a finish-date partition made a retry that finished after
 * UTC midnight a new block, not a duplicate of its token. Every row of one batch's insert lands in the one
 * partition whatever the clock says; rows expire by row TTL from their finish time (the log is small).
 */
export function createIngestLogSql(database: string, o: TableOptions = {}): string {
  return `CREATE TABLE IF NOT EXISTS ${qualified(database, INGEST_LOG_TABLE)} (
  batch_key String COMMENT 'topic+partition+first-last offsets of the invocation''s records',
  file_key String COMMENT 'object key of the file in the lake (on the fresh path: the key the lake path gives the same rows)',
  event LowCardinality(String),
  outcome LowCardinality(String) COMMENT 'stored or quarantined',
  _topic LowCardinality(String),
  _partition Int32,
  first_offset Int64,
  last_offset Int64,
  rows UInt64,
  bytes UInt64 COMMENT 'the file''s bytes, on its first partition''s row (sum(bytes) is what was written)',
  min_event_time Nullable(DateTime64(3, 'UTC')),
  max_event_time Nullable(DateTime64(3, 'UTC')),
  started_at DateTime64(3, 'UTC'),
  finished_at DateTime64(3, 'UTC'),
  dt Date ALIAS toDate(finished_at) COMMENT 'UTC day the invocation finished (computed, not stored)'
)
ENGINE = ReplacingMergeTree(finished_at)
ORDER BY (event, file_key, _topic, _partition)${ttlClause(o, 'toDateTime(finished_at)')}
SETTINGS non_replicated_deduplication_window = ${DEDUP_WINDOW}`;
}

export const addColumnSql = (database: string, table: string, c: ColumnSpec): string =>
  `ALTER TABLE ${qualified(database, table)} ADD COLUMN IF NOT EXISTS ${columnDefinition(c)}`;

export const modifyColumnTypeSql = (database: string, table: string, c: ColumnSpec): string =>
  `ALTER TABLE ${qualified(database, table)} MODIFY COLUMN ${q(c.name)} ${clickhouseType(c)}`;

/** ClickHouse type changes ensureTable applies by itself: the registry's widening and LowCardinality toggles. */
export function isSafeTypeChange(from: string, to: string): boolean {
  const plain = (t: string): string => t.replace(/^LowCardinality\((.*)\)$/, '$1');
  if (plain(from) === plain(to)) return true;
  return plain(from) === 'Nullable(Int64)' && plain(to) === 'Nullable(Float64)';
}

/**
 * The quarantine keeps raw payloads, PII the event tables hash or drop included, so it expires like the
 * event tables (and like the lake's `_quarantine/` copies under their lifecycle rule): counted from when the
 * record arrived, since its dt is the Kafka timestamp's date, the epoch for a timestamp out of range.
 */
export function createQuarantineTableSql(database: string, table: string, columns: readonly ColumnSpec[], o: TableOptions = {}): string {
  return `CREATE TABLE IF NOT EXISTS ${qualified(database, table)} (\n  ${columns.map(columnDefinition).join(',\n  ')}\n)
ENGINE = ReplacingMergeTree(received_at)
PARTITION BY toYYYYMMDD(dt)
ORDER BY (_topic, _partition, _offset)${ttlClause(o, 'toDateTime(received_at)')}
SETTINGS non_replicated_deduplication_window = ${DEDUP_WINDOW}`;
}

/**
 * Quarantined records a replay stored (`tributary quarantine replay`): one row per record, the latest
 * resolution kept. Small and unpartitioned; expires like the quarantine it annotates.
 */
export function createQuarantineResolvedSql(database: string, table: string, columns: readonly ColumnSpec[], o: TableOptions = {}): string {
  return `CREATE TABLE IF NOT EXISTS ${qualified(database, table)} (\n  ${columns.map(columnDefinition).join(',\n  ')}\n)
ENGINE = ReplacingMergeTree(resolved_at)
ORDER BY (_topic, _partition, _offset)${ttlClause(o, 'toDateTime(resolved_at)')}
SETTINGS non_replicated_deduplication_window = ${DEDUP_WINDOW}`;
}
