// `tributary schema list | show <event> | pin <event> | push <file>`: the schema registry from the command line.
// Works on the local store, or on the deployment's bucket when TRIBUTARY_BUCKET is set.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describeChecks } from '../../core/schema/constraints.js';
import { declaredEventName, parseDeclaredSchema, SchemaDefinitionError, toDeclaredDocument } from '../../core/schema/declared-schema.js';
import { isValidEventName, normaliseName, excerpt } from '../../core/identifiers.js';
import { schemaOf, type RegistryEntry } from '../../core/schema/registry-entry.js';
import type { SchemaRegistry } from '../../core/schema/registry.js';
import type { RecordRules } from '../../core/schema/record-rules.js';
import { PARTITION_COLUMNS, STANDARD_COLUMNS } from '../../core/schema/model.js';
import { declaredSchemaOptions, type SchemaFiles } from '../../adapters/schema-files.js';
import { escapeValue, formatTable } from '../print.js';
import { UsageError } from '../errors.js';

export interface SchemaCommandContext {
  readonly registry: SchemaRegistry;
  readonly schemas: SchemaFiles;
  readonly schemasDir: string;
}

function eventName(raw: string | undefined, usage: string): string {
  if (!raw) throw new UsageError(usage);
  const name = normaliseName(raw);
  if (!isValidEventName(name)) throw new UsageError(`event ${excerpt(raw)} is not a valid event name`);
  return name;
}

async function entryOf(ctx: SchemaCommandContext, table: string): Promise<RegistryEntry> {
  const entry = await ctx.registry.read(table);
  if (!entry) {
    const declared = ctx.schemas.declared(table) ? ' (a schema file declares it; it is registered when its first record arrives)' : '';
    throw new UsageError(`no registered schema for ${table}${declared}`);
  }
  return entry;
}

export async function schemaList(ctx: SchemaCommandContext): Promise<string> {
  const rows: Array<Record<string, unknown>> = [];
  const registered = await ctx.registry.tables();
  for (const table of registered) {
    const e = await ctx.registry.read(table);
    if (!e) continue;
    rows.push({
      table, status: e.status, version: e.version,
      declared: e.fields.filter((f) => f.origin === 'declared').length,
      inferred: e.fields.filter((f) => f.origin === 'inferred').length,
      updated: e.updatedAt, 'last change': e.history.at(-1)?.change ?? '',
    });
  }
  for (const s of ctx.schemas.list()) {
    if (registered.includes(s.table)) continue;
    rows.push({ table: s.table, status: 'declared', version: '–', declared: s.properties.length, inferred: 0, updated: '–', 'last change': `${ctx.schemas.sourceOf(s.table)}, no records yet` });
  }
  rows.sort((a, b) => String(a['table']).localeCompare(String(b['table'])));
  return rows.length === 0 ? 'No schemas yet: send events (tributary ingest) or add schemas/events/<event>.json.' : formatTable(rows);
}

export async function schemaShow(ctx: SchemaCommandContext, raw: string | undefined): Promise<string> {
  const e = await entryOf(ctx, eventName(raw, 'schema show needs an event name'));
  // The description is whatever the schema's author wrote (or a pushed file carried): escaped like a value.
  const head = [
    `${e.table}: ${e.status}, version ${e.version}, created ${e.createdAt}, updated ${e.updatedAt}`,
    ...(e.description ? [escapeValue(e.description)] : []),
    `order by (${e.orderBy.join(', ')}); required [${e.required.join(', ')}]; new properties ${e.allowNewProperties ? 'allowed' : 'refused'}`,
    ...(e.recordRules ? [`record rules: ${describeRecordRules(e.recordRules)}`] : []),
    `standard columns on every table: ${[...STANDARD_COLUMNS, ...PARTITION_COLUMNS].map((c) => c.name).join(', ')}`,
  ];
  const fields = formatTable(e.fields.map((f) => ({
    field: f.name, type: f.type, origin: f.origin, since: `v${f.since}`, source: f.source,
    pii: f.pii ?? '', checks: describeChecks(f), description: f.description ?? '',
  })));
  const history = formatTable(e.history.map((h) => ({ version: `v${h.version}`, at: h.at, status: h.status, change: h.change })));
  return [...head, '', fields, '', 'History:', history].join('\n');
}

/** `minProperties 2, maxProperties 5, a needs b, c` */
const describeRecordRules = (r: RecordRules): string => [
  ...(r.minProperties !== undefined ? [`minProperties ${r.minProperties}`] : []),
  ...(r.maxProperties !== undefined ? [`maxProperties ${r.maxProperties}`] : []),
  ...(r.dependentRequired ?? []).map(([k, v]) => `${k} needs ${v.join(', ')}`),
].join('; ');

/** Indented JSON with one line per property definition, like the hand-written files in schemas/events. */
function formatDocument(doc: Record<string, unknown>): string {
  const lines = Object.entries(doc).map(([k, v]) => {
    if (k !== 'properties' || typeof v !== 'object' || v === null) return `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`;
    const props = Object.entries(v).map(([name, def]) => `    ${JSON.stringify(name)}: ${JSON.stringify(def)}`);
    return props.length === 0 ? '  "properties": {}' : `  "properties": {\n${props.join(',\n')}\n  }`;
  });
  return `{\n${lines.join(',\n')}\n}`;
}

export interface PinOptions {
  readonly out?: string;
  readonly force?: boolean;
}

/** Writes the registered schema as a JSON Schema file for review; `-` prints it. Returns what it did. */
export async function schemaPin(ctx: SchemaCommandContext, raw: string | undefined, options: PinOptions): Promise<string> {
  const e = await entryOf(ctx, eventName(raw, 'schema pin needs an event name'));
  const text = `${formatDocument(toDeclaredDocument(schemaOf(e)))}\n`;
  if (options.out === '-') return text.trimEnd();
  const target = options.out ?? join(ctx.schemasDir, `${e.table}.json`);
  if (existsSync(target) && !options.force) throw new UsageError(`${target} exists; pass --force to overwrite or --out to write elsewhere`);
  writeFileSync(target, text);
  return `Wrote ${target} (${e.table} v${e.version}, ${e.fields.length} properties). Edit it, then: tributary schema push ${target}`;
}

/** Applies a JSON Schema file to the registry; ingest picks it up within the registry TTL. */
export async function schemaPush(ctx: SchemaCommandContext, file: string | undefined, eventOption: string | undefined): Promise<string> {
  if (!file) throw new UsageError('schema push needs a JSON Schema file');
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new SchemaDefinitionError(`${file}: ${(err as Error).message}`);
  }
  // Held to the deployment's limits as ingest would load it (TRIBUTARY_MAX_COLUMNS_PER_TABLE included).
  const declared = parseDeclaredSchema(eventOption ?? declaredEventName(basename(file, '.json'), doc), doc, declaredSchemaOptions());
  const { entry, changed } = await ctx.registry.pin(declared, `schema push ${basename(file)}`, 'unless-in-force');
  return changed
    ? `${entry.table}: pinned as version ${entry.version} (${entry.history.at(-1)!.change}). Ingest applies it within the registry TTL.`
    : `${entry.table}: this exact schema is already in force (version ${entry.version}); nothing changed.`;
}
