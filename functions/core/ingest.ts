// One invocation of the ingest function: an MSK batch in; every record stored (lake + catalog +
// warehouse) or quarantined. Talks to the outside only through the ports it is given.
import { createHash } from 'node:crypto';
import { planBatch, type BatchPlan, type Split, type TableContext } from './batch/batch-plan.js';
import { ColumnBuffers } from './batch/column-buffers.js';
import type { CellValue } from './batch/coerce.js';
import { mapLimit } from './util/concurrency.js';
import { INSERTS_IN_FLIGHT } from './warehouse/inserts-in-flight.js';
import { DEFAULT_ENVELOPE_LIMITS, type EnvelopeLimits } from './decode/envelope.js';
import { dataKey, partitionPrefix, QUARANTINE_TABLE, sortedRanges, tablePrefix, type FileRange } from './lake/layout.js';
import { encodeSpool, SPOOL_CONTENT_TYPE, spoolKey, type LakeWrites, type SpoolSegment } from './lake/spool.js';
import { decodeMskEvent, type DecodedRecord, type MskEvent, type RecordDecodeProblem } from './decode/msk-event.js';
import { dictionaryColumnsOf, encodeParquet, PARQUET_CONTENT_TYPE, parquetPositions } from './parquet/lake-file.js';
import { partitionId, type Catalog, type IngestLogEntry, type ObjectStore, type Warehouse } from './ports.js';
import type { QuarantineReason } from './quarantine/reasons.js';
import { QUARANTINE_COLUMNS, quarantineFiles } from './quarantine/quarantine-rows.js';
import { ADOPTED_SOURCE, describeChange, nextEntry, recentInferredColumns, schemaOf, type RegistryEntry } from './schema/registry-entry.js';
import type { SchemaRegistry } from './schema/registry.js';
import { schemaSignature, STANDARD_COLUMNS, tableColumns, type TableSchema } from './schema/model.js';
import { hourEnd } from './time.js';

export interface IngestConfig {
  readonly limits: EnvelopeLimits;
  /** salt for `x-pii: hash` columns; keep it secret and stable */
  readonly piiSalt: string;
  /**
   * files written concurrently, and catalog calls for new tables: S3 and Glue round trips. 8: a batch's files
   * and new tables are few beside its inserts (spooled, one object), and Glue throttles bursts per account.
   */
  readonly concurrency: number;
  /** ClickHouse inserts in flight at once, one per table (core/warehouse/inserts-in-flight.ts) */
  readonly insertConcurrency: number;
  /** new columns a table may gain from data per rolling hour; records that would add more are quarantined */
  readonly maxNewColumnsPerHour: number;
  /**
   * Bounds on one batch's work, so that no batch, however strange its records, outgrows the function's
   * memory or timeout and is retried forever: property columns per table, tables a batch may create from
   * data (declared schemas are not counted), files a batch may write. Records past a bound are quarantined.
   */
  readonly maxColumnsPerTable: number;
  readonly maxNewTablesPerBatch: number;
  readonly maxFilesPerBatch: number;
  /**
   * Where this invocation delivers. Both (the `coupled` topology), or one of the two paths of `split`: the
   * lake path (files, catalog, quarantine files) never talks to the warehouse, and the fresh path (tables,
   * quarantine and ingest log in the warehouse) writes no file and makes no catalog call, so an outage of
   * one sink never stalls the other. Both paths register schema changes in the registry.
   */
  readonly sinks: Sinks;
  /**
   * How the lake sink writes: `direct`, a Parquet file per (table, hour) and its catalog partition in the
   * invocation; `spool`, one spool object per batch holding every table's rows, which the materializer turns
   * into files and partitions every few minutes (core/lake/materialize.ts, docs/lake.md).
   */
  readonly lakeWrites: LakeWrites;
  /** job output tables (schemas/jobs), by table: the job. Events of those names are quarantined (invalid_event_name). */
  readonly jobOutputs: ReadonlyMap<string, string>;
}

export interface Sinks {
  readonly lake: boolean;
  readonly warehouse: boolean;
}

export const ALL_SINKS: Sinks = { lake: true, warehouse: true };

export const DEFAULT_INGEST_CONFIG: IngestConfig = {
  limits: DEFAULT_ENVELOPE_LIMITS, piiSalt: '', concurrency: 8, insertConcurrency: INSERTS_IN_FLIGHT, maxNewColumnsPerHour: 50, maxColumnsPerTable: 1000, maxNewTablesPerBatch: 20, maxFilesPerBatch: 1000,
  sinks: ALL_SINKS, lakeWrites: 'direct', jobOutputs: new Map(),
};

export interface IngestDeps {
  readonly store: ObjectStore;
  readonly catalog: Catalog;
  readonly warehouse: Warehouse;
  readonly registry: SchemaRegistry;
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
  /** the object key; on the fresh path (no lake) the key the lake path gives the same rows */
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
  /** By table name: a Map, since names come from data (an event may be called `constructor`). */
  readonly tables: ReadonlyMap<string, TableReport>;
  /** tables this batch registered in the catalog for the first time */
  readonly tablesCreated: string[];
  readonly columnsAdded: Array<{ table: string; column: string; type: string }>;
  readonly columnsWidened: Array<{ table: string; column: string; type: string }>;
  /** declared schema files that could not be applied (the registry's schema was used instead) */
  readonly schemaProblems: readonly string[];
  /** lake files written (none on the fresh path) */
  readonly files: FileReport[];
  /** warehouse inserts made, one per table (and one for the quarantine) at most */
  readonly inserts: number;
  /** the batch's spool object, when the lake sink spools (`lakeWrites: 'spool'`) */
  readonly spool?: { readonly key: string; readonly bytes: number };
}

const MAX_PLAN_ATTEMPTS = 8;

interface Resolved {
  readonly plan: BatchPlan;
  readonly problems: readonly string[];
}

/**
 * Plans the batch against the registry and records its schema changes there, before anything is written.
 * A change is a conditional write of the table's next version; when another invocation wrote that version
 * first, the batch is re-planned against it, so concurrent discoveries of the same field converge.
 */
async function planAgainstRegistry(decoded: { records: readonly DecodedRecord[]; problems: readonly RecordDecodeProblem[] }, now: number, config: IngestConfig, deps: IngestDeps): Promise<Resolved> {
  for (let attempt = 1; attempt <= MAX_PLAN_ATTEMPTS; attempt++) {
    const entries = new Map<string, RegistryEntry>();
    const adopted = new Set<string>();
    const problems: string[] = [];
    const tableContext = async (table: string): Promise<TableContext> => {
      const current = await deps.registry.current([table]);
      problems.push(...current.problems);
      const entry = current.entries.get(table);
      if (entry) entries.set(table, entry);
      // A table the catalog has but the registry does not (created before the registry existed) is adopted,
      // by a path that talks to the catalog: the fresh path of `split` makes no catalog call.
      const before = entry ? schemaOf(entry) : config.sinks.lake ? await deps.catalog.getTable(table) : undefined;
      if (!entry && before) adopted.add(table);
      const hourly = config.maxNewColumnsPerHour - recentInferredColumns(entry, now);
      const total = config.maxColumnsPerTable - (before?.properties.length ?? 0);
      return {
        before,
        newColumnBudget: Math.min(hourly, total),
        newColumnLimit: hourly <= total ? `${config.maxNewColumnsPerHour} new columns per table per hour` : `${config.maxColumnsPerTable} columns per table`,
      };
    };
    const plan = await planBatch(decoded.records, decoded.problems, {
      now, piiSalt: config.piiSalt, limits: config.limits, tableContext, maxNewTables: config.maxNewTablesPerBatch, maxFiles: config.maxFilesPerBatch,
      jobOutputs: config.jobOutputs,
    });

    const stored = new Set(plan.splits.map((s) => s.table));
    const changes: RegistryEntry[] = [];
    for (const [table, tp] of plan.tables) {
      if (!stored.has(table)) continue; // every record quarantined: nothing to register
      if (tp.before && tp.added.length === 0 && tp.widened.length === 0 && !adopted.has(table)) continue;
      changes.push(nextEntry(entries.get(table), tp.schema, {
        now,
        change: adopted.has(table) ? `adopted from the catalog; ${describeChange(tp.before, tp.schema)}` : describeChange(tp.before, tp.schema),
        sources: new Map([...tp.firstSeen].map(([name, at]) => [name, `inferred from ${at}`])),
        defaultSource: adopted.has(table) ? ADOPTED_SOURCE : 'inferred',
      }));
    }
    let conflicted = false;
    for (const entry of changes) if (!(await deps.registry.commit(entry))) conflicted = true;
    if (!conflicted) return { plan, problems };
  }
  throw new Error(`schema registry: the batch's tables kept changing under ${MAX_PLAN_ATTEMPTS} attempts to plan it`);
}

/** Signatures this container has seen in the catalog, so a warm invocation makes no catalog call for them. */
const catalogSignatures = new WeakMap<Catalog, Map<string, string>>();

/**
 * Brings the catalog and the warehouse up to the registry's schema (creates, adds columns, widens).
 * True when the catalog had no such table.
 */
async function syncTable(schema: TableSchema, deps: IngestDeps, sinks: Sinks): Promise<boolean> {
  if (sinks.warehouse) await deps.warehouse.ensureTable(schema);
  if (!sinks.lake) return false;
  let seen = catalogSignatures.get(deps.catalog);
  if (!seen) catalogSignatures.set(deps.catalog, (seen = new Map()));
  const signature = schemaSignature(schema);
  let created = false;
  if (seen.get(schema.table) !== signature) {
    const current = await deps.catalog.getTable(schema.table);
    if (!current || schemaSignature(current) !== signature) await deps.catalog.upsertTable(schema, deps.store.uri(tablePrefix(schema.table)));
    seen.set(schema.table, signature);
    created = current === undefined;
  }
  return created;
}

const PARTITION_COLUMN = STANDARD_COLUMNS.findIndex((c) => c.name === '_partition');
const OFFSET_COLUMN = STANDARD_COLUMNS.findIndex((c) => c.name === '_offset');
const EVENT_TIME_COLUMN = STANDARD_COLUMNS.findIndex((c) => c.name === 'event_time');

/** Which Kafka records a set of rows holds, in row order. */
interface Positions {
  readonly topics: readonly string[];
  readonly partitions: ArrayLike<number>;
  readonly offsets: ArrayLike<number>;
}

/** A split's row positions: its rows come grouped by topic-partition, in the order of its ranges. */
function splitPositions(split: Split): Positions {
  const topics: string[] = [];
  for (const r of split.ranges.values()) for (let i = 0; i < r.rows; i++) topics.push(r.topic);
  return { topics, partitions: split.rows.int32s(PARTITION_COLUMN), offsets: split.rows.numbers(OFFSET_COLUMN) };
}

/**
 * The warehouse dedup token of one insert: the table and a digest of exactly which Kafka records it holds,
 * whatever hours and files they span. Whether a record is stored can depend on the clock (the future-skew
 * check) and the registry, so a retry may store another set; it then inserts again (ReplacingMergeTree
 * folds the overlap) instead of being dropped as a duplicate while the lake takes the new file. It names
 * rows, not files, so a redelivery after compaction moved a partition to a new version still deduplicates.
 */
function dedupToken(table: string, parts: readonly Positions[]): string {
  const h = createHash('sha256');
  for (const p of parts) {
    h.update(p.topics.join('\u0000'));
    h.update(Buffer.from(Float64Array.from(p.partitions).buffer));
    h.update(Buffer.from(Float64Array.from(p.offsets).buffer));
  }
  return `${table}#${h.digest('hex').slice(0, 32)}`;
}

/**
 * Writes a data file, unless its key already holds the same Kafka records: a redelivered batch then keeps
 * the first delivery's file, whose rows are the ones ClickHouse kept (it drops the repeated insert by its
 * token), received_at included. A file with other records under the key (a retry whose records fared
 * otherwise) is replaced. Returns the bytes the key holds.
 */
async function putDataFile(store: ObjectStore, key: string, bytes: Uint8Array, positions: Positions): Promise<Uint8Array> {
  if (await store.putIfAbsent(key, bytes, { contentType: PARQUET_CONTENT_TYPE })) return bytes;
  const existing = await store.get(key);
  if (existing && samePositions(await parquetPositions(existing), positions)) return existing;
  await store.put(key, bytes, { contentType: PARQUET_CONTENT_TYPE });
  return bytes;
}

function samePositions(a: Positions, b: Positions): boolean {
  if (a.offsets.length !== b.offsets.length) return false;
  for (let i = 0; i < a.offsets.length; i++) {
    if (a.offsets[i] !== b.offsets[i] || a.partitions[i] !== b.partitions[i] || a.topics[i] !== b.topics[i]) return false;
  }
  return true;
}

/** One table's rows of the batch as one Parquet body: its only file's, or its files' rows together. */
async function tableBody(splits: readonly Split[], lakeBytes: ReadonlyMap<Split, Uint8Array>): Promise<Uint8Array> {
  const only = splits.length === 1 ? lakeBytes.get(splits[0]!) : undefined;
  if (only) return only;
  const columns = splits[0]!.rows.columns;
  const all = ColumnBuffers.fromRows(columns, splits.flatMap((s) => s.rows.rows()));
  return encodeParquet(all, { dictionaryColumns: dictionaryColumnsOf(columns) });
}

export async function ingestBatch(event: MskEvent, deps: IngestDeps): Promise<IngestReport> {
  const config = { ...DEFAULT_INGEST_CONFIG, ...deps.config };
  const { sinks } = config;
  if (!sinks.lake && !sinks.warehouse) throw new Error('ingest needs at least one sink: the lake, the warehouse or both');
  const now = deps.clock();
  const decoded = decodeMskEvent(event);
  const { records } = decoded;
  const { plan, problems: schemaProblems } = await planAgainstRegistry(decoded, now, config, deps);
  // Registry, then catalog and warehouse, then files: a column exists everywhere before a file carries it.
  // Tables are independent of each other: a container meeting many for the first time sets them up side
  // by side rather than one round trip after another.
  const tables = [...new Set(plan.splits.map((s) => s.table))];
  const isNew = await mapLimit(tables, config.concurrency, (table) => syncTable(plan.tables.get(table)!.schema, deps, sinks));
  const created = tables.filter((_, i) => isNew[i]);

  // Lake first, then the catalog's partitions, then the warehouse: a crash at any point leaves a state
  // that the ESM's retry of the same batch completes without duplicates (same keys, same dedup tokens).
  // Spooling, the lake is one object holding the batch's rows (quarantined ones too), written before the
  // warehouse as a file is; the materializer writes the files and partitions.
  const spooling = sinks.lake && config.lakeWrites === 'spool';
  const qFiles = quarantineFiles(plan.quarantined, now);
  const spool = spooling && records.length > 0 ? await writeSpool(deps.store, records, plan, qFiles, now) : undefined;
  const keys = spool ? new Map(plan.splits.map((s) => [s, spool.key])) : sinks.lake ? await fileKeys(plan.splits, now, deps.catalog, config.concurrency) : new Map(plan.splits.map((s) => [s, s.key]));
  const positions = new Map(plan.splits.map((s) => [s, splitPositions(s)]));
  const lakeBytes = new Map<Split, Uint8Array>();
  if (sinks.lake && !spooling) {
    await mapLimit(plan.splits, config.concurrency, async (split) => {
      const bytes = await encodeParquet(split.rows, { dictionaryColumns: dictionaryColumnsOf(split.rows.columns) });
      lakeBytes.set(split, await putDataFile(deps.store, keys.get(split)!, bytes, positions.get(split)!));
    });
    await followSwitches(plan.splits, keys, now, deps, config.concurrency, async (split, key) => {
      lakeBytes.set(split, await putDataFile(deps.store, key, lakeBytes.get(split)!, positions.get(split)!));
    });
  }
  const byTable = new Map<string, Split[]>();
  for (const split of plan.splits) (byTable.get(split.table) ?? byTable.set(split.table, []).get(split.table)!).push(split);
  if (sinks.lake && !spooling) {
    await mapLimit([...byTable], config.concurrency, ([table, splits]) =>
      deps.catalog.addPartitions(table, uniquePartitions(splits), (p) => deps.store.uri(partitionPrefix(table, p.dt, p.hour))));
  }
  // One insert per table, whatever hours and topic-partitions the batch spans: ClickHouse's parts grow
  // with invocations × tables, not with hours × partitions too.
  let inserts = 0;
  const tableBytes = new Map<string, number>();
  if (sinks.warehouse) {
    await mapLimit([...byTable], config.insertConcurrency, async ([table, splits]) => {
      const schema = plan.tables.get(table)!.schema;
      const body = await tableBody(splits, lakeBytes);
      tableBytes.set(table, body.length);
      await deps.warehouse.insertParquet(table, tableColumns(schema), { key: splits.length === 1 ? keys.get(splits[0]!)! : tablePrefix(table), bytes: body }, dedupToken(table, splits.map((s) => positions.get(s)!)));
      inserts++;
    });
  }

  const encodeQuarantine = (rows: CellValue[][]): Promise<Uint8Array> =>
    encodeParquet(ColumnBuffers.fromRows(QUARANTINE_COLUMNS, rows), { dictionaryColumns: ['_topic', 'reason', 'event'] });
  // Lake files only where the lake is a sink; the fresh path encodes its one insert body and nothing else.
  const qLake = sinks.lake && !spooling ? await mapLimit(qFiles, config.concurrency, (q) => encodeQuarantine(q.rows)) : [];
  const qBytes = new Map(qFiles.map((q, i) => [q.key, qLake[i]?.length ?? 0]));
  if (qFiles.length > 0) {
    if (sinks.lake && !spooling) await mapLimit(qFiles, config.concurrency, async (q, i) => deps.store.put(q.key, qLake[i]!, { contentType: PARQUET_CONTENT_TYPE }));
    if (sinks.warehouse) {
      await deps.warehouse.ensureQuarantineTable();
      const body = qLake.length === 1 ? qLake[0]! : await encodeQuarantine(qFiles.flatMap((q) => q.rows));
      const positions = qFiles.map((q) => ({ topics: q.rows.map((r) => String(r[0])) /* a quarantine row starts with its topic */, partitions: q.partitions, offsets: q.offsets }));
      await deps.warehouse.insertParquet(QUARANTINE_TABLE, QUARANTINE_COLUMNS, { key: qFiles.length === 1 ? qFiles[0]!.key : tablePrefix(QUARANTINE_TABLE), bytes: body }, dedupToken(QUARANTINE_TABLE, positions));
      inserts++;
    }
  }

  // Last, the ingest log (the warehouse's): only an invocation that stored everything is logged as done.
  // A file of several topic-partitions is one row per partition; its bytes are on the first, so sum(bytes)
  // stays the bytes written.
  if (sinks.warehouse) {
    const finished = deps.clock();
    const batchKeys = batchKeysOf(records);
    const log: IngestLogEntry[] = [
      ...plan.splits.flatMap((split) => {
        const times = split.rows.numbers(EVENT_TIME_COLUMN);
        let min = Infinity;
        let max = -Infinity;
        for (const t of times) { if (t < min) min = t; if (t > max) max = t; }
        const bytes = lakeBytes.get(split)?.length ?? 0;
        return [...split.ranges.values()].map((r, i) => logEntry(batchKeys, { key: keys.get(split)!, event: split.table, outcome: 'stored', topic: r.topic, partition: r.partition, firstOffset: r.firstOffset, lastOffset: r.lastOffset, rows: r.rows, bytes: i === 0 ? bytes : 0, minTime: min, maxTime: max }, now, finished));
      }),
      ...qFiles.flatMap((q) => q.ranges.map((r, i) => logEntry(batchKeys, { key: q.key, event: QUARANTINE_TABLE, outcome: 'quarantined', topic: r.topic, partition: r.partition, firstOffset: r.firstOffset, lastOffset: r.lastOffset, rows: q.rowsPerRange[i]!, bytes: i === 0 ? qBytes.get(q.key) ?? 0 : 0, minTime: Infinity, maxTime: -Infinity }, now, finished))),
    ];
    await deps.warehouse.recordIngest(log, `ingest-log:${[...batchKeys.values()].sort().join(',')}`);
  }

  const files = plan.splits.map((split) => ({ split, key: keys.get(split)!, bytes: lakeBytes.get(split)?.length ?? 0 }));
  const report = buildReport(plan, files, sinks.lake && !spooling, now, created, schemaProblems, inserts);
  return spool ? { ...report, spool } : report;
}

/**
 * The batch's one spool object, under a key from its Kafka ranges. A redelivery finding it keeps the first
 * delivery's: it holds that delivery's whole outcome (stored and quarantined), and the materializer takes
 * each Kafka record once whichever spool holds it.
 */
async function writeSpool(store: IngestDeps['store'], records: readonly DecodedRecord[], plan: BatchPlan, qFiles: ReturnType<typeof quarantineFiles>, now: number): Promise<{ key: string; bytes: number }> {
  const segments: SpoolSegment[] = [
    ...plan.splits.map((s): SpoolSegment => ({
      kind: 'data', table: s.table, dt: s.dt, hour: s.hour, key: s.key, ranges: sortedRanges(s.ranges.values()),
      columns: s.rows.columns.map((c) => ({ name: c.name, type: c.type })), rows: s.rows.rows(),
    })),
    ...qFiles.map((q): SpoolSegment => ({ kind: 'quarantine', table: QUARANTINE_TABLE, dt: q.dt, hour: q.hour, key: q.key, ranges: q.ranges, columns: QUARANTINE_COLUMNS.map((c) => ({ name: c.name, type: c.type })), rows: q.rows })),
  ];
  const ranges: FileRange[] = [...batchRanges(records).values()];
  const key = spoolKey(ranges);
  const body = encodeSpool({ ranges, writtenAt: now, segments });
  await store.putIfAbsent(key, body, { contentType: SPOOL_CONTENT_TYPE });
  return { key, bytes: body.length };
}

/**
 * Object keys for the batch's files. A partition whose hour has ended may have been compacted: its late
 * rows go into the version the catalog points at, so readers see them at once. (A compaction switching the
 * partition between this lookup and the write leaves the file in the older version: followSwitches.)
 */
async function fileKeys(splits: readonly Split[], now: number, catalog: Catalog, concurrency: number): Promise<Map<Split, string>> {
  const keys = new Map(splits.map((s) => [s, s.key]));
  const closed = new Map<string, Split[]>();
  for (const s of splits) {
    if (hourEnd(s.dt, s.hour) > now) continue;
    (closed.get(s.table) ?? closed.set(s.table, []).get(s.table)!).push(s);
  }
  await mapLimit([...closed], concurrency, async ([table, list]) => {
    const states = await catalog.getPartitions(table, uniquePartitions(list));
    for (const s of list) {
      const version = states.get(partitionId(s))?.version ?? 0;
      if (version > 0) keys.set(s, dataKey(table, s.dt, s.hour, [...s.ranges.values()], version));
    }
  });
  return keys;
}

/**
 * A compaction that switched a closed hour between the lookup and the write left the file in the version
 * the catalog no longer points at (unless the compaction's own look after its switch found it). Looked up
 * again after the write, a moved partition gets the file in its new version too: readers see the rows now,
 * and the next compaction folds the two copies.
 */
async function followSwitches(splits: readonly Split[], keys: Map<Split, string>, now: number, deps: IngestDeps, concurrency: number,
  write: (split: Split, key: string) => Promise<void>): Promise<void> {
  const closed = splits.filter((s) => hourEnd(s.dt, s.hour) <= now);
  for (let round = 0; round < 3 && closed.length > 0; round++) {
    const fresh = await fileKeys(closed, now, deps.catalog, concurrency);
    const moved = closed.filter((s) => fresh.get(s) !== keys.get(s));
    if (moved.length === 0) return;
    await mapLimit(moved, concurrency, async (s) => {
      keys.set(s, fresh.get(s)!);
      await write(s, fresh.get(s)!);
    });
  }
}

/** `<topic>+<partition>+<first>-<last>` of the invocation's records, per topic-partition. */
function batchKeysOf(records: readonly DecodedRecord[]): Map<string, string> {
  return new Map([...batchRanges(records)].map(([id, r]) => [id, `${r.topic}+${r.partition}+${r.firstOffset}-${r.lastOffset}`]));
}

/** The invocation's records as one Kafka range per topic-partition. */
function batchRanges(records: readonly DecodedRecord[]): Map<string, FileRange> {
  const ranges = new Map<string, { topic: string; partition: number; first: number; last: number }>();
  let g: { topic: string; partition: number; first: number; last: number } | undefined;
  for (const r of records) {
    // Records come grouped by topic-partition (decodeMskEvent): look a range up only when that changes.
    if (g?.topic !== r.topic || g.partition !== r.partition) {
      const id = `${r.topic}\u0000${r.partition}`;
      g = ranges.get(id);
      if (!g) ranges.set(id, (g = { topic: r.topic, partition: r.partition, first: r.offset, last: r.offset }));
    }
    g.first = Math.min(g.first, r.offset);
    g.last = Math.max(g.last, r.offset);
  }
  return new Map([...ranges].map(([id, r]) => [id, { topic: r.topic, partition: r.partition, firstOffset: r.first, lastOffset: r.last }]));
}

interface LoggedFile {
  key: string; event: string; outcome: 'stored' | 'quarantined'; topic: string; partition: number;
  firstOffset: number; lastOffset: number; rows: number; bytes: number; minTime: number; maxTime: number;
}

function logEntry(batchKeys: ReadonlyMap<string, string>, f: LoggedFile, started: number, finished: number): IngestLogEntry {
  return {
    batch_key: batchKeys.get(`${f.topic}\u0000${f.partition}`) ?? '', file_key: f.key, event: f.event, outcome: f.outcome,
    _topic: f.topic, _partition: f.partition, first_offset: f.firstOffset, last_offset: f.lastOffset, rows: f.rows, bytes: f.bytes,
    min_event_time: Number.isFinite(f.minTime) ? f.minTime : null, max_event_time: Number.isFinite(f.maxTime) ? f.maxTime : null,
    started_at: started, finished_at: finished,
  };
}

function uniquePartitions(splits: readonly Split[]): Array<{ dt: string; hour: number }> {
  const seen = new Map<string, { dt: string; hour: number }>();
  for (const s of splits) seen.set(`${s.dt}/${s.hour}`, { dt: s.dt, hour: s.hour });
  return [...seen.values()];
}

function buildReport(
  plan: BatchPlan, stored: ReadonlyArray<{ split: Split; key: string; bytes: number }>, lakeWritten: boolean,
  now: number, created: string[], schemaProblems: readonly string[], inserts: number,
): IngestReport {
  const tables = new Map<string, TableReport>();
  const eventTimes = new Map<string, Float64Array[]>();
  for (const { split, bytes } of stored) {
    let t = tables.get(split.table);
    if (!t) tables.set(split.table, (t = { rows: 0, files: 0, bytes: 0, freshnessP50Ms: undefined, freshnessMaxMs: undefined }));
    t.rows += split.rows.length;
    if (lakeWritten) t.files += 1;
    t.bytes += bytes;
    (eventTimes.get(split.table) ?? eventTimes.set(split.table, []).get(split.table)!).push(split.rows.numbers(EVENT_TIME_COLUMN));
  }
  for (const [table, columns] of eventTimes) {
    // Freshness is now − event time: its median is now − the median event time, its maximum now − the earliest.
    const times = new Float64Array(columns.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of columns) { times.set(c, at); at += c.length; }
    times.sort();
    const t = tables.get(table)!;
    t.freshnessP50Ms = now - times[times.length - Math.ceil(times.length / 2)]!;
    t.freshnessMaxMs = now - times[0]!;
  }
  const quarantinedByReason: Partial<Record<QuarantineReason, number>> = {};
  for (const q of plan.quarantined) quarantinedByReason[q.reason] = (quarantinedByReason[q.reason] ?? 0) + 1;
  return {
    recordsIn: plan.recordsIn,
    stored: stored.reduce((n, f) => n + f.split.rows.length, 0),
    quarantined: plan.quarantined.length,
    quarantinedByReason,
    tables,
    tablesCreated: created,
    columnsAdded: [...plan.tables].flatMap(([table, p]) => (tables.has(table) ? p.added.map((c) => ({ table, column: c.name, type: c.type })) : [])),
    columnsWidened: [...plan.tables].flatMap(([table, p]) => (tables.has(table) ? p.widened.map((c) => ({ table, column: c.name, type: c.type })) : [])),
    schemaProblems,
    files: lakeWritten ? stored.map(({ split, key, bytes }) => ({ key, table: split.table, rows: split.rows.length, bytes })) : [],
    inserts,
  };
}
