// Declared event schemas: JSON Schema documents for the envelope's `properties`, with warehouse hints
// `x-pii` (hash | drop), `x-low-cardinality` (per property) and `x-order-by` (table level).
// Read from schemas/events/*.json or `schema push`; written by `schema pin` for review.
import { compilePattern, MAX_PATTERN_INSTRUCTIONS, unrunnablePattern } from './constraints.js';
import { isAssertedFormat } from './formats.js';
import { isValidEventName, isValidPropertyName, normaliseName } from '../identifiers.js';
import { readNestedSchema, type NestedSchema } from './nested-schema.js';
import { MAX_ENUM_CHARACTERS, MAX_ENUM_VALUES, MAX_SCHEMA_CHARACTERS, refusedTopLevelKeyword, SCALAR_APPLICATORS } from './keywords.js';
import type { RecordRules } from './record-rules.js';
import {
  catalogText, DEFAULT_MAX_COLUMNS_PER_TABLE, DEFAULT_ORDER_BY, MAX_COLUMN_DESCRIPTION, MAX_TABLE_DESCRIPTION, NUMERIC_CONSTRAINTS, RESERVED_NAMES, STRING_CONSTRAINTS, withEventId,
  SCALAR_TYPES, type ColumnSpec, type ColumnType, type ScalarJsonType, type TableSchema, type ValueConstraints,
} from './model.js';

export class SchemaDefinitionError extends Error {
  override readonly name = 'SchemaDefinitionError';
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
const isObject = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

const JSON_TYPES: ReadonlySet<string> = new Set(['null', 'boolean', 'integer', 'number', 'string', 'object', 'array']);

/** The JSON type of a value as a schema names it: a whole number is an integer (1.0 too, as in JSON Schema). */
const jsonTypeOfValue = (v: Json): string =>
  v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'number' ? (Number.isInteger(v) ? 'integer' : 'number') : typeof v;

/** The non-null JSON types a property takes: its `type`, else those of its `enum`/`const` values. */
function declaredTypes(def: Record<string, Json>, where: string): Set<string> {
  const declared = def['type'];
  let types: Json[];
  if (declared !== undefined) {
    types = Array.isArray(declared) ? declared : [declared];
    for (const t of types) {
      if (typeof t !== 'string' || !JSON_TYPES.has(t)) throw new SchemaDefinitionError(`${where}: unsupported type ${JSON.stringify(t)}`);
    }
  } else {
    // Iglu and Snowplow schemas often give an enum (or const) alone: its values say what the column holds.
    const list = Array.isArray(def['enum']) ? def['enum'] : def['const'] !== undefined ? [def['const']] : [];
    types = list.map(jsonTypeOfValue);
  }
  const out = new Set(types.filter((t): t is string => t !== 'null'));
  if (out.size === 0) {
    throw new SchemaDefinitionError(`${where}: give a "type", or "enum"/"const" values other than null for the column type to come from`);
  }
  // integer is a kind of number
  if (out.has('number')) out.delete('integer');
  return out;
}

/**
 * The column a property's types make. One type is that type's column (a string with format date-time or
 * date a timestamp or date); object and array are a JSON column. A union is stored whole: with an
 * object or array among its types as JSON text (checked by Ajv against the union), otherwise as a string
 * column holding each value in JSON's spelling (42 → "42", true → "true"), checked against `accepts`.
 */
function columnTypeOf(def: Record<string, Json>, where: string): { type: ColumnType; accepts?: ScalarJsonType[] } {
  const types = declaredTypes(def, where);
  if (types.has('object') || types.has('array')) return { type: 'json' };
  if (types.size > 1) return { type: 'string', accepts: SCALAR_TYPES.filter((t) => types.has(t)) };
  switch ([...types][0]) {
    case 'boolean': return { type: 'boolean' };
    case 'integer': return { type: 'int64' };
    case 'number': return { type: 'double' };
    default: return { type: def['format'] === 'date-time' ? 'timestamp' : def['format'] === 'date' ? 'date' : 'string' };
  }
}

/** Whether a value of JSON type `t` is one a union takes (an integer is a number). */
const takes = (accepts: readonly ScalarJsonType[], t: string): boolean =>
  (accepts as readonly string[]).includes(t) || (t === 'integer' && accepts.includes('number'));

/**
 * The values a property may take: `enum`, or `const` as a list of one. Each must be of the property's
 * type; records with another value are quarantined as schema violations. Null in the list is ignored (a missing
 * value is `required`'s business).
 */
function allowedValues(def: Record<string, Json>, type: ColumnType, accepts: readonly ScalarJsonType[] | undefined, where: string): (string | number | boolean)[] | undefined {
  const list = def['enum'] !== undefined ? def['enum'] : def['const'] !== undefined ? [def['const']] : undefined;
  if (list === undefined) return undefined;
  if (!Array.isArray(list) || list.length === 0) throw new SchemaDefinitionError(`${where}: "enum" must be a non-empty array`);
  const fits = (v: Json): v is string | number | boolean =>
    accepts !== undefined ? takes(accepts, jsonTypeOfValue(v)) && !(typeof v === 'number' && Number.isInteger(v) && !Number.isSafeInteger(v))
      : type === 'string' ? typeof v === 'string' : type === 'boolean' ? typeof v === 'boolean'
        : type === 'int64' ? Number.isSafeInteger(v) : type === 'double' ? typeof v === 'number' : false;
  const keyword = def['enum'] !== undefined ? 'enum' : 'const';
  if (list.length > MAX_ENUM_VALUES) {
    throw new SchemaDefinitionError(`${where}: "enum" has ${list.length} values, more than ${MAX_ENUM_VALUES} (MAX_ENUM_VALUES); a longer list belongs in a lookup table joined at query time`);
  }
  const characters = list.reduce<number>((n, v) => n + (typeof v === 'string' ? v.length + 2 : JSON.stringify(v).length), 0);
  if (characters > MAX_ENUM_CHARACTERS) {
    throw new SchemaDefinitionError(`${where}: "${keyword}" holds ${characters} characters of values, more than ${MAX_ENUM_CHARACTERS} (MAX_ENUM_CHARACTERS)`);
  }
  const values = list.filter((v) => v !== null);
  const kind = accepts !== undefined ? `of type ${accepts.join(' or ')}` : `a ${type}`;
  for (const v of values) {
    if (!fits(v)) throw new SchemaDefinitionError(`${where}: enum value ${JSON.stringify(v)} is not ${kind} (enum is for string, integer, number and boolean properties)`);
  }
  return values as (string | number | boolean)[];
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** 2^63: int64's maximum 9223372036854775807 as JSON.parse reads it, and minus int64's minimum. */
const INT64_LIMIT = 2 ** 63;

/**
 * The numeric keywords of an integer or number property and the string keywords of a string property
 * (date and date-time ones included). As in JSON Schema, a keyword for another type of value is ignored:
 * `minimum` on a string constrains nothing. Draft 4's boolean `exclusiveMinimum`/`exclusiveMaximum`
 * (Iglu and Snowplow schemas) turn `minimum`/`maximum` exclusive. A pattern must be RE2 syntax (see
 * compilePattern).
 */
function valueConstraints(def: Record<string, Json>, type: ColumnType, accepts: readonly ScalarJsonType[] | undefined, hashed: boolean, where: string): ValueConstraints | undefined {
  const out: Mutable<ValueConstraints> = {};
  if (accepts !== undefined) {
    // a union's keywords apply to the values of their kind: minimum to its numbers, maxLength to its strings
    if (accepts.includes('number')) readNumericKeywords(def, 'double', hashed, where, out);
    else if (accepts.includes('integer')) readNumericKeywords(def, 'int64', hashed, where, out);
    if (accepts.includes('string')) readStringKeywords(def, 'string', where, out);
  }
  else if (type === 'int64' || type === 'double') readNumericKeywords(def, type, hashed, where, out);
  else if (type === 'string' || type === 'timestamp' || type === 'date') readStringKeywords(def, type, where, out);
  // One key order however the document spelt them (draft 4 bounds included): declarationHash hashes it.
  const keys = [...NUMERIC_CONSTRAINTS, ...STRING_CONSTRAINTS].filter((k) => out[k] !== undefined);
  return keys.length > 0 ? Object.fromEntries(keys.map((k) => [k, out[k]])) : undefined;
}

function readNumericKeywords(def: Record<string, Json>, type: 'int64' | 'double', hashed: boolean, where: string, out: Mutable<ValueConstraints>): void {
  for (const k of NUMERIC_CONSTRAINTS) {
    const v = def[k];
    if (v === undefined || typeof v === 'boolean') continue; // booleans: draft 4, read below
    if (hashed) throw new SchemaDefinitionError(`${where}: "${k}" cannot be checked on a hashed property (it accepts any scalar)`);
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new SchemaDefinitionError(`${where}: "${k}" must be a number`);
    if (k === 'multipleOf' && v <= 0) throw new SchemaDefinitionError(`${where}: "multipleOf" must be greater than 0`);
    out[k] = v;
  }
  for (const [exclusive, bound] of [['exclusiveMinimum', 'minimum'], ['exclusiveMaximum', 'maximum']] as const) {
    if (def[exclusive] !== true) continue;
    if (typeof out[bound] !== 'number') throw new SchemaDefinitionError(`${where}: "${exclusive}": true needs a numeric "${bound}"`);
    out[exclusive] = out[bound];
    delete out[bound];
  }
  if (type === 'int64') {
    // int64's own limits as published schemas write them (9223372036854775807, which JSON.parse reads as
    // 2^63): they constrain nothing a column can hold, so they are dropped rather than refused.
    if (out.maximum === INT64_LIMIT) delete out.maximum;
    if (out.exclusiveMaximum === INT64_LIMIT) delete out.exclusiveMaximum;
    if (out.minimum === -INT64_LIMIT) delete out.minimum;
    for (const k of NUMERIC_CONSTRAINTS) {
      const v = out[k];
      // JSON.parse rounds integers beyond 2^53: the bound in force would not be the one written.
      if (v !== undefined && Math.abs(v) > Number.MAX_SAFE_INTEGER) throw new SchemaDefinitionError(`${where}: "${k}" ${v} is beyond 2^53, where JSON numbers are rounded`);
    }
  }
  const { minimum, maximum, exclusiveMinimum, exclusiveMaximum } = out;
  let empty: boolean;
  if (type === 'int64') {
    // the smallest and largest integers the bounds leave
    const low = Math.max(minimum !== undefined ? Math.ceil(minimum) : -Infinity, exclusiveMinimum !== undefined ? Math.floor(exclusiveMinimum) + 1 : -Infinity);
    const high = Math.min(maximum !== undefined ? Math.floor(maximum) : Infinity, exclusiveMaximum !== undefined ? Math.ceil(exclusiveMaximum) - 1 : Infinity);
    empty = low > high;
  } else {
    const low = Math.max(minimum ?? -Infinity, exclusiveMinimum ?? -Infinity);
    const high = Math.min(maximum ?? Infinity, exclusiveMaximum ?? Infinity);
    empty = low > high || (low === high && (exclusiveMinimum === low || exclusiveMaximum === high));
  }
  if (empty) throw new SchemaDefinitionError(`${where}: no ${type === 'int64' ? 'integer' : 'number'} lies within its minimum and maximum`);
}

function readStringKeywords(def: Record<string, Json>, type: ColumnType, where: string, out: Mutable<ValueConstraints>): void {
  for (const k of STRING_CONSTRAINTS) {
    const v = def[k];
    if (v === undefined) continue;
    if (k === 'format') {
      // date-time and date are the column's type; formats Tributary does not assert stay annotations
      if (type === 'string' && isAssertedFormat(v)) out.format = v;
    } else if (k === 'pattern') {
      if (typeof v !== 'string') throw new SchemaDefinitionError(`${where}: "pattern" must be a string`);
      const unrunnable = unrunnablePattern(v);
      if (unrunnable !== undefined) throw new SchemaDefinitionError(`${where}: "pattern" ${unrunnable}`);
      const size = compilePattern(v).programSize();
      if (size > MAX_PATTERN_INSTRUCTIONS) {
        throw new SchemaDefinitionError(`${where}: "pattern" compiles to ${size} RE2 instructions, more than ${MAX_PATTERN_INSTRUCTIONS}: matching costs instructions × characters, so hostile values could stall the partition (use maxLength for lengths, enum for lists, or fewer counted repetitions)`);
      }
      out.pattern = v;
    } else {
      if (!Number.isSafeInteger(v) || (v as number) < 0) throw new SchemaDefinitionError(`${where}: "${k}" must be a non-negative integer`);
      out[k] = v as number;
    }
  }
  if ((out.minLength ?? 0) > (out.maxLength ?? Infinity)) throw new SchemaDefinitionError(`${where}: "minLength" is greater than "maxLength"`);
}

function nestedSchema(def: Record<string, Json>, doc: Record<string, Json>, where: string, cost: { nodes: number }): NestedSchema | undefined {
  try {
    return readNestedSchema(def, doc, cost);
  } catch (err) {
    throw new SchemaDefinitionError(`${where}: ${(err as Error).message}`);
  }
}

/** The event a document declares: its `title`, else the name it was given (a file's base name). */
export function declaredEventName(fallback: string, doc: unknown): string {
  return isObject(doc) && typeof doc['title'] === 'string' ? doc['title'] : fallback;
}

/**
 * Reads a declared event schema: a JSON Schema for the envelope's `properties`, with warehouse hints
 * `x-pii` (hash | drop), `x-low-cardinality` (per property) and `x-order-by` (table level).
 * Throws SchemaDefinitionError with the offending path, so a bad file fails loudly at load time.
 */
export interface DeclaredSchemaOptions {
  /** property columns a table may have (TRIBUTARY_MAX_COLUMNS_PER_TABLE): a document with more is refused */
  readonly maxProperties?: number;
}

export function parseDeclaredSchema(event: string, doc: unknown, options: DeclaredSchemaOptions = {}): TableSchema {
  const table = normaliseName(event);
  if (isObject(doc) && typeof doc['title'] === 'string' && normaliseName(doc['title']) !== table) {
    throw new SchemaDefinitionError(`schema ${JSON.stringify(event)}: "title" ${JSON.stringify(doc['title'])} names another event`);
  }
  if (!isValidEventName(table)) throw new SchemaDefinitionError(`schema ${JSON.stringify(event)}: invalid event name`);
  if (!isObject(doc)) throw new SchemaDefinitionError(`schema ${table}: not a JSON object`);
  // Every top-level keyword is enforced, read as annotation or hint, or refused here (keywords.ts).
  for (const k of Object.keys(doc)) {
    const refused = refusedTopLevelKeyword(k);
    if (refused !== undefined) throw new SchemaDefinitionError(`schema ${table}: ${refused}`);
  }
  const docType = doc['type'];
  if (docType !== undefined && docType !== 'object' && !(Array.isArray(docType) && docType.includes('object') && docType.every((t) => t === 'object' || t === 'null'))) {
    throw new SchemaDefinitionError(`schema ${table}: top-level "type" must be "object" (an event's properties are an object), not ${JSON.stringify(docType)}`);
  }
  const additional = doc['additionalProperties'];
  if (additional !== undefined && typeof additional !== 'boolean' && !(isObject(additional) && Object.keys(additional).length === 0)) {
    throw new SchemaDefinitionError(`schema ${table}: top-level "additionalProperties" as a schema is not enforced on undeclared properties: give false (refuse them) or true (infer their columns)`);
  }
  const props = doc['properties'] ?? {};
  if (!isObject(props)) throw new SchemaDefinitionError(`schema ${table}: "properties" must be an object`);
  const required = doc['required'] ?? [];
  if (!Array.isArray(required) || !required.every((r) => typeof r === 'string')) {
    throw new SchemaDefinitionError(`schema ${table}: "required" must be an array of names`);
  }
  const size = JSON.stringify(doc).length;
  if (size > MAX_SCHEMA_CHARACTERS) {
    throw new SchemaDefinitionError(`schema ${table}: the document is ${size} characters of JSON, more than ${MAX_SCHEMA_CHARACTERS} (MAX_SCHEMA_CHARACTERS: every container holds it)`);
  }
  const cost = { nodes: 0 };
  const maxProperties = options.maxProperties ?? DEFAULT_MAX_COLUMNS_PER_TABLE;
  const count = Object.keys(props).length;
  if (count > maxProperties) {
    throw new SchemaDefinitionError(`schema ${table}: ${count} properties, more than the ${maxProperties} columns a table may have (TRIBUTARY_MAX_COLUMNS_PER_TABLE); split the event or store related fields in one object property`);
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
    const { type, accepts } = columnTypeOf(def, where);
    if (type !== 'json' || pii === 'hash') {
      // Tributary checks a scalar's keywords itself and applies no subschema to it.
      const applicator = SCALAR_APPLICATORS.find((k) => Object.hasOwn(def, k));
      if (applicator !== undefined) throw new SchemaDefinitionError(`${where}: "${applicator}" is not enforced on a ${pii === 'hash' ? 'hashed' : 'scalar'} property: write its type and value keywords on the property itself`);
    }
    const allowed = allowedValues(def, type, accepts, where);
    const constraints = valueConstraints(def, type, accepts, pii === 'hash', where);
    const nested = type === 'json' && pii !== 'hash' ? nestedSchema(def, doc, where, cost) : undefined;
    const column: ColumnSpec = {
      name,
      type: pii === 'hash' ? 'string' : type,
      nullable: true,
      origin: 'declared',
      ...(typeof def['description'] === 'string' ? { description: catalogText(def['description'], MAX_COLUMN_DESCRIPTION) } : {}),
      ...(pii ? { pii } : {}),
      ...(def['x-low-cardinality'] === true ? { lowCardinality: true } : {}),
      ...(allowed ? { allowed } : {}),
      ...(accepts ? { accepts } : {}),
      ...(constraints ? { constraints } : {}),
      ...(nested ? { nested } : {}),
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
  for (const o of orderBy) {
    if (!known.has(o)) throw new SchemaDefinitionError(`schema ${table}: x-order-by column ${JSON.stringify(o)} is not a column`);
    // ReplacingMergeTree folds the copies of an event only if their keys are equal: a column that differs
    // between deliveries of one event would keep every copy.
    if (PER_DELIVERY_COLUMNS.has(o)) throw new SchemaDefinitionError(`schema ${table}: x-order-by column ${JSON.stringify(o)} differs between deliveries of one event, so copies would never be folded`);
  }
  const repeated = orderBy.find((o, i) => orderBy.indexOf(o) !== i);
  // ClickHouse refuses a sorting key that names a column twice (pageId and page_id are one column).
  if (repeated !== undefined) throw new SchemaDefinitionError(`schema ${table}: x-order-by names ${JSON.stringify(repeated)} twice`);
  const recordRules = readRecordRules(doc, new Set(properties.map((c) => c.name)), table);
  return {
    table,
    origin: 'declared',
    properties,
    required: requiredNames,
    allowNewProperties: doc['additionalProperties'] !== false,
    orderBy: withEventId(orderBy),
    ...(typeof doc['description'] === 'string' ? { description: catalogText(doc['description'], MAX_TABLE_DESCRIPTION) } : {}),
    ...(recordRules ? { recordRules } : {}),
  };
}

/** minProperties, maxProperties, dependentRequired and draft 4–7's `dependencies` (array form only). */
function readRecordRules(doc: Record<string, Json>, names: ReadonlySet<string>, table: string): RecordRules | undefined {
  const out: { minProperties?: number; maxProperties?: number; dependentRequired?: [string, string[]][] } = {};
  for (const k of ['minProperties', 'maxProperties'] as const) {
    const v = doc[k];
    if (v === undefined) continue;
    if (!Number.isSafeInteger(v) || (v as number) < 0) throw new SchemaDefinitionError(`schema ${table}: "${k}" must be a non-negative integer`);
    out[k] = v as number;
  }
  if ((out.minProperties ?? 0) > (out.maxProperties ?? Infinity)) throw new SchemaDefinitionError(`schema ${table}: "minProperties" is greater than "maxProperties"`);
  const dependents = new Map<string, string[]>();
  for (const k of ['dependentRequired', 'dependencies'] as const) {
    const map = doc[k];
    if (map === undefined) continue;
    if (!isObject(map)) throw new SchemaDefinitionError(`schema ${table}: "${k}" must map property names to arrays of property names`);
    for (const [raw, needs] of Object.entries(map)) {
      if (!Array.isArray(needs)) {
        if (k === 'dependencies') throw new SchemaDefinitionError(`schema ${table}: top-level "dependencies" with a schema for ${JSON.stringify(raw)} is not enforced on records: use its array form (dependentRequired)`);
        throw new SchemaDefinitionError(`schema ${table}: "${k}" must map property names to arrays of property names`);
      }
      if (!needs.every((n) => typeof n === 'string')) throw new SchemaDefinitionError(`schema ${table}: "${k}" must map property names to arrays of property names`);
      const name = normaliseName(raw);
      const list = dependents.get(name) ?? [];
      for (const n of [name, ...(needs as string[]).map(normaliseName)]) {
        if (!names.has(n)) throw new SchemaDefinitionError(`schema ${table}: ${k} names ${JSON.stringify(n)}, which is not a property`);
      }
      for (const n of (needs as string[]).map(normaliseName)) if (!list.includes(n)) list.push(n);
      dependents.set(name, list);
    }
  }
  if (dependents.size > 0) out.dependentRequired = [...dependents];
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Standard columns whose value is the delivery's, not the event's. */
const PER_DELIVERY_COLUMNS: ReadonlySet<string> = new Set(['received_at', '_topic', '_partition', '_offset']);

type JsonSchemaProperty = Record<string, Json>;

function propertyDocument(c: ColumnSpec): JsonSchemaProperty {
  const type: Record<ColumnType, JsonSchemaProperty> = {
    boolean: { type: ['boolean', 'null'] },
    int32: { type: ['integer', 'null'] },
    int64: { type: ['integer', 'null'] },
    double: { type: ['number', 'null'] },
    string: { type: ['string', 'null'] },
    timestamp: { type: ['string', 'null'], format: 'date-time' },
    date: { type: ['string', 'null'], format: 'date' },
    json: { type: ['object', 'array', 'null'] },
  };
  // A nested schema is written as read (2020-12 spellings), with null allowed as every property allows it.
  if (c.nested) {
    const t = c.nested['type'];
    const types = t === undefined ? undefined : ([] as Json[]).concat(t);
    return {
      ...(c.description ? { description: c.description } : {}),
      ...c.nested,
      ...(types && !types.includes('null') ? { type: [...types, 'null'] } : {}),
      ...(c.pii ? { 'x-pii': c.pii } : {}),
      ...(c.lowCardinality ? { 'x-low-cardinality': true } : {}),
    };
  }
  return {
    ...(c.description ? { description: c.description } : {}),
    ...(c.accepts ? { type: [...c.accepts, 'null'] } : type[c.type]),
    ...(c.pii ? { 'x-pii': c.pii } : {}),
    ...(c.lowCardinality ? { 'x-low-cardinality': true } : {}),
    // A hashed column is a string column: its enum, checked before hashing, is written as text (a union's
    // keeps its types, which the union names).
    ...(c.allowed ? { enum: c.pii === 'hash' && !c.accepts ? c.allowed.map(String) : [...c.allowed] } : {}),
    ...c.constraints,
  };
}

/** The JSON Schema document `schema pin` writes: reading it back with parseDeclaredSchema gives the same columns. */
export function toDeclaredDocument(schema: TableSchema): Record<string, Json> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: schema.table,
    ...(schema.description ? { description: schema.description } : {}),
    type: 'object',
    properties: Object.fromEntries(schema.properties.map((c) => [c.name, propertyDocument(c)])),
    required: [...schema.required],
    additionalProperties: schema.allowNewProperties,
    ...(schema.recordRules?.minProperties !== undefined ? { minProperties: schema.recordRules.minProperties } : {}),
    ...(schema.recordRules?.maxProperties !== undefined ? { maxProperties: schema.recordRules.maxProperties } : {}),
    ...(schema.recordRules?.dependentRequired ? { dependentRequired: Object.fromEntries(schema.recordRules.dependentRequired.map(([k, v]) => [k, [...v]])) } : {}),
    'x-order-by': [...schema.orderBy],
  };
}
