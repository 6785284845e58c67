// ClickHouse DDL derived from a table schema. Every identifier is validated upstream and quoted here.
import { quoteIdentifier as q } from './identifiers.js';
import { tableColumns, type ColumnSpec, type ColumnType, type TableSchema } from './schema.js';

const BASE_TYPES: Record<ColumnType, string> = {
  boolean: 'Bool',
  int32: 'Int32',
  int64: 'Int64',
  double: 'Float64',
  string: 'String',
  json: 'String',
  timestamp: "DateTime64(3, 'UTC')",
  date: 'Date',
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
 * ReplacingMergeTree keyed by the schema's ordering keys (always ending in event_id), so rows that share
 * the key collapse to the latest received_at; partitions by day so TTL and merges stay cheap.
 */
export function createTableSql(database: string, schema: TableSchema): string {
  const cols = tableColumns(schema).map(columnDefinition).join(',\n  ');
  return `CREATE TABLE IF NOT EXISTS ${qualified(database, schema.table)} (\n  ${cols}\n)
ENGINE = ReplacingMergeTree(received_at)
PARTITION BY toYYYYMMDD(dt)
ORDER BY (${schema.orderBy.map(q).join(', ')})
SETTINGS non_replicated_deduplication_window = ${DEDUP_WINDOW}, allow_nullable_key = 1`;
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

export function createQuarantineTableSql(database: string, table: string, columns: readonly ColumnSpec[]): string {
  return `CREATE TABLE IF NOT EXISTS ${qualified(database, table)} (\n  ${columns.map(columnDefinition).join(',\n  ')}\n)
ENGINE = ReplacingMergeTree(received_at)
PARTITION BY toYYYYMMDD(dt)
ORDER BY (_topic, _partition, _offset)
SETTINGS non_replicated_deduplication_window = ${DEDUP_WINDOW}`;
}
