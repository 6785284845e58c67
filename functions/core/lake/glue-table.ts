// Glue Data Catalog shapes (TableInput / PartitionInput) for a table schema, and the way back.
// The shapes are the subset of Glue's API that Tributary writes, structurally compatible with the SDK's.
import {
  catalogText, DEFAULT_ORDER_BY, MAX_COLUMN_DESCRIPTION, MAX_TABLE_DESCRIPTION, PARTITION_COLUMNS, STANDARD_COLUMNS, withEventId,
  type ColumnSpec, type ColumnType, type TableSchema,
} from '../schema/model.js';
import { widen } from '../schema/infer.js';
import type { DerivedTable, PartitionState } from '../ports.js';
import { pad2 } from '../time.js';

export interface GlueColumn {
  Name: string;
  Type: string;
  Comment?: string;
  Parameters?: Record<string, string>;
}

export interface GlueStorageDescriptor {
  Columns: GlueColumn[];
  Location: string;
  InputFormat: string;
  OutputFormat: string;
  SerdeInfo: { SerializationLibrary: string; Parameters?: Record<string, string> };
  Compressed?: boolean;
}

export interface GlueTableInput {
  Name: string;
  Description?: string;
  TableType: 'EXTERNAL_TABLE';
  Parameters: Record<string, string>;
  PartitionKeys: GlueColumn[];
  StorageDescriptor: GlueStorageDescriptor;
}

export interface GluePartitionInput {
  Values: string[];
  StorageDescriptor: GlueStorageDescriptor;
  Parameters?: Record<string, string>;
}

const GLUE_TYPES: Record<ColumnType, string> = {
  boolean: 'boolean', int32: 'int', int64: 'bigint', double: 'double',
  string: 'string', json: 'string', timestamp: 'timestamp', date: 'date',
};
const FROM_GLUE: Record<string, ColumnType> = {
  boolean: 'boolean', int: 'int32', bigint: 'int64', double: 'double', string: 'string', timestamp: 'timestamp', date: 'date',
};

/**
 * The columns a table gets when `incoming` is written over `existing`: every column it already has is kept,
 * and a column in both keeps the wider type. Invocations sync the catalog concurrently, and one holding
 * an older registry version must not narrow a column that a newer one widened (double back to bigint).
 */
export function mergeColumns(incoming: readonly GlueColumn[], existing: readonly GlueColumn[]): GlueColumn[] {
  const before = new Map(existing.map((c) => [c.Name, c]));
  const typeOf = (c: GlueColumn): ColumnType | undefined => (c.Parameters?.[`${P}type`] as ColumnType | undefined) ?? FROM_GLUE[c.Type];
  const merged = incoming.map((c) => {
    const old = before.get(c.Name);
    const oldType = old && typeOf(old);
    const newType = typeOf(c);
    // The column as it stands wins only when its type is the wider one (its parameters carry the type).
    return old && oldType && newType && oldType !== newType && widen(oldType, newType) === oldType ? old : c;
  });
  const names = new Set(incoming.map((c) => c.Name));
  return [...merged, ...existing.filter((c) => !names.has(c.Name))];
}

const PARQUET_FORMAT = {
  InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
  OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
  SerdeInfo: {
    SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
    Parameters: { 'serialization.format': '1' },
  },
  Compressed: true,
} as const;

const P = 'tributary.';

function toGlueColumn(c: ColumnSpec): GlueColumn {
  const parameters: Record<string, string> = { [`${P}type`]: c.type, [`${P}origin`]: c.origin };
  if (c.pii) parameters[`${P}pii`] = c.pii;
  if (c.lowCardinality) parameters[`${P}low_cardinality`] = 'true';
  return { Name: c.name, Type: GLUE_TYPES[c.type], ...(c.description ? { Comment: catalogText(c.description, MAX_COLUMN_DESCRIPTION) } : {}), Parameters: parameters };
}

function fromGlueColumn(g: GlueColumn): ColumnSpec {
  const p = g.Parameters ?? {};
  const type = (p[`${P}type`] as ColumnType | undefined) ?? FROM_GLUE[g.Type] ?? 'string';
  const origin = p[`${P}origin`] === 'declared' ? 'declared' : 'inferred';
  const pii = p[`${P}pii`];
  return {
    name: g.Name, type, nullable: true, origin,
    ...(g.Comment ? { description: g.Comment } : {}),
    ...(pii === 'hash' || pii === 'drop' ? { pii } : {}),
    ...(p[`${P}low_cardinality`] === 'true' ? { lowCardinality: true } : {}),
  };
}

/** Hive-style partition keys: `dt` (date) and `hour` (int); their values are the path segments. */
export const GLUE_PARTITION_KEYS: GlueColumn[] = PARTITION_COLUMNS.map((c) => ({ Name: c.name, Type: GLUE_TYPES[c.type], ...(c.description ? { Comment: c.description } : {}) }));

export function toTableInput(schema: TableSchema, location: string): GlueTableInput {
  return {
    Name: schema.table,
    ...(schema.description ? { Description: catalogText(schema.description, MAX_TABLE_DESCRIPTION) } : {}),
    TableType: 'EXTERNAL_TABLE',
    Parameters: {
      classification: 'parquet',
      EXTERNAL: 'TRUE',
      'parquet.compression': 'ZSTD',
      [`${P}origin`]: schema.origin,
      [`${P}order_by`]: schema.orderBy.join(','),
      [`${P}required`]: schema.required.join(','),
      [`${P}additional_properties`]: String(schema.allowNewProperties),
    },
    PartitionKeys: GLUE_PARTITION_KEYS,
    StorageDescriptor: { Columns: [...STANDARD_COLUMNS, ...schema.properties].map(toGlueColumn), Location: location, ...PARQUET_FORMAT, SerdeInfo: { ...PARQUET_FORMAT.SerdeInfo, Parameters: { ...PARQUET_FORMAT.SerdeInfo.Parameters } } },
  };
}

export function fromTableInput(t: GlueTableInput): TableSchema {
  const standard = new Set(STANDARD_COLUMNS.map((c) => c.name));
  const p = t.Parameters ?? {};
  const split = (v: string | undefined): string[] => (v ? v.split(',').filter(Boolean) : []);
  const orderBy = split(p[`${P}order_by`]);
  return {
    table: t.Name,
    origin: p[`${P}origin`] === 'declared' ? 'declared' : 'inferred',
    properties: (t.StorageDescriptor?.Columns ?? []).filter((c) => !standard.has(c.Name)).map(fromGlueColumn),
    required: split(p[`${P}required`]),
    allowNewProperties: p[`${P}additional_properties`] !== 'false',
    orderBy: withEventId(orderBy.length > 0 ? orderBy : DEFAULT_ORDER_BY),
    ...(t.Description ? { description: t.Description } : {}),
  };
}

export const partitionValues = (dt: string, hour?: number): string[] => (hour === undefined ? [dt] : [dt, pad2(hour)]);

/** Table parameter marking a job's output table, so ingest never treats it as an event table. */
export const KIND_PARAMETER = `${P}kind`;

/** A job's output table: Parquet, partitioned by its own keys (a day for ab_daily). */
export function toDerivedTableInput(t: DerivedTable, location: string): GlueTableInput {
  return {
    Name: t.table,
    Description: catalogText(t.description, MAX_TABLE_DESCRIPTION),
    TableType: 'EXTERNAL_TABLE',
    Parameters: { classification: 'parquet', EXTERNAL: 'TRUE', 'parquet.compression': 'ZSTD', [KIND_PARAMETER]: 'job' },
    PartitionKeys: t.partitionKeys.map(toGlueColumn),
    StorageDescriptor: { Columns: t.columns.map(toGlueColumn), Location: location, ...PARQUET_FORMAT, SerdeInfo: { ...PARQUET_FORMAT.SerdeInfo, Parameters: { ...PARQUET_FORMAT.SerdeInfo.Parameters } } },
  };
}

export const isDerivedTable = (t: { Parameters?: Record<string, string> }): boolean => t.Parameters?.[KIND_PARAMETER] === 'job';

/** Every column a reader of the table sees: data columns then partition keys. */
export const allColumns = (t: GlueTableInput): ColumnSpec[] => [...t.StorageDescriptor.Columns, ...t.PartitionKeys].map(fromGlueColumn);

/** A partition's columns are the table's at registration; compaction rewrites them with the table's current ones. */
export function toPartitionInput(table: GlueTableInput, dt: string, hour: number | undefined, location: string, version = 0): GluePartitionInput {
  return {
    Values: partitionValues(dt, hour),
    StorageDescriptor: { ...table.StorageDescriptor, Location: location },
    Parameters: { [`${P}version`]: String(version) },
  };
}

/** The compaction version a partition's location points at (0 when never compacted). */
export const partitionVersion = (p: { Parameters?: Record<string, string> }): number => Number(p.Parameters?.[`${P}version`] ?? 0) || 0;

/** A partition as Glue returns it (GetPartitions, BatchGetPartition), loosely typed like the SDK's. */
export interface GluePartitionLike {
  Values?: string[];
  StorageDescriptor?: { Location?: string; Columns?: GlueColumn[] };
  Parameters?: Record<string, string>;
}

/** The port's view of a registered partition; undefined for one without values. */
export function partitionStateOf(p: GluePartitionLike): PartitionState | undefined {
  const [dt, hour] = p.Values ?? [];
  if (!dt) return undefined;
  return {
    dt, ...(hour !== undefined ? { hour: Number(hour) } : {}), location: p.StorageDescriptor?.Location ?? '', version: partitionVersion(p),
    ...(p.StorageDescriptor?.Columns ? { columns: p.StorageDescriptor.Columns.map(fromGlueColumn) } : {}),
  };
}

/** Columns as readers resolve them: by name, with a type; order and comments do not change what they read. */
const sameColumns = (a: ReadonlyArray<{ name: string; type: string }>, b: ReadonlyArray<{ name: string; type: string }>): boolean => {
  const key = (c: { name: string; type: string }): string => `${c.name}:${c.type}`;
  const left = new Set(a.map(key));
  return left.size === new Set(b.map(key)).size && b.every((c) => left.has(key(c)));
};
const glueNamed = (cs: readonly GlueColumn[]): Array<{ name: string; type: string }> => cs.map((c) => ({ name: c.Name, type: c.Type }));

/**
 * The columns a registered partition needs when a batch writes to it: the table's current ones, merged so
 * that a table read just before another writer widened it never narrows what the partition already says.
 * Undefined when the partition already reads as the table does.
 */
export function partitionColumnsUpdate(table: readonly GlueColumn[], partition: readonly GlueColumn[]): GlueColumn[] | undefined {
  const target = mergeColumns(table, partition);
  return sameColumns(glueNamed(target), glueNamed(partition)) ? undefined : target;
}

/** The same partition input with other columns: its location and version (compaction's) are kept. */
export function withPartitionColumns(p: GluePartitionInput, columns: GlueColumn[]): GluePartitionInput {
  return { Values: p.Values, StorageDescriptor: { ...p.StorageDescriptor, Columns: columns }, ...(p.Parameters ? { Parameters: p.Parameters } : {}) };
}

/**
 * How a partition's columns lag the table's (a column added or widened after the partition last took the
 * table's columns; Athena, Hive and Spark read its files by them): 'columns' when it only lacks columns
 * (its files lack them too, or hold them under a partition that hides them: updating the catalog is
 * enough), 'types' when a column's type differs (its files may hold the narrower type: they are rewritten).
 * 'none' when in step, or when the catalog did not say which columns the partition has.
 */
export type PartitionLag = 'none' | 'columns' | 'types';

export function partitionLag(state: PartitionState, schema: TableSchema): PartitionLag {
  if (!state.columns) return 'none';
  const have = new Map(state.columns.map((c) => [c.name, c.type]));
  let lag: PartitionLag = 'none';
  for (const c of [...STANDARD_COLUMNS, ...schema.properties]) {
    const type = have.get(c.name);
    if (type === undefined) lag = 'columns';
    else if (type !== c.type) return 'types';
  }
  return lag;
}
