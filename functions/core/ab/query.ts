// The ab-daily aggregation as one ClickHouse query per day: assignments from first exposures, per-user
// metric values, then Σ, Σ² and Σ(x − x̄)² per (experiment, variant, metric). Per-user rows never leave ClickHouse.
import { quoteIdentifier as q, quoteString } from '../identifiers.js';
import type { ColumnType } from '../schema/model.js';
import { ASSIGNMENTS_TABLE, assignedUpToSql } from './assignments.js';
import type { AbConfig, MetricDefinition } from './config.js';

/**
 * Where assignments come from: `scan` every exposure up to the window's end (parameter window_end), or the
 * incremental `assignments` table (assignments.ts; parameter day as well).
 */
export type AssignmentSource = 'scan' | 'assignments';

/** Columns of the tables a query reads, as the warehouse has them (undefined: the table does not exist). */
export type TableColumns = (table: string) => ReadonlyMap<string, ColumnType> | undefined;

export class AbQueryError extends Error {
  override readonly name = 'AbQueryError';
}

const NUMERIC: ReadonlySet<ColumnType> = new Set(['int32', 'int64', 'double', 'boolean']);

/**
 * (Aliases never reuse a column's name: ClickHouse would resolve the column to the aggregate in WHERE.)
 * Exposures up to the window end, one row per (experiment, user): the first exposure's time and variant,
 * and how many distinct variants the user saw (more than one: a crossover, excluded from the analysis).
 */
function exposuresSql(database: string, config: AbConfig): string {
  return `SELECT experiment_id, user_id, min(event_time) AS first_exposure,
      argMin(variant, event_time) AS first_variant, uniqExact(variant) AS variants
    FROM ${q(database)}.${q(config.exposureEvent)} FINAL
    WHERE event_time < {window_end:DateTime64(3, 'UTC')}
      AND user_id IS NOT NULL AND experiment_id IS NOT NULL AND variant IS NOT NULL
    GROUP BY experiment_id, user_id`;
}

/**
 * Per-user values of every metric on one event table, from one join: `[(metric, value), …]` per assigned
 * user, unpivoted by the caller. Metrics that share a table (conversion and revenue on purchase) share the
 * scan and the join.
 */
function eventTableSql(database: string, config: AbConfig, event: string, metrics: readonly MetricDefinition[], columns: TableColumns, source: AssignmentSource): string {
  const table = columns(event);
  const valueColumns = metrics.map((m, i): string => {
    if (m.type !== 'sum') return `toFloat64(1) AS v${i}`;
    const type = table?.get(m.value!);
    if (type !== undefined && !NUMERIC.has(type)) throw new AbQueryError(`metric ${m.name}: ${event}.${m.value} is ${type}, not numeric`);
    // A missing or null value counts 0; a property never seen is a column of zeros.
    return type === undefined ? `toFloat64(0) AS v${i}` : `ifNull(toFloat64(${q(m.value!)}), 0) AS v${i}`;
  });
  // Only events from the first exposure on can count: that bound keeps the join's hash table to the
  // experiments' period instead of the whole history, and costs one granule (event_time leads the sort key).
  // (Filtering by the assigned users too would recompute the assignments: measured twice as slow.)
  const events = table
    ? `SELECT user_id, event_time, ${valueColumns.join(', ')} FROM ${q(database)}.${q(event)} FINAL
      WHERE event_time < {window_end:DateTime64(3, 'UTC')} AND user_id IS NOT NULL
        AND event_time >= (${source === 'scan' ? `SELECT min(event_time) FROM ${q(database)}.${q(config.exposureEvent)}`
          : `SELECT min(first_exposure) FROM ${q(database)}.${q(ASSIGNMENTS_TABLE)} WHERE dt <= toDate({day:String})`})`
    // No such event yet: every assigned user has value 0.
    : `SELECT CAST(NULL AS Nullable(String)) AS user_id, toDateTime64(0, 3, 'UTC') AS event_time, ${metrics.map((_, i) => `toFloat64(0) AS v${i}`).join(', ')} WHERE 0`;
  // Only events at or after the user's first exposure count; unmatched users get ClickHouse's join
  // defaults (epoch time, v = 0), which the condition leaves out.
  const counted = 'e.event_time >= a.first_exposure';
  const values = metrics.map((m, i) => {
    const value = m.type === 'conversion' ? `toFloat64(countIf(${counted}) > 0)`
      : m.type === 'count' ? `toFloat64(countIf(${counted}))`
        : `sumIf(e.v${i}, ${counted})`;
    return `tuple(${quoteString(m.name)}, ${value})`;
  });
  return `SELECT a.experiment_id AS experiment_id, a.variant AS variant, a.user_id AS user_id, [${values.join(', ')}] AS metric_values
    FROM assigned AS a LEFT JOIN (${events}) AS e ON e.user_id = a.user_id
    GROUP BY a.experiment_id, a.variant, a.user_id`;
}

function byEvent(metrics: readonly MetricDefinition[]): Map<string, MetricDefinition[]> {
  const out = new Map<string, MetricDefinition[]>();
  for (const m of metrics) (out.get(m.event) ?? out.set(m.event, []).get(m.event)!).push(m);
  return out;
}

/**
 * Per (experiment, variant, metric): units, Σ value, Σ value² and Σ(value − mean)² (two passes: stable).
 * The sums run over each group's per-user values in sorted order, so a re-run gives the same bits whatever
 * order threads and parts deliver the users in (a parallel sum or varPopStable would not).
 */
export function abAggregateSql(database: string, config: AbConfig, columns: TableColumns, source: AssignmentSource = 'scan'): string {
  return `WITH
  exposures AS (${source === 'scan' ? exposuresSql(database, config) : assignedUpToSql(database)}),
  assigned AS (SELECT experiment_id, user_id, first_exposure, first_variant AS variant FROM exposures WHERE variants = 1)
SELECT experiment_id, variant, metric, length(xs) AS units, arraySum(xs) AS total, arraySum(x -> x * x, xs) AS total_sq,
  arraySum(x -> (x - total / units) * (x - total / units), xs) AS sum_sq_dev
FROM (
  SELECT experiment_id, variant, mv.1 AS metric, arraySort(groupArray(mv.2)) AS xs
  FROM (
    ${[...byEvent(config.metrics)].map(([event, ms]) => eventTableSql(database, config, event, ms, columns, source)).join('\n    UNION ALL\n    ')}
  )
  ARRAY JOIN metric_values AS mv
  GROUP BY experiment_id, variant, metric
)
ORDER BY experiment_id, variant, metric`;
}

export function crossoverSql(database: string, config: AbConfig, source: AssignmentSource = 'scan'): string {
  return `WITH exposures AS (${source === 'scan' ? exposuresSql(database, config) : assignedUpToSql(database)})
SELECT experiment_id, countIf(variants > 1) AS crossover_users FROM exposures GROUP BY experiment_id ORDER BY experiment_id`;
}

/**
 * Per experiment (`ab list`): its variants, users with one variant, crossover users and the days of its
 * first exposures, from the assignments table when there is one (no scan of every exposure).
 */
export function abExperimentsSql(database: string, config: AbConfig, source: AssignmentSource = 'scan'): string {
  const exposures = source === 'scan'
    ? exposuresSql(database, config).replace("WHERE event_time < {window_end:DateTime64(3, 'UTC')}\n      AND", 'WHERE')
    : assignedUpToSql(database).replace('WHERE dt <= toDate({day:String})', '');
  return `WITH exposures AS (${exposures})
SELECT experiment_id, arraySort(groupUniqArray(first_variant)) AS variant_list, countIf(variants = 1) AS users, countIf(variants > 1) AS crossovers,
  toString(toDate(min(first_exposure))) AS first, toString(toDate(max(first_exposure))) AS last
FROM exposures GROUP BY experiment_id ORDER BY experiment_id`;
}
