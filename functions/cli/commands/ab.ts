// `tributary ab list`: the experiments the exposure events name, with their variants, users and the days
// ab-daily has results for.
import type { AbConfig } from '../../core/ab/config.js';
import { ASSIGNMENTS_TABLE } from '../../core/ab/assignments.js';
import { abExperimentsSql } from '../../core/ab/query.js';
import type { Warehouse } from '../../core/ports.js';
import { escapeValue, formatTable } from '../print.js';

interface ExperimentRow { experiment_id: string; variant_list: string[]; users: string | number; crossovers: string | number; first: string; last: string }

export async function abList(warehouse: Warehouse, config: AbConfig): Promise<string> {
  const exists = async (t: string): Promise<boolean> => (await warehouse.query<{ n: number }>(
    'SELECT count() AS n FROM system.tables WHERE database = {db:String} AND name = {t:String}', { db: warehouse.database, t })).some((r) => Number(r.n) > 0);
  if (!(await exists(config.exposureEvent))) return `No experiments: no ${config.exposureEvent} events yet`;
  // The assignments table (ab-daily's incremental state) answers without reading every exposure.
  const rows = await warehouse.query<ExperimentRow>(abExperimentsSql(warehouse.database, config, (await exists(ASSIGNMENTS_TABLE)) ? 'assignments' : 'scan'));
  const days = new Map<string, { first: string; last: string; days: string | number }>();
  if (await exists('ab_daily')) {
    for (const d of await warehouse.query<{ experiment_id: string; first: string; last: string; days: string | number }>(
      `SELECT experiment_id, toString(min(dt)) AS first, toString(max(dt)) AS last, uniqExact(dt) AS days FROM ${warehouse.database}.ab_daily GROUP BY experiment_id`)) days.set(d.experiment_id, d);
  }
  if (rows.length === 0) return `No experiments: ${config.exposureEvent} has no experiment_id yet`;
  return formatTable(rows.map((r) => {
    const d = days.get(r.experiment_id);
    return {
      experiment: escapeValue(r.experiment_id),
      control: escapeValue(config.experiments[r.experiment_id]?.control ?? config.control),
      variants: r.variant_list.map(escapeValue).join(', '),
      users: Number(r.users), crossovers: Number(r.crossovers),
      exposures: `${r.first} … ${r.last}`,
      results: d ? `${Number(d.days)} days, ${d.first} … ${d.last}` : 'none (tributary jobs run ab-daily --date D)',
    };
  }));
}
