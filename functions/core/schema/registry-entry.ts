// One version of a table's entry in the schema registry: the table schema plus where each field came from,
// the change history and which declared documents were applied. Versions are immutable documents; every
// change (inferred column, widening, pin) writes the next version. Pure: no I/O.
import { createHash } from 'node:crypto';
import { isValidEventName } from '../identifiers.js';
import { schemaSignature, type ColumnSpec, type ColumnType, type TableSchema } from './model.js';
import type { RecordRules } from './record-rules.js';

export const REGISTRY_FORMAT = 'tributary.schema/1';
export const REGISTRY_PREFIX = '_registry/events/';

/** inferred: every column was learnt from data; pinned: a declared schema (file or `schema push`) was applied. */
export type RegistryStatus = 'inferred' | 'pinned';

export interface RegisteredField extends ColumnSpec {
  /** registry version that added the column */
  readonly since: number;
  /** ISO-8601 time the column was added */
  readonly addedAt: string;
  /** what added it: `inferred from tracking[0]@1234`, `schema file purchase.json`, `schema push …` */
  readonly source: string;
}

export interface RegistryChange {
  readonly version: number;
  readonly at: string;
  readonly status: RegistryStatus;
  readonly change: string;
}

export interface RegistryEntry {
  readonly format: typeof REGISTRY_FORMAT;
  readonly table: string;
  readonly version: number;
  readonly status: RegistryStatus;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly description?: string;
  readonly required: readonly string[];
  readonly allowNewProperties: boolean;
  readonly orderBy: readonly string[];
  /** the declared schema's rules on whole records (minProperties, dependentRequired, …), when it has any */
  readonly recordRules?: RecordRules;
  readonly fields: readonly RegisteredField[];
  /** every change so far, oldest first */
  readonly history: readonly RegistryChange[];
  /** hashes of declared documents already applied: a schema file is applied once, not on every load */
  readonly appliedDeclarations: readonly string[];
}

export class RegistryFormatError extends Error {
  override readonly name = 'RegistryFormatError';
}

export class SchemaCompatibilityError extends Error {
  override readonly name = 'SchemaCompatibilityError';
  constructor(readonly table: string, readonly problems: readonly string[]) {
    super(`schema ${table} cannot be applied:\n  - ${problems.join('\n  - ')}`);
  }
}

export function registryPrefix(table: string): string {
  if (!isValidEventName(table)) throw new Error(`invalid table name ${JSON.stringify(table)}`);
  return `${REGISTRY_PREFIX}${table}/`;
}

/** Zero-padded so that listing order is version order. */
export const registryKey = (table: string, version: number): string =>
  `${registryPrefix(table)}v${String(version).padStart(8, '0')}.json`;

// Declared schemas are loaded once per container and checked on every batch: hash each object once.
const hashes = new WeakMap<TableSchema, string>();
export function declarationHash(schema: TableSchema): string {
  let h = hashes.get(schema);
  if (h === undefined) {
    // Enums are not in the catalog's signature (Glue does not hold them), but they are part of what a
    // declaration says; added only when present, so hashes of documents without one stay the same.
    const enums = schema.properties.filter((c) => c.allowed).map((c) => [c.name, c.allowed]);
    // Likewise value constraints, under their own key so that documents with enums only hash as before.
    const constraints = schema.properties.filter((c) => c.constraints).map((c) => [c.name, c.constraints]);
    // And nested schemas of object and array properties.
    const nested = schema.properties.filter((c) => c.nested).map((c) => [c.name, c.nested]);
    // And union columns' types (their column type is string, which the signature already has).
    const unions = schema.properties.filter((c) => c.accepts).map((c) => [c.name, c.accepts]);
    const text = schemaSignature(schema) + (enums.length > 0 ? JSON.stringify(enums) : '') + (constraints.length > 0 ? JSON.stringify({ constraints }) : '')
      + (nested.length > 0 ? JSON.stringify({ nested }) : '') + (unions.length > 0 ? JSON.stringify({ unions }) : '')
      + (schema.recordRules ? JSON.stringify({ recordRules: schema.recordRules }) : '');
    hashes.set(schema, (h = createHash('sha256').update(text).digest('hex')));
  }
  return h;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const stripProvenance = ({ since: _s, addedAt: _a, source: _src, ...column }: RegisteredField): ColumnSpec => column;

/** The table schema the ingest core plans with. */
export function schemaOf(entry: RegistryEntry): TableSchema {
  return {
    table: entry.table,
    origin: entry.status === 'pinned' ? 'declared' : 'inferred',
    properties: entry.fields.map(stripProvenance),
    required: entry.required,
    allowNewProperties: entry.allowNewProperties,
    orderBy: entry.orderBy,
    ...(entry.description ? { description: entry.description } : {}),
    ...(entry.recordRules ? { recordRules: entry.recordRules } : {}),
  };
}

/** The source of the fields a table adopted from the catalog: they were there before, not learnt now. */
export const ADOPTED_SOURCE = 'catalog';

/** Columns learnt from data within the window before `now`: what the new-column guard counts. */
export function recentInferredColumns(entry: RegistryEntry | undefined, now: number, windowMs = 3_600_000): number {
  if (!entry) return 0;
  return entry.fields.filter((f) => f.origin === 'inferred' && f.source !== ADOPTED_SOURCE && Date.parse(f.addedAt) > now - windowMs).length;
}

interface NextOptions {
  readonly now: number;
  readonly change: string;
  readonly status?: RegistryStatus;
  /** provenance for columns this version adds, by name; `defaultSource` otherwise */
  readonly sources?: ReadonlyMap<string, string>;
  readonly defaultSource: string;
  readonly declarationHash?: string;
}

/** The version after `prev` holding `schema`; fields keep the provenance of the version that added them. */
export function nextEntry(prev: RegistryEntry | undefined, schema: TableSchema, o: NextOptions): RegistryEntry {
  const version = (prev?.version ?? 0) + 1;
  const at = iso(o.now);
  const before = new Map(prev?.fields.map((f) => [f.name, f]));
  const fields = schema.properties.map((c): RegisteredField => {
    const old = before.get(c.name);
    return old
      ? { ...c, since: old.since, addedAt: old.addedAt, source: old.source }
      : { ...c, since: version, addedAt: at, source: o.sources?.get(c.name) ?? o.defaultSource };
  });
  const status = o.status ?? prev?.status ?? 'inferred';
  return {
    format: REGISTRY_FORMAT,
    table: schema.table,
    version,
    status,
    createdAt: prev?.createdAt ?? at,
    updatedAt: at,
    ...(schema.description ? { description: schema.description } : {}),
    required: [...schema.required],
    allowNewProperties: schema.allowNewProperties,
    orderBy: [...schema.orderBy],
    ...(schema.recordRules ? { recordRules: schema.recordRules } : {}),
    fields,
    history: [...(prev?.history ?? []), { version, at, status, change: o.change }],
    appliedDeclarations: [...(prev?.appliedDeclarations ?? []), ...(o.declarationHash ? [o.declarationHash] : [])],
  };
}

/** Type changes a table accepts: the same type, or int64 widening to double. */
export const isSafeTypeChange = (from: ColumnType, to: ColumnType): boolean =>
  from === to || (from === 'int64' && to === 'double');

/**
 * The schema a table has once a declared (pinned) schema is applied to it. Declared columns take their
 * declared definition; columns the table already has and the declaration omits are kept (their data is in
 * the lake), in their place. Unsafe changes are refused with every problem listed.
 */
export function applyDeclared(current: TableSchema | undefined, declared: TableSchema): TableSchema {
  if (!current) return declared;
  const problems: string[] = [];
  const byName = new Map(declared.properties.map((c) => [c.name, c]));
  for (const old of current.properties) {
    const next = byName.get(old.name);
    if (next && !isSafeTypeChange(old.type, next.type)) {
      problems.push(`property ${old.name} is ${old.type} in the table; ${next.type} is not a safe change (only int64 → double widens). Send the new type under a new property name.`);
    }
  }
  if (current.orderBy.join(',') !== declared.orderBy.join(',')) {
    problems.push(`x-order-by is [${current.orderBy.join(', ')}] and cannot change on an existing table (ClickHouse fixes ORDER BY when it creates the table)`);
  }
  if (problems.length > 0) throw new SchemaCompatibilityError(current.table, problems);
  const kept = current.properties.map((old) => byName.get(old.name) ?? old);
  const known = new Set(current.properties.map((c) => c.name));
  return { ...declared, properties: [...kept, ...declared.properties.filter((c) => !known.has(c.name))] };
}

/** Describes what changed between two schemas of a table, for the history. */
export function describeChange(before: TableSchema | undefined, after: TableSchema): string {
  if (!before) return `created with ${after.properties.length} properties`;
  const old = new Map(before.properties.map((c) => [c.name, c]));
  const parts: string[] = [];
  const added = after.properties.filter((c) => !old.has(c.name));
  if (added.length > 0) parts.push(`added ${added.map((c) => `${c.name} ${c.type}`).join(', ')}`);
  const retyped = after.properties.filter((c) => old.has(c.name) && old.get(c.name)!.type !== c.type);
  if (retyped.length > 0) parts.push(`widened ${retyped.map((c) => `${c.name} ${old.get(c.name)!.type} → ${c.type}`).join(', ')}`);
  const redefined = after.properties.filter((c) => {
    const o = old.get(c.name);
    return o && o.type === c.type && (o.origin !== c.origin || o.pii !== c.pii || o.lowCardinality !== c.lowCardinality || o.description !== c.description);
  });
  if (redefined.length > 0) parts.push(`redefined ${redefined.map((c) => c.name).join(', ')}`);
  if (before.required.join(',') !== after.required.join(',')) parts.push(`required [${after.required.join(', ')}]`);
  if (before.allowNewProperties !== after.allowNewProperties) parts.push(`additionalProperties ${after.allowNewProperties}`);
  if (JSON.stringify(before.recordRules ?? {}) !== JSON.stringify(after.recordRules ?? {})) parts.push(`record rules ${JSON.stringify(after.recordRules ?? {})}`);
  return parts.length > 0 ? parts.join('; ') : 'no column changes';
}

const COLUMN_TYPES: ReadonlySet<string> = new Set(['boolean', 'int32', 'int64', 'double', 'string', 'timestamp', 'date', 'json']);
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** Reads a stored version; a document that is not one fails loudly instead of steering ingest wrongly. */
export function parseRegistryEntry(doc: unknown, where: string): RegistryEntry {
  const bad = (what: string): never => { throw new RegistryFormatError(`${where}: ${what}`); };
  if (typeof doc !== 'object' || doc === null) return bad('not a JSON object');
  const e = doc as Record<string, unknown>;
  if (e['format'] !== REGISTRY_FORMAT) bad(`format is not ${REGISTRY_FORMAT}`);
  if (typeof e['table'] !== 'string' || !isValidEventName(e['table'])) bad('invalid table');
  if (!Number.isSafeInteger(e['version']) || (e['version'] as number) < 1) bad('invalid version');
  if (e['status'] !== 'inferred' && e['status'] !== 'pinned') bad('invalid status');
  if (!isStringArray(e['required']) || !isStringArray(e['orderBy']) || !isStringArray(e['appliedDeclarations'])) bad('invalid required/orderBy/appliedDeclarations');
  if (!Array.isArray(e['fields']) || !Array.isArray(e['history'])) bad('invalid fields/history');
  for (const f of e['fields'] as Array<Record<string, unknown>>) {
    if (typeof f?.['name'] !== 'string' || !COLUMN_TYPES.has(f['type'] as string) || typeof f['since'] !== 'number') bad(`invalid field ${JSON.stringify(f?.['name'])}`);
  }
  return doc as RegistryEntry;
}
