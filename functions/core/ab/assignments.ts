// ab-daily's incremental assignments: per day, the (experiment, user) rows whose exposures that day change
// the cumulative state (a first exposure, or a variant outside the ones seen before). The state up to the
// end of D is then an aggregation of these rows for days ≤ D, so a day reads one day of exposures plus the
// assignments (≈ one row per user and experiment) instead of every exposure since the experiment began.
//
// The state a user needs is min(time), the variant at that time, and min/max variant (more than one variant
// ⇔ min ≠ max). These aggregate over any union of rows, and exposures only ever add, so a day's rows stay
// correct when an earlier day gains late exposures: its own rows are recomputed (its exposure partition
// changed after them), and later days' rows, computed against a smaller state, are at worst redundant.
import { quoteIdentifier as q } from '../identifiers.js';
import type { Warehouse } from '../ports.js';
import { DAY_MS } from '../jobs/window.js';
import type { AbConfig } from './config.js';

export const ASSIGNMENTS_TABLE = 'ab_assignments';

/** What maintaining the assignments needs of the warehouse: queries and statements. */
export type StatementWarehouse = Pick<Warehouse, 'database' | 'query'> & Required<Pick<Warehouse, 'execute'>>;

const t = (database: string, table: string): string => `${q(database)}.${q(table)}`;
const clickhouseTime = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
const dayId = (date: string): string => date.replace(/-/g, '');

export function createAssignmentsSql(database: string): string {
  return `CREATE TABLE IF NOT EXISTS ${t(database, ASSIGNMENTS_TABLE)} (
  dt Date, experiment_id String, user_id String, first_exposure DateTime64(3, 'UTC'),
  first_variant String, min_variant String, max_variant String
) ENGINE = MergeTree PARTITION BY toYYYYMMDD(dt) ORDER BY (experiment_id, user_id)
COMMENT 'ab-daily state: per day, the first exposures and new variants of (experiment, user) (rebuilt from the exposures when dropped)'`;
}

/**
 * Day D's rows: D's exposures per (experiment, user), except those the state before D already covers
 * (seen, with every variant of D within its min..max). Parameters: day, day_start, day_end.
 */
export function assignmentsDeltaSql(database: string, config: AbConfig): string {
  // The state is read for the day's users only (a set of the day's pairs filters the scan before the
  // GROUP BY), so its aggregation follows one day's users, not everyone ever exposed.
  return `WITH day AS (
    SELECT assumeNotNull(experiment_id) AS experiment_id, assumeNotNull(user_id) AS user_id, min(event_time) AS first_exposure,
      argMin(assumeNotNull(variant), event_time) AS first_variant, min(assumeNotNull(variant)) AS min_variant, max(assumeNotNull(variant)) AS max_variant
    FROM ${t(database, config.exposureEvent)} FINAL
    WHERE event_time >= {day_start:DateTime64(3, 'UTC')} AND event_time < {day_end:DateTime64(3, 'UTC')}
      AND user_id IS NOT NULL AND experiment_id IS NOT NULL AND variant IS NOT NULL
    GROUP BY experiment_id, user_id
  )
  SELECT toDate({day:String}) AS dt, d.experiment_id AS experiment_id, d.user_id AS user_id, d.first_exposure AS first_exposure,
    d.first_variant AS first_variant, d.min_variant AS min_variant, d.max_variant AS max_variant
  FROM day AS d
  LEFT JOIN (
    SELECT experiment_id, user_id, min(min_variant) AS seen_min, max(max_variant) AS seen_max, 1 AS seen
    FROM ${t(database, ASSIGNMENTS_TABLE)} WHERE dt < toDate({day:String}) AND (experiment_id, user_id) IN (SELECT experiment_id, user_id FROM day)
    GROUP BY experiment_id, user_id
  ) AS s ON d.experiment_id = s.experiment_id AND d.user_id = s.user_id
  WHERE s.seen = 0 OR d.min_variant < s.seen_min OR d.max_variant > s.seen_max`;
}

/**
 * The assignments up to the end of D, one row per (experiment, user), shaped as the full scan's
 * `exposures` (first_exposure, first_variant, variants: 1, or 2 for more than one). Parameter: day.
 */
export function assignedUpToSql(database: string): string {
  // (Inner names differ from the outer aliases: ClickHouse would resolve a column to a same-named aggregate.)
  return `SELECT experiment_id, user_id, min(t0) AS first_exposure, argMin(v0, t0) AS first_variant, if(min(lo) = max(hi), 1, 2) AS variants
    FROM (SELECT experiment_id, user_id, first_exposure AS t0, first_variant AS v0, min_variant AS lo, max_variant AS hi
          FROM ${t(database, ASSIGNMENTS_TABLE)} WHERE dt <= toDate({day:String}))
    GROUP BY experiment_id, user_id`;
}

/** Longer than a day's computation may take (the ab-daily function's timeout is 10 minutes). */
export const FRESH_MARGIN_S = 15 * 60;

interface PartitionTime { partition_id: string; modified: string | number }

/**
 * The days up to `date` whose assignment rows are missing or older than their exposures (late or
 * redelivered events since), oldest first: what a run must (re)compute before reading the state.
 */
export async function staleDays(warehouse: Pick<Warehouse, 'database' | 'query'>, config: AbConfig, date: string): Promise<string[]> {
  const times = async (table: string): Promise<Map<string, number>> => new Map((await warehouse.query<PartitionTime>(
    `SELECT partition_id, toUnixTimestamp(max(modification_time)) AS modified FROM system.parts
     WHERE database = {db:String} AND table = {t:String} AND active GROUP BY partition_id`, { db: warehouse.database, t: table },
  )).map((r) => [r.partition_id, Number(r.modified)]));
  const exposures = await times(config.exposureEvent);
  const assignments = await times(ASSIGNMENTS_TABLE);
  const last = dayId(date);
  // A day's rows count as current only when written well after its exposures' last write: an insert that
  // lands while a day is being computed (or within the same second) makes the day stale again.
  return [...exposures].filter(([id, at]) => id <= last && !(assignments.get(id)! > at + FRESH_MARGIN_S))
    .map(([id]) => `${id.slice(0, 4)}-${id.slice(4, 6)}-${id.slice(6, 8)}`).sort();
}

/** Recomputes one day's assignment rows and swaps them in (idempotent: a re-run replaces the day). */
export async function refreshAssignmentDay(warehouse: StatementWarehouse, config: AbConfig, date: string): Promise<void> {
  const db = warehouse.database;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new Error(`invalid date ${JSON.stringify(date)}`);
  const start = Date.parse(`${date}T00:00:00Z`);
  const stage = `_stage_${ASSIGNMENTS_TABLE}_${dayId(date)}_${Math.random().toString(36).slice(2, 10)}`;
  await warehouse.execute(`CREATE TABLE ${t(db, stage)} AS ${t(db, ASSIGNMENTS_TABLE)}`);
  try {
    await warehouse.execute(`INSERT INTO ${t(db, stage)} ${assignmentsDeltaSql(db, config)}`,
      { day: date, day_start: clickhouseTime(start), day_end: clickhouseTime(start + DAY_MS) });
    const staged = await warehouse.query<{ n: string | number }>(`SELECT count() AS n FROM ${t(db, stage)}`);
    // ClickHouse refuses to replace a partition from an empty one; no rows for the day is a drop.
    await warehouse.execute(Number(staged[0]?.n ?? 0) > 0
      ? `ALTER TABLE ${t(db, ASSIGNMENTS_TABLE)} REPLACE PARTITION ID '${dayId(date)}' FROM ${t(db, stage)}`
      : `ALTER TABLE ${t(db, ASSIGNMENTS_TABLE)} DROP PARTITION ID '${dayId(date)}'`);
  } finally {
    await warehouse.execute(`DROP TABLE IF EXISTS ${t(db, stage)}`);
  }
}

/** Brings the assignments up to date for day D: creates the table, then each stale day in order. */
export async function updateAssignments(warehouse: StatementWarehouse, config: AbConfig, date: string): Promise<string[]> {
  await warehouse.execute(createAssignmentsSql(warehouse.database));
  const days = await staleDays(warehouse, config, date);
  for (const d of days) await refreshAssignmentDay(warehouse, config, d);
  return days;
}
