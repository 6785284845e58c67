// The ab-daily aggregation as one ClickHouse query per day: assignments from first exposures, per-user
// metric values, then Σ and Σ² per (experiment, variant, metric). Per-user rows never leave ClickHouse.
import { quoteIdentifier as q, quoteString } from '../identifiers.js';
import type { ColumnType } from '../schema.js';
import type { AbConfig, MetricDefinition } from './config.js';

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

function metricSql(database: string, config: AbConfig, m: MetricDefinition, columns: TableColumns): string {
  const table = columns(m.event);
  let events: string;
  if (!table) {
    // No such event yet: every assigned user has value 0.
    events = `SELECT CAST(NULL AS Nullable(String)) AS user_id, toDateTime64(0, 3, 'UTC') AS event_time, toFloat64(0) AS v WHERE 0`;
  } else {
    let v = 'toFloat64(1)';
    if (m.type === 'sum') {
      const type = table.get(m.value!);
      if (type !== undefined && !NUMERIC.has(type)) throw new AbQueryError(`metric ${m.name}: ${m.event}.${m.value} is ${type}, not numeric`);
      // A missing or null value counts 0; a property never seen is a column of zeros.
      v = type === undefined ? 'toFloat64(0)' : `ifNull(toFloat64(${q(m.value!)}), 0)`;
    }
    events = `SELECT user_id, event_time, ${v} AS v FROM ${q(database)}.${q(m.event)} FINAL
      WHERE event_time < {window_end:DateTime64(3, 'UTC')} AND user_id IS NOT NULL`;
  }
  // Only events at or after the user's first exposure count; unmatched users get ClickHouse's join
  // defaults (epoch time, v = 0), which the condition leaves out.
  const counted = 'e.event_time >= a.first_exposure';
  const value = m.type === 'conversion' ? `toFloat64(countIf(${counted}) > 0)`
    : m.type === 'count' ? `toFloat64(countIf(${counted}))`
      : `sumIf(e.v, ${counted})`;
  return `SELECT a.experiment_id AS experiment_id, a.variant AS variant, ${quoteString(m.name)} AS metric, a.user_id AS user_id, ${value} AS value
    FROM assigned AS a LEFT JOIN (${events}) AS e ON e.user_id = a.user_id
    GROUP BY a.experiment_id, a.variant, a.user_id`;
}

/** Per (experiment, variant, metric): units, Σ value, Σ value²; per experiment: crossover users. */
export function abAggregateSql(database: string, config: AbConfig, columns: TableColumns): string {
  return `WITH
  exposures AS (${exposuresSql(database, config)}),
  assigned AS (SELECT experiment_id, user_id, first_exposure, first_variant AS variant FROM exposures WHERE variants = 1)
SELECT experiment_id, variant, metric, count() AS units, sum(value) AS total, sum(value * value) AS total_sq
FROM (
  ${config.metrics.map((m) => metricSql(database, config, m, columns)).join('\n  UNION ALL\n  ')}
)
GROUP BY experiment_id, variant, metric
ORDER BY experiment_id, variant, metric`;
}

export function crossoverSql(database: string, config: AbConfig): string {
  return `WITH exposures AS (${exposuresSql(database, config)})
SELECT experiment_id, countIf(variants > 1) AS crossover_users FROM exposures GROUP BY experiment_id ORDER BY experiment_id`;
}
