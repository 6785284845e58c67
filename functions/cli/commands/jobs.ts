// `tributary jobs run <job> --date D`, `tributary jobs backfill <job> --from D --to D` and
// `tributary ab report --experiment E [--date D] [--out report.html]`.
import { writeFileSync } from 'node:fs';
import { textReport, type ReportRow } from '../../core/ab/report.js';
import { abReportPage } from '../ab-report-page.js';
import type { JobDefinition } from '../../core/jobs/job.js';
import { runJobDay, type JobDeps, type WindowRun } from '../../core/jobs/run-job.js';
import { planBackfill } from '../../core/jobs/backfill.js';
import { dayWindow } from '../../core/jobs/window.js';
import type { Warehouse } from '../../core/ports.js';
import { escapeValue, formatTable } from '../print.js';
import { UsageError } from '../errors.js';

export function describeRun(r: WindowRun): string {
  return `${r.job} ${r.window}: ${r.isFinal ? 'final' : 'provisional'}, ${r.rows} rows in ${r.seconds.toFixed(1)} s → ${r.key} and ClickHouse (window replaced)`;
}

/**
 * Runs every day from `from` to `to` (both included) in order, drawing a progress bar on a terminal (a line
 * per day otherwise); a day that fails does not stop the others.
 */
export async function backfill(job: JobDefinition, from: string, to: string, deps: JobDeps, err: NodeJS.WriteStream = process.stderr): Promise<{ report: string; failed: number }> {
  await job.prepare?.(deps); // a SQL job learns the tables it reads (their first data bounds the range)
  const plan = await planBackfill(job, from, to, deps.warehouse, deps.clock());
  const { dates } = plan;
  const runs: WindowRun[] = [];
  const failures: Array<{ date: string; error: string }> = [];
  const started = performance.now();
  for (const [i, date] of dates.entries()) {
    try {
      runs.push(...(await runJobDay(job, date, deps)));
    } catch (e) {
      failures.push({ date, error: (e as Error).message });
    }
    const done = i + 1;
    if (err.isTTY) {
      const width = 30;
      const filled = Math.round((done / dates.length) * width);
      err.write(`\r${job.name} [${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${done}/${dates.length} ${date}`);
      if (done === dates.length) err.write('\n');
    } else {
      err.write(`${job.name} ${done}/${dates.length} ${date} ${failures.at(-1)?.date === date ? 'FAILED' : 'ok'}\n`);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const lines = [`${job.name}: ${dates.length - failures.length} of ${dates.length} days (${runs.length} windows) from ${from} to ${to} in ${seconds.toFixed(1)} s ` +
    `(${runs.filter((r) => r.isFinal).length} final, ${runs.filter((r) => !r.isFinal).length} provisional, ${runs.reduce((n, r) => n + r.rows, 0)} rows, ${failures.length} failed)`];
  const skipped = [
    plan.skippedBeforeData > 0 && `${plan.skippedBeforeData} before ${plan.firstDataDay ? `the first day with data in ${job.sources.join(', ')} (${plan.firstDataDay})` : `any data in ${job.sources.join(', ')}`}`,
    plan.skippedFuture > 0 && `${plan.skippedFuture} not started yet`,
  ].filter(Boolean);
  if (skipped.length > 0) lines.push(`Skipped ${skipped.join(' and ')}: nothing to compute, no partition written`);
  if (failures.length > 0) lines.push(formatTable(failures));
  return { report: lines.join('\n'), failed: failures.length };
}

interface StoredRow extends Omit<ReportRow, 'dt' | 'units' | 'crossover_users'> { day: string; units: string | number; crossover_users: string | number }

/** The experiment's rows up to a day (default: its latest), as text, and optionally a self-contained HTML file. */
export async function abReport(warehouse: Warehouse, experiment: string, options: { date?: string; out?: string; requireResults?: boolean } = {}): Promise<string> {
  if (options.date) dayWindow(options.date); // validates
  const rows = (await warehouse.query<StoredRow>(
    `SELECT toString(dt) AS day, experiment_id, variant, metric, units, mean, control_variant, abs_lift, rel_lift, ci_low, ci_high, p_value, srm_p_value, crossover_users, is_final
     FROM ${warehouse.database}.ab_daily WHERE experiment_id = {experiment:String} ${options.date ? 'AND dt <= {date:Date}' : ''} ORDER BY dt, metric, variant`,
    { experiment, ...(options.date ? { date: options.date } : {}) },
  ).catch((e: Error) => { if (/UNKNOWN_TABLE|doesn't exist|does not exist/i.test(e.message)) return []; throw e; }))
    .map(({ day, ...r }) => ({ ...r, dt: day, units: Number(r.units), crossover_users: Number(r.crossover_users) }));
  if (rows.length === 0) {
    const message = await noResults(warehouse, experiment, options.date);
    // `ab report` asked for this experiment and got nothing: a usage error naming what exists (exit 2).
    if (options.requireResults) throw new UsageError(message);
    return message;
  }
  const last = rows.at(-1)!.dt;
  const day = rows.filter((r) => r.dt === last);
  // Experiment, variant and metric names come from event data: escaped for the terminal (the HTML escapes its own).
  const text = textReport(escapeValue(experiment), day.map((r) => ({
    ...r, variant: escapeValue(r.variant), metric: escapeValue(r.metric), control_variant: r.control_variant === null ? null : escapeValue(r.control_variant),
  })));
  if (!options.out) return text;
  writeFileSync(options.out, abReportPage(experiment, rows, day));
  return `${text}\n\nHTML report: ${options.out}`;
}

/** Why an experiment has no rows, and what does exist: the experiments with results, or how to make some. */
async function noResults(warehouse: Warehouse, experiment: string, date: string | undefined): Promise<string> {
  const known = await warehouse.query<{ experiment_id: string; first: string }>(
    `SELECT experiment_id, toString(min(dt)) AS first FROM ${warehouse.database}.ab_daily GROUP BY experiment_id ORDER BY experiment_id`,
  ).catch(() => []);
  const asked = `No ab_daily results for experiment ${JSON.stringify(escapeValue(experiment))}`;
  const self = known.find((k) => k.experiment_id === experiment);
  if (self && date) return `${asked} up to ${date}: its first day is ${self.first}`;
  if (known.length > 0) return `${asked}. Experiments with results: ${known.map((k) => escapeValue(k.experiment_id)).join(', ')}`;
  return `${asked}: ab_daily has no results yet. Run: tributary jobs run ab-daily --date YYYY-MM-DD (on data from npm start or tributary ingest)`;
}
