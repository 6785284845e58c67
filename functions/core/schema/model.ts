// The table schema model shared by the lake (Arrow/Parquet), the catalog (Glue) and the warehouse (ClickHouse).
import type { NestedSchema } from './nested-schema.js';
import type { RecordRules } from './record-rules.js';

/** Logical column types. `json` is a JSON text column for nested objects and arrays. */
export type ColumnType = 'boolean' | 'int32' | 'int64' | 'double' | 'string' | 'timestamp' | 'date' | 'json';
export type PiiHandling = 'hash' | 'drop';
export type SchemaOrigin = 'declared' | 'inferred';

export interface ColumnSpec {
  readonly name: string;
  readonly type: ColumnType;
  readonly nullable: boolean;
  readonly description?: string;
  readonly pii?: PiiHandling;
  readonly lowCardinality?: boolean;
  /** the values a declared property may take (JSON Schema `enum` or `const`); null is always allowed */
  readonly allowed?: readonly (string | number | boolean)[];
  /**
   * a declared union of scalar types (`["string", "integer"]`): the JSON types a value may have, in
   * SCALAR_TYPES order, on a string column that stores each value in JSON's spelling (42 → "42")
   */
  readonly accepts?: readonly ScalarJsonType[];
  /** the declared property's other value constraints; null always passes them */
  readonly constraints?: ValueConstraints;
  /** a declared object or array property's JSON Schema (items, nested properties, …); null passes it */
  readonly nested?: NestedSchema;
  /** standard: present on every table; declared: from a schema file; inferred: learnt from data. */
  readonly origin: 'standard' | SchemaOrigin;
}

/**
 * JSON Schema value keywords a declared property may carry: the numeric ones on integer and number
 * properties, the string ones on string properties (date and date-time ones included). Lengths count
 * Unicode code points, as JSON Schema does; `pattern` is RE2 syntax, unanchored.
 */
export interface ValueConstraints {
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly exclusiveMaximum?: number;
  readonly multipleOf?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  /** one of the formats Tributary asserts (formats.ts), on a string property */
  readonly format?: string;
}

/** JSON Schema's scalar types, in the order a union column lists them. */
export const SCALAR_TYPES = ['boolean', 'integer', 'number', 'string'] as const;
export type ScalarJsonType = typeof SCALAR_TYPES[number];

export const NUMERIC_CONSTRAINTS = ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf'] as const;
export const STRING_CONSTRAINTS = ['minLength', 'maxLength', 'pattern', 'format'] as const;

/** Schema of one event table. `properties` holds only the event's own columns, in their append order. */
export interface TableSchema {
  readonly table: string;
  readonly origin: SchemaOrigin;
  readonly properties: readonly ColumnSpec[];
  readonly required: readonly string[];
  /** False when the declared schema says `additionalProperties: false`. */
  readonly allowNewProperties: boolean;
  /** ClickHouse ordering key columns; `event_id` is always appended so deduplication stays exact. */
  readonly orderBy: readonly string[];
  readonly description?: string;
  /** a declared schema's rules on a record's properties as a whole (minProperties, dependentRequired, …) */
  readonly recordRules?: RecordRules;
}

/** A column with its description (the shape every fixed table below and elsewhere is written in). */
export const column = (name: string, type: ColumnType, nullable: boolean, description: string, origin: ColumnSpec['origin'] = 'standard'): ColumnSpec =>
  ({ name, type, nullable, description, origin });

const std = (name: string, type: ColumnType, nullable: boolean, description: string): ColumnSpec => column(name, type, nullable, description);

/** Columns every event table starts with (envelope, ingest metadata and Kafka lineage). */
export const STANDARD_COLUMNS: readonly ColumnSpec[] = [
  std('event_id', 'string', false, 'Deduplication key: the envelope event_id, or topic-partition-offset'),
  std('event_time', 'timestamp', false, 'Event time (envelope ts), UTC'),
  std('user_id', 'string', true, 'Envelope user_id'),
  std('received_at', 'timestamp', false, 'When the ingest function processed the record'),
  std('_topic', 'string', false, 'Kafka topic'),
  std('_partition', 'int32', false, 'Kafka partition'),
  std('_offset', 'int64', false, 'Kafka offset'),
];

/** Hive partition columns, derived from event time; also stored in each file so a file reads back on its own. */
export const PARTITION_COLUMNS: readonly ColumnSpec[] = [
  std('dt', 'date', false, 'Event date (UTC), partition key'),
  std('hour', 'int32', false, 'Event hour (UTC), partition key'),
];

export const RESERVED_NAMES: ReadonlySet<string> = new Set(
  [...STANDARD_COLUMNS, ...PARTITION_COLUMNS].map((c) => c.name),
);

export const DEFAULT_ORDER_BY: readonly string[] = ['event_time', 'event_id'];

/**
 * Property columns a table may have unless TRIBUTARY_MAX_COLUMNS_PER_TABLE says otherwise: ingest stops
 * adding inferred columns there, and a declared schema with more properties is refused.
 */
export const DEFAULT_MAX_COLUMNS_PER_TABLE = 1000;

/** All columns of a table's files and warehouse table, in a stable order (new properties append at the end). */
export function tableColumns(schema: TableSchema): ColumnSpec[] {
  return [...STANDARD_COLUMNS, ...PARTITION_COLUMNS, ...schema.properties];
}

export function findProperty(schema: TableSchema, name: string): ColumnSpec | undefined {
  return schema.properties.find((c) => c.name === name);
}

export function emptySchema(table: string, origin: SchemaOrigin): TableSchema {
  return { table, origin, properties: [], required: [], allowNewProperties: true, orderBy: DEFAULT_ORDER_BY };
}

export function withEventId(orderBy: readonly string[]): string[] {
  return orderBy.includes('event_id') ? [...orderBy] : [...orderBy, 'event_id'];
}

/**
 * The schema a table has before a batch: the declared file wins for the columns it names; columns the
 * catalog learnt from data earlier stay (dropping them would hide data already in the lake).
 */
export function mergeKnownSchemas(declared: TableSchema | undefined, registered: TableSchema | undefined): TableSchema | undefined {
  if (!declared) return registered;
  if (!registered) return declared;
  const names = new Set(declared.properties.map((c) => c.name));
  return { ...declared, properties: [...declared.properties, ...registered.properties.filter((c) => !names.has(c.name))] };
}

/** Everything about a schema that the catalog and warehouse store; equal signatures need no update. */
export function schemaSignature(s: TableSchema): string {
  return JSON.stringify([s.origin, s.orderBy, s.required, s.allowNewProperties, s.description ?? '',
    s.properties.map((c) => [c.name, c.type, c.pii ?? '', c.lowCardinality ?? false, c.origin, c.description ?? ''])]);
}

/** Longest description the catalog keeps: Glue's limits for a column comment and a table description. */
export const MAX_COLUMN_DESCRIPTION = 255;
export const MAX_TABLE_DESCRIPTION = 2048;

// Glue's pattern for both is [\u0020-\uD7FF\uE000-\uFFFD\uD800\uDC00-\uDBFF\uDFFF\t]*: no control
// character but tab, no lone surrogate, no U+FFFE/U+FFFF.
const NOT_CATALOG_TEXT = /[\u0000-\u0008\u000A-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * A description as the catalog can hold it: line breaks and other control characters become spaces and
 * the text is cut to `max` UTF-16 units at a whole character. A description Glue refuses would fail every
 * batch of its event, so schema files are held to this when they are read.
 */
export function catalogText(text: string, max: number): string {
  const clean = text.replace(NOT_CATALOG_TEXT, ' ');
  if (clean.length <= max) return clean;
  const code = clean.charCodeAt(max - 1);
  return clean.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}
