// ab_daily rows from the aggregates ClickHouse returns: per-variant moments, lifts against the control with
// Welch statistics, and per-experiment SRM and crossovers. Pure.
import type { CellValue } from '../batch/coerce.js';
import type { DerivedTable } from '../ports.js';
import { column, type ColumnSpec, type ColumnType } from '../schema/model.js';
import { controlOf, type AbConfig } from './config.js';
import { mean, srmPValue, variance, welch, type Moments } from './stats.js';

const col = (name: string, type: ColumnType, nullable: boolean, description: string): ColumnSpec => column(name, type, nullable, description, 'declared');

export const AB_DAILY_COLUMNS: readonly ColumnSpec[] = [
  col('experiment_id', 'string', false, 'Experiment'),
  col('variant', 'string', false, 'Variant (assignment = first exposure)'),
  col('metric', 'string', false, 'Metric name from schemas/jobs/ab-daily.json'),
  col('units', 'int64', false, 'Users assigned to the variant up to the end of dt (crossovers excluded)'),
  col('total', 'double', false, 'Σ per-user metric values'),
  col('total_sq', 'double', false, 'Σ squared per-user metric values'),
  col('mean', 'double', true, 'Mean per-user value'),
  col('variance', 'double', true, 'Sample variance (n − 1) of per-user values'),
  col('control_variant', 'string', true, 'The control this row is compared with (NULL on the control row)'),
  col('abs_lift', 'double', true, 'mean − control mean'),
  col('rel_lift', 'double', true, 'abs_lift / control mean'),
  col('ci_low', 'double', true, '95 % confidence interval of abs_lift, low (Welch)'),
  col('ci_high', 'double', true, '95 % confidence interval of abs_lift, high (Welch)'),
  col('p_value', 'double', true, 'Two-sided Welch t-test of per-user values against the control'),
  col('srm_p_value', 'double', true, 'Sample-ratio mismatch: chi-square of units per variant against the expected split'),
  col('crossover_users', 'int64', false, 'Users exposed to more than one variant (excluded)'),
  col('is_final', 'boolean', false, 'false for provisional results of a day still open or within its lateness'),
  col('computed_at', 'timestamp', false, 'When this row was computed'),
];

export const AB_DAILY_PARTITION: ColumnSpec = col('dt', 'date', false, 'Analysed day (UTC): cumulative from the first exposure to the end of dt');

export const AB_DAILY_TABLE: DerivedTable = {
  table: 'ab_daily',
  columns: AB_DAILY_COLUMNS,
  partitionKeys: [AB_DAILY_PARTITION],
  description: 'Daily cumulative A/B results (job ab-daily)',
};

export interface VariantAggregate extends Moments {
  readonly experiment: string;
  readonly variant: string;
  readonly metric: string;
}

export interface AbRow {
  readonly experiment_id: string;
  readonly variant: string;
  readonly metric: string;
  readonly units: number;
  readonly total: number;
  readonly total_sq: number;
  readonly mean: number | null;
  readonly variance: number | null;
  readonly control_variant: string | null;
  readonly abs_lift: number | null;
  readonly rel_lift: number | null;
  readonly ci_low: number | null;
  readonly ci_high: number | null;
  readonly p_value: number | null;
  readonly srm_p_value: number | null;
  readonly crossover_users: number;
  readonly is_final: boolean;
  readonly computed_at: number;
}

export function abRows(aggregates: readonly VariantAggregate[], crossovers: ReadonlyMap<string, number>, config: AbConfig, o: { isFinal: boolean; computedAt: number }): AbRow[] {
  const byExperiment = new Map<string, VariantAggregate[]>();
  for (const a of aggregates) (byExperiment.get(a.experiment) ?? byExperiment.set(a.experiment, []).get(a.experiment)!).push(a);
  const rows: AbRow[] = [];
  for (const [experiment, list] of [...byExperiment].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const control = controlOf(config, experiment);
    // Every metric counts every assigned user, so any metric's units are the variant's users.
    const units = new Map<string, number>();
    for (const a of list) units.set(a.variant, Math.max(units.get(a.variant) ?? 0, a.units));
    const srm = srmPValue(units, config.experiments[experiment]?.weights);
    const controls = new Map(list.filter((a) => a.variant === control).map((a) => [a.metric, a]));
    for (const a of [...list].sort((x, y) => (x.variant === y.variant ? (x.metric < y.metric ? -1 : 1) : x.variant < y.variant ? -1 : 1))) {
      const isControl = a.variant === control;
      const c = controls.get(a.metric);
      const w = !isControl && c ? welch(a, c) : undefined;
      rows.push({
        experiment_id: experiment, variant: a.variant, metric: a.metric,
        units: a.units, total: a.total, total_sq: a.totalSq, mean: mean(a), variance: variance(a),
        control_variant: isControl ? null : control,
        abs_lift: w?.absLift ?? null, rel_lift: w?.relLift ?? null, ci_low: w?.ciLow ?? null, ci_high: w?.ciHigh ?? null, p_value: w?.pValue ?? null,
        srm_p_value: srm, crossover_users: crossovers.get(experiment) ?? 0,
        is_final: o.isFinal, computed_at: o.computedAt,
      });
    }
  }
  return rows;
}

/** Rows in the column order of AB_DAILY_COLUMNS (the job runner adds dt). */
export function abCells(rows: readonly AbRow[]): CellValue[][] {
  return rows.map((r) => AB_DAILY_COLUMNS.map((c) => r[c.name as keyof AbRow] as CellValue));
}
