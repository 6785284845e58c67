// Runs one window of a job and delivers its results idempotently: the lake partition's single file is
// overwritten and the warehouse partition replaced atomically, so a re-run never appends a second copy.
import { ColumnBuffers } from '../batch/column-buffers.js';
import { LAKE_PREFIX } from '../lake/layout.js';
import { encodeParquet, PARQUET_CONTENT_TYPE } from '../parquet/lake-file.js';
import type { Catalog, ObjectStore, Warehouse } from '../ports.js';
import type { SchemaRegistry } from '../schema/registry.js';
import type { JobDefinition } from './job.js';
import { pad2 } from '../time.js';
import { epochDayOf, windowLabel, windowsOfDay, windowStatus, WindowError, type JobWindow } from './window.js';

export interface JobDeps {
  readonly store: ObjectStore;
  readonly catalog: Catalog;
  readonly warehouse: Warehouse;
  readonly registry: SchemaRegistry;
  readonly clock: () => number;
}

export interface WindowRun {
  readonly job: string;
  readonly window: string;
  readonly isFinal: boolean;
  readonly rows: number;
  readonly key: string;
  readonly seconds: number;
}

export const jobPartitionPrefix = (table: string, w: JobWindow): string =>
  `${LAKE_PREFIX}/${table}/dt=${w.date}/${w.hour === undefined ? '' : `hour=${pad2(w.hour)}/`}`;

/** Runs every window of a day that has started (a daily job: the day; an hourly job: its hours so far). */
export async function runJobDay(job: JobDefinition, date: string, deps: JobDeps): Promise<WindowRun[]> {
  const now = deps.clock();
  const windows = windowsOfDay(job.window, date).filter((w) => windowStatus(w, now, job.latenessMs) !== 'future');
  if (windows.length === 0) throw new WindowError(`${job.name}: ${date} has not started yet`);
  const runs: WindowRun[] = [];
  for (const w of windows) runs.push(await runJobWindow(job, w, deps));
  return runs;
}

/**
 * Runs one window and records the run in the warehouse's run history (failed runs too, with their message,
 * before the error goes on to the caller). A run whose record cannot be written fails: the scheduler runs
 * it again, which replaces the window's results, so the history does not silently miss a run.
 */
export async function runJobWindow(job: JobDefinition, window: JobWindow, deps: JobDeps): Promise<WindowRun> {
  const startedAt = deps.clock();
  const status = windowStatus(window, startedAt, job.latenessMs);
  if (status === 'future') throw new WindowError(`${job.name}: ${windowLabel(window)} has not started yet`);
  const record = deps.warehouse.recordJobRun?.bind(deps.warehouse);
  let run: WindowRun;
  try {
    run = await deliverWindow(job, window, status === 'final', startedAt, deps);
  } catch (err) {
    await record?.({ job: job.name, window: windowLabel(window), outcome: 'failed', rows: 0, started_at: startedAt, finished_at: deps.clock(), error: (err as Error).message })
      .catch(() => undefined); // the run's own error is the one to report
    throw err;
  }
  await record?.({ job: job.name, window: run.window, outcome: run.isFinal ? 'final' : 'provisional', rows: run.rows, started_at: startedAt, finished_at: deps.clock(), error: '' });
  return run;
}

async function deliverWindow(job: JobDefinition, window: JobWindow, isFinal: boolean, computedAt: number, deps: JobDeps): Promise<WindowRun> {
  const started = performance.now();
  const rows = await job.compute({ window, isFinal, computedAt, warehouse: deps.warehouse, registry: deps.registry });

  const columns = [...job.output.columns, ...job.output.partitionKeys];
  const partitionCells = job.window === 'hourly' ? [epochDayOf(window), window.hour!] : [epochDayOf(window)];
  const bytes = await encodeParquet(ColumnBuffers.fromRows(columns, rows.map((r) => [...r, ...partitionCells])));
  const prefix = jobPartitionPrefix(job.output.table, window);
  const key = `${prefix}part-00000.parquet`;
  const partition = window.hour === undefined ? { dt: window.date } : { dt: window.date, hour: window.hour };
  await deps.store.put(key, bytes, { contentType: PARQUET_CONTENT_TYPE });
  await deps.catalog.upsertDerivedTable(job.output, deps.store.uri(`${LAKE_PREFIX}/${job.output.table}/`));
  await deps.catalog.addPartitions(job.output.table, [partition], () => deps.store.uri(prefix));
  await deps.warehouse.replacePartition(job.output, job.orderBy, partition, rows.length > 0 ? { key, bytes } : undefined);
  return { job: job.name, window: windowLabel(window), isFinal, rows: rows.length, key, seconds: (performance.now() - started) / 1000 };
}
