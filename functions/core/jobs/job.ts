// A windowed job: a daily window, allowed lateness, the event tables it reads and a computation that runs
// in the warehouse. The runner (run-job.ts) owns idempotent delivery of the results.
import type { CellValue } from '../batch/coerce.js';
import type { DerivedTable, Warehouse } from '../ports.js';
import type { SchemaRegistry } from '../schema/registry.js';
import type { JobWindow, WindowKind } from './window.js';

export interface JobContext {
  readonly window: JobWindow;
  readonly isFinal: boolean;
  readonly computedAt: number;
  readonly warehouse: Warehouse;
  readonly registry: SchemaRegistry;
}

export interface JobDefinition {
  readonly name: string;
  /** tumbling UTC windows: a day, or an hour */
  readonly window: WindowKind;
  /** results table: columns then its partition keys (`dt` for daily jobs, `dt`, `hour` for hourly ones) */
  readonly output: DerivedTable;
  /** ClickHouse ordering key of the results table */
  readonly orderBy: readonly string[];
  /** how long after a window ends late events are still expected; final results run after it */
  readonly latenessMs: number;
  /** event tables it reads */
  readonly sources: readonly string[];
  /** the widest backfill it accepts, in days (default MAX_BACKFILL_DAYS) */
  readonly maxBackfillDays?: number;
  /** work before planning windows (a SQL job learns its sources from ClickHouse's parser) */
  prepare?(deps: { readonly warehouse: Warehouse; readonly registry: SchemaRegistry }): Promise<void>;
  /** rows of the window in `output.columns` order (without dt) */
  compute(ctx: JobContext): Promise<CellValue[][]>;
}
