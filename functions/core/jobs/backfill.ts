// Which days a backfill runs. A range is bounded, and the days before the job's sources hold any data
// (and after today) are skipped, not run: `--from 1900-01-01 --to 2299-12-31` would otherwise queue
// 146,097 days and write an empty partition for each.
import { quoteIdentifier as q } from '../identifiers.js';
import type { Warehouse } from '../ports.js';
import type { JobDefinition } from './job.js';
import { datesBetween, dayWindow, WindowError } from './window.js';

/** At most a year and a day per backfill: ~1 s a day locally, so a bigger range is split on purpose. */
export const MAX_BACKFILL_DAYS = 366;

export interface BackfillPlan {
  readonly dates: readonly string[];
  /** the range's days before the first day any source has data */
  readonly skippedBeforeData: number;
  /** the range's days that have not started yet */
  readonly skippedFuture: number;
  /** the first day with source data, when any source has data */
  readonly firstDataDay?: string;
}

/** The first day with data in any of the job's source tables; a table that does not exist has none. */
async function firstDataDay(job: JobDefinition, warehouse: Warehouse): Promise<string | undefined> {
  const existing = await warehouse.query<{ name: string }>(
    'SELECT name FROM system.tables WHERE database = {database:String} AND has({names:Array(String)}, name)',
    { database: warehouse.database, names: [...job.sources] },
  );
  const days: string[] = [];
  for (const { name } of existing) {
    const rows = await warehouse.query<{ day: string | null }>(`SELECT if(count() = 0, NULL, toString(min(dt))) AS day FROM ${q(warehouse.database)}.${q(name)}`);
    const day = rows[0]?.day;
    if (day) days.push(day);
  }
  return days.sort()[0];
}

export async function planBackfill(job: JobDefinition, from: string, to: string, warehouse: Warehouse, now: number): Promise<BackfillPlan> {
  const span = (dayWindow(to).start - dayWindow(from).start) / 86_400_000 + 1;
  // A job may narrow the range (max_backfill_days); never widen it past the framework's bound.
  const max = Math.min(job.maxBackfillDays ?? MAX_BACKFILL_DAYS, MAX_BACKFILL_DAYS);
  if (span > max) throw new WindowError(`${from} to ${to} is ${span.toLocaleString('en')} days; a backfill covers at most ${max}${max < MAX_BACKFILL_DAYS ? ` (max_backfill_days of ${job.name})` : ''}: split the range`);
  const all = datesBetween(from, to);
  const first = await firstDataDay(job, warehouse);
  const today = new Date(now).toISOString().slice(0, 10);
  const dates = all.filter((d) => first !== undefined && d >= first && d <= today);
  return {
    dates,
    skippedBeforeData: all.filter((d) => first === undefined || d < first).length,
    skippedFuture: all.filter((d) => first !== undefined && d >= first && d > today).length,
    ...(first ? { firstDataDay: first } : {}),
  };
}
