// The ab-daily job's configuration (schemas/jobs/ab-daily.json): which event assigns users, which metrics
// to compute and, optionally, per-experiment control names and expected traffic weights. No code per metric.
import { excerpt, isValidEventName, isValidPropertyName, normaliseName } from '../identifiers.js';

export type MetricType = 'conversion' | 'count' | 'sum';

export interface MetricDefinition {
  readonly name: string;
  readonly event: string;
  readonly type: MetricType;
  /** the numeric property summed by a `sum` metric */
  readonly value?: string;
}

export interface ExperimentSettings {
  readonly control?: string;
  readonly weights?: Readonly<Record<string, number>>;
}

export interface AbConfig {
  readonly exposureEvent: string;
  readonly control: string;
  readonly metrics: readonly MetricDefinition[];
  readonly experiments: Readonly<Record<string, ExperimentSettings>>;
  /** assignments from the incremental table (default) or from a scan of every exposure (`scan`) */
  readonly assignments?: 'incremental' | 'scan';
  /** the widest backfill accepted, in days (default and upper bound: MAX_BACKFILL_DAYS) */
  readonly maxBackfillDays?: number;
}

export class JobConfigError extends Error {
  override readonly name = 'JobConfigError';
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseAbConfig(doc: unknown, where = 'ab-daily'): AbConfig {
  const bad = (what: string): never => { throw new JobConfigError(`${where}: ${what}`); };
  if (!isObject(doc)) return bad('not a JSON object');
  const exposureEvent = normaliseName(String(doc['exposure_event'] ?? ''));
  if (!isValidEventName(exposureEvent)) bad(`exposure_event ${excerpt(String(doc['exposure_event']))} is not an event name`);
  const control = doc['control'] ?? 'control';
  if (typeof control !== 'string' || control === '') bad('control must be a variant name');
  if (!Array.isArray(doc['metrics']) || doc['metrics'].length === 0) bad('metrics must be a non-empty array');
  const names = new Set<string>();
  const metrics = (doc['metrics'] as unknown[]).map((m, i): MetricDefinition => {
    if (!isObject(m)) return bad(`metrics[${i}] is not an object`);
    const name = String(m['name'] ?? '');
    if (!isValidPropertyName(name)) bad(`metrics[${i}].name ${excerpt(name)} must match ^[a-z][a-z0-9_]{0,127}$`);
    if (names.has(name)) bad(`metric ${name} is defined twice`);
    names.add(name);
    const event = normaliseName(String(m['event'] ?? ''));
    if (!isValidEventName(event)) bad(`metric ${name}: event ${excerpt(String(m['event']))} is not an event name`);
    const type = m['type'];
    if (type !== 'conversion' && type !== 'count' && type !== 'sum') bad(`metric ${name}: type must be conversion, count or sum`);
    if (type === 'sum') {
      const value = normaliseName(String(m['value'] ?? ''));
      if (!isValidPropertyName(value)) bad(`metric ${name}: a sum needs "value", the numeric property to add up`);
      return { name, event, type, value };
    }
    return { name, event, type: type as MetricType };
  });
  const experiments: Record<string, ExperimentSettings> = {};
  const exps = doc['experiments'] ?? {};
  if (!isObject(exps)) bad('experiments must be an object keyed by experiment_id');
  for (const [id, s] of Object.entries(exps as Record<string, unknown>)) {
    if (!isObject(s)) bad(`experiments.${id} must be an object`);
    const settings = s as Record<string, unknown>;
    if (settings['control'] !== undefined && (typeof settings['control'] !== 'string' || settings['control'] === '')) bad(`experiments.${id}.control must be a variant name`);
    const weights = settings['weights'];
    if (weights !== undefined) {
      if (!isObject(weights) || Object.values(weights).some((w) => typeof w !== 'number' || !(w > 0))) bad(`experiments.${id}.weights must map variants to positive numbers`);
    }
    experiments[id] = {
      ...(settings['control'] ? { control: settings['control'] as string } : {}),
      ...(weights ? { weights: weights as Record<string, number> } : {}),
    };
  }
  const assignments = doc['assignments'];
  if (assignments !== undefined && assignments !== 'incremental' && assignments !== 'scan') bad('assignments must be "incremental" or "scan"');
  const maxBackfillDays = doc['max_backfill_days'];
  if (maxBackfillDays !== undefined && !(Number.isInteger(maxBackfillDays) && (maxBackfillDays as number) >= 1)) bad('max_backfill_days must be a whole number ≥ 1');
  return {
    exposureEvent, control: control as string, metrics, experiments,
    ...(assignments !== undefined ? { assignments: assignments as 'incremental' | 'scan' } : {}),
    ...(maxBackfillDays !== undefined ? { maxBackfillDays: maxBackfillDays as number } : {}),
  };
}

export const controlOf = (config: AbConfig, experiment: string): string => config.experiments[experiment]?.control ?? config.control;
