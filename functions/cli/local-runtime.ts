// Wiring for a laptop: a directory as the object store, Glue-shaped JSON as the catalog, chDB as ClickHouse.
// Everything lives under TRIBUTARY_HOME (default ./.tributary).
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalJsonCatalog } from '../adapters/catalog/local-json.js';
import { LocalDirectoryStore } from '../adapters/object-store/local-directory.js';
import type { SchemaFiles } from '../adapters/schema-files.js';
import { openChdbWarehouse, type ChdbWarehouse } from '../adapters/warehouse/chdb.js';
import type { ClickHouseWarehouse } from '../adapters/warehouse/clickhouse.js';
import { clickhouseType, lakeGlob } from '../core/warehouse/clickhouse-ddl.js';
import { allColumns, fromTableInput, isDerivedTable } from '../core/lake/glue-table.js';
import { quoteIdentifier, quoteString } from '../core/identifiers.js';
import type { CompactionDeps, CompactionEngine, CompactionOptions } from '../core/lake/compact-partition.js';
import type { IngestDeps } from '../core/ingest.js';
import type { JobDeps } from '../core/jobs/run-job.js';
import type { Catalog, ObjectStore } from '../core/ports.js';
import type { SchemaCommandContext } from './commands/schema.js';
import { REGISTRY_PREFIX } from '../core/schema/registry-entry.js';
import { SchemaRegistry } from '../core/schema/registry.js';
import { LAKE_PREFIX, QUARANTINE_TABLE } from '../core/lake/layout.js';
import { QUARANTINE_COLUMNS } from '../core/quarantine/quarantine-rows.js';
import { tableColumns, type ColumnSpec } from '../core/schema/model.js';
import { cliClock } from './clock.js';
import { removeOrphanedTemporaryFiles } from '../adapters/object-store/orphans.js';
import { UsageError } from './errors.js';
import { storeHome } from './serve/discovery.js';

export const PACKAGE_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export interface LocalRuntimeOptions {
  readonly home?: string;
  readonly schemasDir?: string;
  readonly clock?: () => number;
  readonly piiSalt?: string;
  /** how long ingest trusts a loaded registry entry (default 30 s, like the Lambda) */
  readonly registryTtlMs?: number;
  readonly maxNewColumnsPerHour?: number;
  /** the job files whose output tables ingest refuses as event names (default defaultJobsDir()) */
  readonly jobsDir?: string;
  /** one statement at a time on chDB's session, whoever sends it (serve: BI queries and forwarded commands) */
  readonly serialize?: boolean;
}

/**
 * The open local store without the schema machinery, which is what `sql` needs: declared schemas load JSON
 * Schema and regex engines (Ajv, re2js) that a query never uses.
 */
export interface LocalStore {
  readonly home: string;
  readonly store: LocalDirectoryStore;
  readonly catalog: LocalJsonCatalog;
  readonly warehouse: ClickHouseWarehouse;
  /** Catalog tables that hold events (not jobs' outputs). */
  eventTables(): Promise<string[]>;
  /** Compaction over the local lake: DuckDB reads the files in place. */
  compaction(options?: Partial<CompactionOptions>, onStep?: CompactionDeps['onStep']): CompactionDeps;
  /** Runs `f` with chDB's session to itself (see ChdbWarehouse.exclusive). */
  exclusive<T>(f: () => Promise<T>): Promise<T>;
  /** Exposes every catalog table (and the quarantine) as a view `lake.<table>` over its Parquet files. */
  refreshLakeViews(): Promise<string[]>;
  close(): Promise<void>;
}

export interface LocalRuntime extends LocalStore {
  readonly schemas: SchemaFiles;
  readonly schemasDir: string;
  readonly registry: SchemaRegistry;
  readonly deps: IngestDeps;
}

export function defaultSchemasDir(): string {
  const fromEnv = process.env['TRIBUTARY_SCHEMAS'];
  // A directory named on purpose that is not there is a mistake to say, not a store with no schemas.
  if (fromEnv && !existsSync(resolve(fromEnv))) throw new UsageError(`TRIBUTARY_SCHEMAS names ${resolve(fromEnv)}, which does not exist: create it, or unset TRIBUTARY_SCHEMAS to use schemas/events`);
  if (fromEnv) return resolve(fromEnv);
  const local = resolve('schemas/events');
  return existsSync(local) ? local : join(PACKAGE_ROOT, 'schemas/events');
}

/** Where local state lives: `options.home`, else `$TRIBUTARY_HOME`, else `.tributary`. */
const homeOf = (options: LocalRuntimeOptions): string => (options.home !== undefined ? resolve(options.home) : storeHome());

/**
 * The registry alone, for `tributary schema`: the local store, or the deployment's bucket when
 * TRIBUTARY_BUCKET is set (credentials from the usual AWS chain).
 */
export async function openSchemaContext(options: LocalRuntimeOptions = {}): Promise<SchemaCommandContext> {
  const bucket = process.env['TRIBUTARY_BUCKET'];
  const home = homeOf(options);
  let store: ObjectStore;
  if (bucket) {
    const { S3Client } = await import('@aws-sdk/client-s3');
    const { S3_CLIENT_CONFIG, S3Store } = await import('../adapters/object-store/s3.js');
    store = new S3Store(new S3Client(S3_CLIENT_CONFIG), { bucket });
  } else {
    store = new LocalDirectoryStore(home);
  }
  // A push for a table only the catalog has is checked against the catalog's columns, as ingest does.
  const glueDatabase = process.env['TRIBUTARY_GLUE_DATABASE'];
  let catalog: Catalog | undefined;
  if (bucket && glueDatabase) {
    const { GlueClient } = await import('@aws-sdk/client-glue');
    const { GLUE_CLIENT_CONFIG, GlueCatalog } = await import('../adapters/catalog/glue.js');
    catalog = new GlueCatalog(new GlueClient(GLUE_CLIENT_CONFIG), glueDatabase);
  } else if (!bucket) {
    catalog = new LocalJsonCatalog(join(home, 'catalog'));
  }
  const schemasDir = options.schemasDir ?? defaultSchemasDir();
  const { SchemaFiles } = await import('../adapters/schema-files.js');
  const schemas = SchemaFiles.load(schemasDir);
  const adopt = catalog ? { adopt: (t: string) => catalog.getTable(t) } : {};
  return { registry: new SchemaRegistry(store, { clock: options.clock ?? cliClock(), ...adopt }), schemas, schemasDir };
}

export function defaultJobsDir(): string {
  const fromEnv = process.env['TRIBUTARY_JOBS'];
  if (fromEnv) return resolve(fromEnv);
  const local = resolve('schemas/jobs');
  return existsSync(local) ? local : join(PACKAGE_ROOT, 'schemas/jobs');
}

/** What jobs run against: the local runtime, or AWS (S3, Glue, ClickHouse) when TRIBUTARY_BUCKET is set. */
export async function openJobContext(): Promise<{ deps: JobDeps; close(): Promise<void> }> {
  if (process.env['TRIBUTARY_BUCKET']) {
    const { openAwsServices } = await import('../adapters/aws-services.js');
    const { readServicesEnvironment } = await import('../adapters/environment.js');
    const aws = await openAwsServices(readServicesEnvironment(process.env));
    return { deps: { store: aws.store, catalog: aws.catalog, warehouse: aws.warehouse, registry: aws.registry(), clock: cliClock() }, close: () => aws.warehouse.close() };
  }
  const rt = await openLocalRuntime();
  return { deps: { ...rt.deps, registry: rt.registry }, close: () => rt.close() };
}

/** The open store under a runtime: one chDB per process, so `serve` shares it with the commands it runs. */
interface OpenStore {
  readonly home: string;
  readonly store: LocalDirectoryStore;
  readonly catalog: LocalJsonCatalog;
  readonly chdb: ChdbWarehouse;
}

/** The store `tributary serve` holds: commands it runs for other processes use it instead of opening their own. */
let shared: OpenStore | undefined;
const stores = new WeakMap<LocalStore, OpenStore>();

/**
 * Lends `runtime`'s store to every later openLocalRuntime() on the same home in this process (their close()
 * leaves it open); `serve` calls it with the runtime it opened with `serialize`. Returns the undo.
 */
export function shareLocalRuntime(runtime: LocalStore): () => void {
  const open = stores.get(runtime);
  if (!open) throw new Error('shareLocalRuntime: not a runtime openLocalRuntime() opened');
  shared = open;
  return () => { if (shared === open) shared = undefined; };
}

/** The store with its schema files, registry and ingest ports. */
export async function openLocalRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  const base = await openLocalStore(options);
  try {
    const schemasDir = options.schemasDir ?? defaultSchemasDir();
    const { SchemaFiles } = await import('../adapters/schema-files.js');
    const schemas = SchemaFiles.load(schemasDir);
    const clock = options.clock ?? cliClock();
    const { store, catalog, warehouse } = base;
    const registry = new SchemaRegistry(store, {
      clock, declared: schemas, adopt: (t) => catalog.getTable(t), ...(options.registryTtlMs !== undefined ? { ttlMs: options.registryTtlMs } : {}),
    });
    const deps: IngestDeps = {
      store, catalog, warehouse, registry, clock,
      config: {
        piiSalt: options.piiSalt ?? process.env['TRIBUTARY_PII_SALT'] ?? 'local-development-salt',
        ...(options.maxNewColumnsPerHour !== undefined ? { maxNewColumnsPerHour: options.maxNewColumnsPerHour } : {}),
        jobOutputs: (await import('../adapters/job-files.js')).jobOutputTables(options.jobsDir ?? defaultJobsDir(), schemasDir),
      },
    };
    const runtime: LocalRuntime = { ...base, schemas, schemasDir, registry, deps };
    stores.set(runtime, stores.get(base)!);
    return runtime;
  } catch (err) {
    await base.close();
    throw err;
  }
}

/** The store alone (ClickHouse, lake, catalog): shared with serve's when serve runs this command. */
export async function openLocalStore(options: LocalRuntimeOptions = {}): Promise<LocalStore> {
  const home = homeOf(options);
  if (shared && shared.home === home) return storeOver(shared, options, false);
  await mkdir(home, { recursive: true });
  const store = new LocalDirectoryStore(home);
  const catalog = new LocalJsonCatalog(join(home, 'catalog'));
  // `<event>_all` views read the lake's older days straight from the directory, as s3() does in AWS.
  const lakeRoot = store.path(LAKE_PREFIX);
  const chdb = await openChdbWarehouse(join(home, 'clickhouse'), 'tributary', {
    lakeSource: (table, structure) => `file(${quoteString(lakeGlob(lakeRoot, table))}, 'Parquet', ${quoteString(structure)})`,
    ...(options.serialize ? { serialize: true } : {}),
  });
  // chDB's lock makes this the only process on the home: sweep what killed ones left half-written.
  await removeOrphanedTemporaryFiles([store.path(LAKE_PREFIX), store.path(REGISTRY_PREFIX), join(home, 'catalog')]);
  return storeOver({ home, store, catalog, chdb }, options, true);
}

/** The LocalStore over an open store, with its own clock; `owns` closes the store with it. */
function storeOver(open: OpenStore, options: LocalRuntimeOptions, owns: boolean): LocalStore {
  const { home, store, catalog } = open;
  const { warehouse, raw, exclusive } = open.chdb;
  const clock = options.clock ?? cliClock();

  const view = async (table: string, columns: readonly ColumnSpec[], glob: string): Promise<void> => {
    const structure = columns.map((c) => `${quoteIdentifier(c.name)} ${clickhouseType(c)}`).join(', ');
    await raw.queryAsync(
      `CREATE OR REPLACE VIEW lake.${quoteIdentifier(table)} AS SELECT * FROM file(${quoteString(glob)}, 'Parquet', ${quoteString(structure)})`,
    );
  };

  const local: LocalStore = {
    home, store, catalog, warehouse, exclusive,
    async eventTables() {
      const out: string[] = [];
      for (const t of await catalog.listTables()) {
        const stored = await catalog.read(t);
        if (stored && !isDerivedTable(stored.TableInput)) out.push(t);
      }
      return out;
    },
    compaction(compactionOptions = {}, onStep) {
      // DuckDB loads when a partition is compacted, not with every command (it costs ~0.35 s of start-up).
      const engine: CompactionEngine = {
        async compact(job) {
          const { DuckDbCompactionEngine } = await import('../adapters/compaction/duckdb-engine.js');
          return new DuckDbCompactionEngine({ localPath: (key) => store.path(key), scratchDir: join(home, 'tmp') }).compact(job);
        },
      };
      return { store, catalog, engine, clock, options: { owner: `tributary-cli-${process.pid}`, ...compactionOptions }, ...(onStep ? { onStep } : {}) };
    },
    async refreshLakeViews() {
      await raw.queryAsync('CREATE DATABASE IF NOT EXISTS lake');
      const names: string[] = [];
      for (const table of await catalog.listTables()) {
        const stored = await catalog.read(table);
        if (!stored || stored.Partitions.length === 0) continue;
        // Like Athena: each partition is read at the location the catalog gives it (its current version).
        const root = store.path(`${LAKE_PREFIX}/${table}`);
        const folders = stored.Partitions.map((p) => relative(root, fileURLToPath(p.StorageDescriptor.Location)));
        const columns = isDerivedTable(stored.TableInput) ? allColumns(stored.TableInput) : tableColumns(fromTableInput(stored.TableInput));
        await view(table, columns, `${root}/{${folders.join(',')}}/*.parquet`);
        names.push(table);
      }
      if ((await store.list(`${LAKE_PREFIX}/${QUARANTINE_TABLE}/`)).length > 0) {
        await view(QUARANTINE_TABLE, QUARANTINE_COLUMNS, join(store.path(`${LAKE_PREFIX}/${QUARANTINE_TABLE}`), 'dt=*', 'hour=*', '*.parquet'));
        names.push(QUARANTINE_TABLE);
      }
      return names;
    },
    async close() {
      if (owns) await warehouse.close();
    },
  };
  stores.set(local, open);
  return local;
}
