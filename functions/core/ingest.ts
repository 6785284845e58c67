// One invocation of the ingest function: an MSK batch in; every record stored (lake + catalog +
// warehouse) or quarantined. Talks to the outside only through the ports it is given.
import { parseBatch, planBatch, type BatchPlan, type Split } from './batch-plan.js';
import { ColumnBuffers } from './column-buffers.js';
import { buildArrowTable } from './columnar.js';
import { mapLimit } from './concurrency.js';
import { DEFAULT_ENVELOPE_LIMITS, type EnvelopeLimits } from './envelope.js';
import { partitionPrefix, QUARANTINE_TABLE, tablePrefix } from './lake-layout.js';
import { decodeMskEvent, type MskEvent } from './msk-event.js';
import { dictionaryColumnsOf, encodeParquet, PARQUET_CONTENT_TYPE } from './parquet.js';
import type { Catalog, ObjectStore, Warehouse } from './ports.js';
import type { QuarantineReason } from './quarantine.js';
import { QUARANTINE_COLUMNS, quarantineFiles } from './quarantine-files.js';
import { mergeKnownSchemas, schemaSignature, tableColumns, type TableSchema } from './schema.js';
import { percentile } from './stats.js';

export interface SchemaSource {
  /** The declared schema of an event table, if one is pinned. */
  declared(table: string): TableSchema | undefined;
}

export interface IngestConfig {
  readonly limits: EnvelopeLimits;
  /** salt for `x-pii: hash` columns; keep it secret and stable */
  readonly piiSalt: string;
  /** files written and inserted concurrently */
  readonly concurrency: number;
}

export const DEFAULT_INGEST_CONFIG: IngestConfig = { limits: DEFAULT_ENVELOPE_LIMITS, piiSalt: '', concurrency: 4 };

export interface IngestDeps {
  readonly store: ObjectStore;
  readonly catalog: Catalog;
  readonly warehouse: Warehouse;
  readonly schemas: SchemaSource;
  readonly clock: () => number;
  readonly config?: Partial<IngestConfig>;
}

export interface TableReport {
  rows: number;
  files: number;
  bytes: number;
  freshnessP50Ms: number | undefined;
  freshnessMaxMs: number | undefined;
}

export interface FileReport {
  readonly key: string;
  readonly table: string;
  readonly rows: number;
  readonly bytes: number;
}

export interface IngestReport {
  readonly recordsIn: number;
  readonly stored: number;
  readonly quarantined: number;
  readonly quarantinedByReason: Partial<Record<QuarantineReason, number>>;
  readonly tables: Record<string, TableReport>;
  /** tables this batch registered in the catalog for the first time */
  readonly tablesCreated: string[];
  readonly columnsAdded: Array<{ table: string; column: string; type: string }>;
  readonly files: FileReport[];
}

async function loadKnownSchemas(tables: Iterable<string>, deps: IngestDeps): Promise<Map<string, { known?: TableSchema; registered?: TableSchema }>> {
  const out = new Map<string, { known?: TableSchema; registered?: TableSchema }>();
  for (const table of tables) {
    const registered = await deps.catalog.getTable(table);
    const known = mergeKnownSchemas(deps.schemas.declared(table), registered);
    out.set(table, { ...(known ? { known } : {}), ...(registered ? { registered } : {}) });
  }
  return out;
}

/** Applies the batch's schema changes to the catalog and the warehouse before any file is written. */
async function registerSchemas(plan: BatchPlan, storedTables: ReadonlySet<string>, registered: Map<string, { registered?: TableSchema }>, deps: IngestDeps): Promise<void> {
  for (const [table, { schema }] of plan.tables) {
    if (!storedTables.has(table)) continue; // every record quarantined: nothing to register
    const before = registered.get(table)?.registered;
    if (!before || schemaSignature(before) !== schemaSignature(schema)) {
      await deps.catalog.upsertTable(schema, deps.store.uri(tablePrefix(table)));
    }
    await deps.warehouse.ensureTable(schema);
  }
}

export async function ingestBatch(event: MskEvent, deps: IngestDeps): Promise<IngestReport> {
  const config = { ...DEFAULT_INGEST_CONFIG, ...deps.config };
  const now = deps.clock();
  const { records, problems } = decodeMskEvent(event);

  const parsed = parseBatch(records, problems, now, config.limits);
  const known = await loadKnownSchemas(parsed.byTable.keys(), deps);
  const knownSchemas = new Map([...known].flatMap(([t, k]) => (k.known ? [[t, k.known] as const] : [])));
  const plan = planBatch(parsed, { now, piiSalt: config.piiSalt, knownSchemas });

  const storedTables = new Set(plan.splits.map((s) => s.table));
  await registerSchemas(plan, storedTables, known, deps);

  // Lake first, then the catalog's partitions, then the warehouse: a crash at any point leaves a state
  // that the ESM's retry of the same batch completes without duplicates (same keys, same dedup tokens).
  const files = await mapLimit(plan.splits, config.concurrency, async (split) => {
    const bytes = encodeParquet(buildArrowTable(split.rows), { dictionaryColumns: dictionaryColumnsOf(split.rows.columns) });
    await deps.store.put(split.key, bytes, { contentType: PARQUET_CONTENT_TYPE });
    return { split, bytes };
  });
  const byTable = new Map<string, Split[]>();
  for (const { split } of files) (byTable.get(split.table) ?? byTable.set(split.table, []).get(split.table)!).push(split);
  for (const [table, splits] of byTable) {
    const parts = uniquePartitions(splits);
    await deps.catalog.addPartitions(table, parts, (p) => deps.store.uri(partitionPrefix(table, p.dt, p.hour)));
  }
  await mapLimit(files, config.concurrency, async ({ split, bytes }) => {
    const schema = plan.tables.get(split.table)!.schema;
    await deps.warehouse.insertParquet(split.table, tableColumns(schema), { key: split.key, bytes }, split.key);
  });

  const qFiles = quarantineFiles(plan.quarantined, now);
  if (qFiles.length > 0) {
    await deps.warehouse.ensureQuarantineTable();
    await mapLimit(qFiles, config.concurrency, async (q) => {
      const bytes = encodeParquet(buildArrowTable(ColumnBuffers.fromRows(QUARANTINE_COLUMNS, q.rows)), { dictionaryColumns: ['_topic', 'reason', 'event'] });
      await deps.store.put(q.key, bytes, { contentType: PARQUET_CONTENT_TYPE });
      await deps.warehouse.insertParquet(QUARANTINE_TABLE, QUARANTINE_COLUMNS, { key: q.key, bytes }, q.key);
    });
  }

  const created = [...storedTables].filter((t) => known.get(t)?.registered === undefined);
  return buildReport(plan, files, now, created);
}

function uniquePartitions(splits: readonly Split[]): Array<{ dt: string; hour: number }> {
  const seen = new Map<string, { dt: string; hour: number }>();
  for (const s of splits) seen.set(`${s.dt}/${s.hour}`, { dt: s.dt, hour: s.hour });
  return [...seen.values()];
}

function buildReport(plan: BatchPlan, files: ReadonlyArray<{ split: Split; bytes: Uint8Array }>, now: number, created: string[]): IngestReport {
  const tables: Record<string, TableReport> = {};
  const lag = new Map<string, number[]>();
  for (const { split, bytes } of files) {
    const t = (tables[split.table] ??= { rows: 0, files: 0, bytes: 0, freshnessP50Ms: undefined, freshnessMaxMs: undefined });
    t.rows += split.rows.length;
    t.files += 1;
    t.bytes += bytes.length;
    const l = lag.get(split.table) ?? lag.set(split.table, []).get(split.table)!;
    for (const eventTime of split.rows.numbers(1)) l.push(now - eventTime); // column 1 is event_time
  }
  for (const [table, values] of lag) {
    tables[table]!.freshnessP50Ms = percentile(values, 50);
    tables[table]!.freshnessMaxMs = percentile(values, 100);
  }
  const quarantinedByReason: Partial<Record<QuarantineReason, number>> = {};
  for (const q of plan.quarantined) quarantinedByReason[q.reason] = (quarantinedByReason[q.reason] ?? 0) + 1;
  const stored = files.reduce((n, f) => n + f.split.rows.length, 0);
  return {
    recordsIn: plan.recordsIn,
    stored,
    quarantined: plan.quarantined.length,
    quarantinedByReason,
    tables,
    tablesCreated: created,
    columnsAdded: [...plan.tables].flatMap(([table, p]) => (tables[table] ? p.addedColumns.map((c) => ({ table, column: c.name, type: c.type })) : [])),
    files: files.map(({ split, bytes }) => ({ key: split.key, table: split.table, rows: split.rows.length, bytes: bytes.length })),
  };
}
