// The ab-daily job: cumulative A/B results for a day, computed in the warehouse from the event tables the
// configuration names (schemas/jobs/ab-daily.json).
import type { JobDefinition } from '../jobs/job.js';
import { schemaOf } from '../schema/registry-entry.js';
import type { SchemaRegistry } from '../schema/registry.js';
import { STANDARD_COLUMNS, type ColumnType } from '../schema/model.js';
import type { AbConfig } from './config.js';
import { updateAssignments } from './assignments.js';
import { abAggregateSql, AbQueryError, crossoverSql, type AssignmentSource } from './query.js';
import { AB_DAILY_TABLE, abCells, abRows } from './results.js';

/** Final results for day D run at 00:30 UTC on D + 1: events up to 30 minutes late still count. */
export const AB_DAILY_LATENESS_MS = 30 * 60_000;

async function columnsOf(registry: SchemaRegistry, table: string): Promise<Map<string, ColumnType> | undefined> {
  const entry = await registry.read(table);
  if (!entry) return undefined;
  return new Map([...STANDARD_COLUMNS, ...schemaOf(entry).properties].map((c) => [c.name, c.type]));
}

const clickhouseTime = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

export function abDailyJob(config: AbConfig): JobDefinition {
  const sources = [...new Set([config.exposureEvent, ...config.metrics.map((m) => m.event)])];
  return {
    name: 'ab-daily',
    window: 'daily',
    output: AB_DAILY_TABLE,
    orderBy: ['experiment_id', 'metric', 'variant'],
    latenessMs: AB_DAILY_LATENESS_MS,
    sources,
    ...(config.maxBackfillDays !== undefined ? { maxBackfillDays: config.maxBackfillDays } : {}),
    async compute(ctx) {
      const columns = new Map<string, Map<string, ColumnType>>();
      for (const table of sources) {
        const c = await columnsOf(ctx.registry, table);
        if (c) columns.set(table, c);
      }
      const exposure = columns.get(config.exposureEvent);
      if (!exposure) return []; // no exposures yet: no experiments to report
      for (const needed of ['experiment_id', 'variant']) {
        if (!exposure.has(needed)) throw new AbQueryError(`${config.exposureEvent} has no ${needed} property`);
      }
      const params = { window_end: clickhouseTime(ctx.window.end), day: ctx.window.date };
      const db = ctx.warehouse.database;
      // With a warehouse that runs statements: the incremental assignments (a day reads one day of
      // exposures plus the assignments); otherwise every exposure since the first, as before.
      const warehouse = ctx.warehouse;
      let source: AssignmentSource = 'scan';
      if (warehouse.execute && config.assignments !== 'scan') {
        await updateAssignments({ database: db, query: warehouse.query.bind(warehouse), execute: warehouse.execute.bind(warehouse) }, config, ctx.window.date);
        source = 'assignments';
      }
      const aggregates = await ctx.warehouse.query<{ experiment_id: string; variant: string; metric: string; units: string; total: number; total_sq: number; sum_sq_dev: number }>(
        abAggregateSql(db, config, (t) => columns.get(t), source), params);
      const crossovers = await ctx.warehouse.query<{ experiment_id: string; crossover_users: string }>(crossoverSql(db, config, source), params);
      const rows = abRows(
        aggregates.map((a) => ({ experiment: a.experiment_id, variant: a.variant, metric: a.metric, units: Number(a.units), total: Number(a.total), totalSq: Number(a.total_sq), sumSqDev: Number(a.sum_sq_dev) })),
        new Map(crossovers.map((c) => [c.experiment_id, Number(c.crossover_users)])),
        config, { isFinal: ctx.isFinal, computedAt: ctx.computedAt },
      );
      return abCells(rows);
    },
  };
}
