// The table schema model shared by the lake (Arrow/Parquet), the catalog (Glue) and the warehouse (ClickHouse),
// and the reader for declared schemas (JSON Schema files with `x-` warehouse hints).
import { isValidEventName, isValidPropertyName, normaliseName } from './identifiers.js';

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
  /** standard: present on every table; declared: from a schema file; inferred: learnt from data. */
  readonly origin: 'standard' | SchemaOrigin;
}

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
}

const std = (name: string, type: ColumnType, nullable: boolean, description: string): ColumnSpec => ({
  name, type, nullable, description, origin: 'standard',
});

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

export class SchemaDefinitionError extends Error {
  override readonly name = 'SchemaDefinitionError';
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
const isObject = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

function jsonSchemaType(def: Record<string, Json>, where: string): ColumnType {
  const declared = def['type'];
  const types = (Array.isArray(declared) ? declared : [declared]).filter((t) => t !== 'null' && t !== undefined);
  if (types.length !== 1) throw new SchemaDefinitionError(`${where}: give exactly one non-null "type"`);
  switch (types[0]) {
    case 'boolean': return 'boolean';
    case 'integer': return 'int64';
    case 'number': return 'double';
    case 'string': return def['format'] === 'date-time' ? 'timestamp' : 'string';
    case 'object':
    case 'array': return 'json';
    default: throw new SchemaDefinitionError(`${where}: unsupported type ${JSON.stringify(types[0])}`);
  }
}

/**
 * Reads a declared event schema: a JSON Schema for the envelope's `properties`, with warehouse hints
 * `x-pii` (hash | drop), `x-low-cardinality` (per property) and `x-order-by` (table level).
 * Throws SchemaDefinitionError with the offending path, so a bad file fails loudly at load time.
 */
export function parseDeclaredSchema(event: string, doc: unknown): TableSchema {
  const table = normaliseName(event);
  if (!isValidEventName(table)) throw new SchemaDefinitionError(`schema ${JSON.stringify(event)}: invalid event name`);
  if (!isObject(doc)) throw new SchemaDefinitionError(`schema ${table}: not a JSON object`);
  const props = doc['properties'] ?? {};
  if (!isObject(props)) throw new SchemaDefinitionError(`schema ${table}: "properties" must be an object`);
  const required = doc['required'] ?? [];
  if (!Array.isArray(required) || !required.every((r) => typeof r === 'string')) {
    throw new SchemaDefinitionError(`schema ${table}: "required" must be an array of names`);
  }
  const properties: ColumnSpec[] = [];
  for (const [rawName, def] of Object.entries(props)) {
    const name = normaliseName(rawName);
    const where = `schema ${table}: property ${JSON.stringify(rawName)}`;
    if (!isValidPropertyName(name) || RESERVED_NAMES.has(name)) throw new SchemaDefinitionError(`${where}: invalid or reserved name`);
    if (properties.some((c) => c.name === name)) throw new SchemaDefinitionError(`${where}: duplicate after normalisation`);
    if (!isObject(def)) throw new SchemaDefinitionError(`${where}: definition must be an object`);
    const pii = def['x-pii'];
    if (pii !== undefined && pii !== 'hash' && pii !== 'drop') throw new SchemaDefinitionError(`${where}: x-pii must be "hash" or "drop"`);
    const type = jsonSchemaType(def, where);
    const column: ColumnSpec = {
      name,
      type: pii === 'hash' ? 'string' : type,
      nullable: true,
      origin: 'declared',
      ...(typeof def['description'] === 'string' ? { description: def['description'] } : {}),
      ...(pii ? { pii } : {}),
      ...(def['x-low-cardinality'] === true ? { lowCardinality: true } : {}),
    };
    properties.push(column);
  }
  const requiredNames = (required as string[]).map(normaliseName);
  for (const r of requiredNames) {
    if (!properties.some((c) => c.name === r)) throw new SchemaDefinitionError(`schema ${table}: required ${JSON.stringify(r)} is not a property`);
  }
  const orderByRaw = doc['x-order-by'] ?? DEFAULT_ORDER_BY;
  if (!Array.isArray(orderByRaw) || !orderByRaw.every((o) => typeof o === 'string')) {
    throw new SchemaDefinitionError(`schema ${table}: "x-order-by" must be an array of column names`);
  }
  const known = new Set([...RESERVED_NAMES, ...properties.map((c) => c.name)]);
  const orderBy = (orderByRaw as string[]).map(normaliseName);
  for (const o of orderBy) if (!known.has(o)) throw new SchemaDefinitionError(`schema ${table}: x-order-by column ${JSON.stringify(o)} is not a column`);
  return {
    table,
    origin: 'declared',
    properties,
    required: requiredNames,
    allowNewProperties: doc['additionalProperties'] !== false,
    orderBy: withEventId(orderBy),
    ...(typeof doc['description'] === 'string' ? { description: doc['description'] } : {}),
  };
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
