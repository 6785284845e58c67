// Runs one window of a job and delivers its results idempotently: the lake partition's single file is
// overwritten and the warehouse partition replaced atomically, so a re-run never appends a second copy.
import { ColumnBuffers } from '../column-buffers.js';
import { buildArrowTable } from '../columnar.js';
import { LAKE_PREFIX } from '../lake-layout.js';
import { encodeParquet, PARQUET_CONTENT_TYPE } from '../parquet.js';
import type { Catalog, ObjectStore, Warehouse } from '../ports.js';
import type { SchemaRegistry } from '../schema-registry.js';
import type { JobDefinition } from './job.js';
import { dayWindow, epochDayOf, windowStatus, WindowError } from './window.js';

export interface JobDeps {
  readonly store: ObjectStore;
  readonly catalog: Catalog;
  readonly warehouse: Warehouse;
  readonly registry: SchemaRegistry;
  readonly clock: () => number;
}

export interface WindowRun {
  readonly job: string;
  readonly date: string;
  readonly isFinal: boolean;
  readonly rows: number;
  readonly key: string;
  readonly seconds: number;
}

export const jobPartitionPrefix = (table: string, date: string): string => `${LAKE_PREFIX}/${table}/dt=${date}/`;

export async function runJobWindow(job: JobDefinition, date: string, deps: JobDeps): Promise<WindowRun> {
  const started = performance.now();
  const window = dayWindow(date);
  const now = deps.clock();
  const status = windowStatus(window, now, job.latenessMs);
  if (status === 'future') throw new WindowError(`${job.name}: ${date} has not started yet`);
  const rows = await job.compute({ window, isFinal: status === 'final', computedAt: now, warehouse: deps.warehouse, registry: deps.registry });

  const columns = [...job.output.columns, ...job.output.partitionKeys];
  const dtDay = epochDayOf(window);
  const bytes = encodeParquet(buildArrowTable(ColumnBuffers.fromRows(columns, rows.map((r) => [...r, dtDay]))));
  const prefix = jobPartitionPrefix(job.output.table, date);
  const key = `${prefix}part-00000.parquet`;
  await deps.store.put(key, bytes, { contentType: PARQUET_CONTENT_TYPE });
  await deps.catalog.upsertDerivedTable(job.output, deps.store.uri(`${LAKE_PREFIX}/${job.output.table}/`));
  await deps.catalog.addPartitions(job.output.table, [{ dt: date }], () => deps.store.uri(prefix));
  await deps.warehouse.replaceDailyPartition(job.output, job.orderBy, date, rows.length > 0 ? { key, bytes } : undefined);
  return { job: job.name, date, isFinal: status === 'final', rows: rows.length, key, seconds: (performance.now() - started) / 1000 };
}
