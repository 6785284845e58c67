// The small interfaces the core talks to. Adapters implement them for AWS (S3, Glue, ClickHouse over
// HTTP) and for a laptop (a directory, Glue-shaped JSON files, embedded chDB).
import type { ColumnSpec, TableSchema } from './schema/model.js';

export interface ObjectStore {
  /** Writes (or overwrites) an object; resolves once it is durable. */
  put(key: string, body: Uint8Array, options: { contentType: string }): Promise<void>;
  /**
   * Writes an object only if no object has that key; false when one exists. Compare-and-swap on immutable
   * versions (the schema registry), and a data file's first write (a redelivery keeps the first copy).
   */
  putIfAbsent(key: string, body: Uint8Array, options: { contentType: string }): Promise<boolean>;
  get(key: string): Promise<Uint8Array | undefined>;
  /** Deletes objects; keys that do not exist are not an error. */
  delete(keys: readonly string[]): Promise<void>;
  /**
   * Keys under a prefix, sorted; with a range, only keys after `startAfter` and before `before` (an S3
   * store asks from `startAfter` and stops paging past `before`, so a range costs what it holds).
   */
  list(prefix: string, range?: KeyRange): Promise<string[]>;
  /** The location URI of a key or prefix, as a catalog or a query engine names it (s3://…, file://…). */
  uri(key: string): string;
}

export interface KeyRange {
  /** only keys greater than this */
  readonly startAfter?: string;
  /** only keys less than this */
  readonly before?: string;
}

export const inKeyRange = (key: string, range: KeyRange | undefined): boolean =>
  (range?.startAfter === undefined || key > range.startAfter) && (range?.before === undefined || key < range.before);

/** A catalog partition: an hour of an event table, or a day (hour absent) of a job's output table. */
export interface PartitionRef {
  readonly dt: string;
  readonly hour?: number;
}

/** A table a job writes: its columns, its partition keys (a prefix of dt, hour) and a description. */
export interface DerivedTable {
  readonly table: string;
  readonly columns: readonly ColumnSpec[];
  readonly partitionKeys: readonly ColumnSpec[];
  readonly description: string;
}

/** A registered partition: where readers find it, and which compaction version that is (0: never compacted). */
export interface PartitionState extends PartitionRef {
  readonly location: string;
  readonly version: number;
  /** the data columns readers apply to its files (its own, which may lag the table's); absent if unknown */
  readonly columns?: readonly ColumnSpec[];
}

export const partitionId = (p: PartitionRef): string => (p.hour === undefined ? p.dt : `${p.dt}/${p.hour}`);

export interface Catalog {
  getTable(table: string): Promise<TableSchema | undefined>;
  /**
   * Several tables read fresh in as few requests as the catalog allows (Glue: GetTables, a page of 100
   * tables a call, against a GetTable per table); absent tables are left out. Optional: without it a caller
   * reads each with getTable.
   */
  getTables?(tables: readonly string[]): Promise<Map<string, TableSchema>>;
  /** Creates the table or updates its columns; existing columns and partition keys are kept. */
  upsertTable(schema: TableSchema, location: string): Promise<void>;
  /**
   * Registers partitions, and brings the columns of already registered ones up to the table's (a batch
   * writing after a column was added or widened), keeping their location and version.
   */
  addPartitions<P extends PartitionRef>(table: string, partitions: readonly P[], locationOf: (p: P) => string): Promise<void>;
  /** Creates or updates a job's output table (its own columns and partition keys, e.g. `dt` only). */
  upsertDerivedTable(table: DerivedTable, location: string): Promise<void>;
  /** Every table; with 'event', only those ingest writes (not jobs' output tables). */
  listTables(kind?: 'event'): Promise<string[]>;
  listPartitions(table: string): Promise<PartitionState[]>;
  /** The registered state of some partitions, keyed by partitionId; unregistered ones are absent. */
  getPartitions(table: string, partitions: readonly PartitionRef[]): Promise<Map<string, PartitionState>>;
  /** Points a partition at a new version's location in one catalog update: readers switch atomically. */
  switchPartition(table: string, partition: PartitionRef, version: number, location: string): Promise<void>;
}

export interface ParquetFile {
  /** object key, for messages and for inserters that can read the lake directly */
  readonly key: string;
  readonly bytes: Uint8Array;
}

/** One run of a job window, for the warehouse's run history (`_job_runs`): what the console's Jobs page lists. */
export interface JobRunEntry {
  readonly job: string;
  /** the window's label: `2026-11-20` (daily) or `2026-11-20T09` (hourly) */
  readonly window: string;
  readonly outcome: 'final' | 'provisional' | 'failed';
  readonly rows: number;
  readonly started_at: number;
  readonly finished_at: number;
  /** the failure's message ('' when it did not fail) */
  readonly error: string;
}

/** One file an invocation wrote, for the warehouse's ingest log (`_ingest_log`). */
export interface IngestLogEntry {
  readonly batch_key: string;
  readonly file_key: string;
  readonly event: string;
  readonly outcome: 'stored' | 'quarantined';
  readonly _topic: string;
  readonly _partition: number;
  readonly first_offset: number;
  readonly last_offset: number;
  readonly rows: number;
  readonly bytes: number;
  /** epoch ms */
  readonly min_event_time: number | null;
  readonly max_event_time: number | null;
  readonly started_at: number;
  readonly finished_at: number;
}

export interface Warehouse {
  /** the database that holds the event tables (queries qualify names with it) */
  readonly database: string;
  /** Creates the table if needed and adds any columns it lacks. */
  ensureTable(schema: TableSchema): Promise<void>;
  ensureQuarantineTable(): Promise<void>;
  /**
   * Inserts a Parquet file's rows. The dedup token makes a retried insert of the same file a no-op.
   * `columns` are the file's columns, matched by name.
   */
  insertParquet(table: string, columns: readonly ColumnSpec[], file: ParquetFile, dedupToken: string): Promise<void>;
  /** Rows of a read-only query (jobs); values bound as ClickHouse query parameters. */
  query<T>(sql: string, params?: Record<string, unknown>): Promise<T[]>;
  /**
   * Runs a statement that returns no rows (DDL, INSERT … SELECT, ALTER … REPLACE PARTITION) for a job's own
   * state tables, with values bound as query parameters. Optional: a job without it takes a slower path.
   */
  execute?(sql: string, params?: Record<string, unknown>): Promise<void>;
  /**
   * Replaces one partition (a day, or an hour) of a job's output table with the file's rows (or with
   * nothing) in one atomic step, creating the table first if needed.
   */
  replacePartition(table: DerivedTable, orderBy: readonly string[], partition: PartitionRef, file: ParquetFile | undefined): Promise<void>;
  /** Appends to the ingest log; the token makes a retried invocation's entries a no-op. */
  recordIngest(entries: readonly IngestLogEntry[], dedupToken: string): Promise<void>;
  /** Appends a job run to the run history. Optional: a warehouse without it keeps none (test doubles). */
  recordJobRun?(run: JobRunEntry): Promise<void>;
  close(): Promise<void>;
}
