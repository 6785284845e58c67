// `tributary jobs list`, `jobs show <job>` and `jobs check [job]`: the jobs of schemas/jobs/, their
// windows and runs, and every problem of their files (file:line: message) with ClickHouse's own parser.
import type { JobCatalog } from '../../adapters/job-files.js';
import { quoteIdentifier as q } from '../../core/identifiers.js';
import type { JobDefinition } from '../../core/jobs/job.js';
import { cadenceSchedule, nextRunAt, type CadenceSchedule } from '../../core/jobs/schedule.js';
import { formatProblem, type JobProblem } from '../../core/jobs/sql-job-file.js';
import { checkSqlJob } from '../../core/jobs/sql-job.js';
import type { JobDeps } from '../../core/jobs/run-job.js';
import { escapeValue, formatTable } from '../print.js';
import { UsageError } from '../errors.js';

const duration = (ms: number): string => (ms === 0 ? '0' : ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : ms % 60_000 === 0 ? `${ms / 60_000}m` : `${ms / 1000}s`);
const iso = (ms: number): string => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
const schedules = (jobs: Iterable<JobDefinition>): Map<string, CadenceSchedule> => {
  const all = [...jobs].filter((j) => j.name !== 'ab-daily');
  return new Map((['hourly', 'daily'] as const).map((c) => [c, cadenceSchedule(c, all.filter((j) => j.window === c).map((j) => j.latenessMs))]));
};

interface LastRun { window: string; computed_at: string | number; is_final: boolean | number; windows: string | number }

/** The latest window a job's output holds (undefined: never ran, or no rows yet). */
async function lastRun(job: JobDefinition, deps: JobDeps): Promise<LastRun | undefined> {
  const hour = job.window === 'hourly' ? ", 'T', leftPad(toString(hour), 2, '0')" : '';
  const exists = await deps.warehouse.query<{ n: string | number }>(
    'SELECT count() AS n FROM system.tables WHERE database = {db:String} AND name = {t:String}', { db: deps.warehouse.database, t: job.output.table });
  if (Number(exists[0]?.n ?? 0) === 0) return undefined; // never ran
  try {
    const rows = await deps.warehouse.query<LastRun>(
      `SELECT concat(toString(dt)${hour}) AS window, toUnixTimestamp64Milli(max(computed_at)) AS computed_at, min(is_final) AS is_final,
              (SELECT count() FROM (SELECT DISTINCT dt${job.window === 'hourly' ? ', hour' : ''} FROM ${q(deps.warehouse.database)}.${q(job.output.table)})) AS windows
       FROM ${q(deps.warehouse.database)}.${q(job.output.table)} GROUP BY window ORDER BY window DESC LIMIT 1`);
    return rows[0];
  } catch (e) {
    if (/UNKNOWN_TABLE|doesn't exist|does not exist/i.test((e as Error).message)) return undefined;
    throw e;
  }
}

/** One line per job: its window, lateness, output, last run and the next scheduled run (in a deployment). */
export async function jobsList(catalog: JobCatalog, deps: JobDeps): Promise<string> {
  const now = deps.clock();
  const plan = schedules(catalog.jobs.values());
  const rows = [];
  for (const job of catalog.jobs.values()) {
    const last = await lastRun(job, deps);
    rows.push({
      job: job.name, window: job.window, lateness: duration(job.latenessMs), output: job.output.table,
      'last run': last ? `${last.window} (${Number(last.windows)} window${Number(last.windows) === 1 ? '' : 's'} with rows; ${last.is_final === true || Number(last.is_final) === 1 ? 'final' : 'provisional'}, at ${iso(Number(last.computed_at))})` : 'never',
      // ab-daily has its own function: hourly at :05 (and its final run at 00:30)
      'next run': iso(job.name === 'ab-daily' ? Math.min(nextRunAt({ cadence: 'hourly', minute: 5 }, now), nextRunAt({ cadence: 'daily', hour: 0, minute: 30 }, now)) : nextRunAt(plan.get(job.window)!, now)),
    });
  }
  const lines = rows.length > 0 ? [formatTable(rows)] : ['No jobs: add <name>.sql to schemas/jobs/ (docs/jobs.md)'];
  if (catalog.problems.length > 0) lines.push('', `${catalog.problems.length} problem(s) in job files (not listed above):`, ...catalog.problems.map((p) => `  ${escapeValue(formatProblem(p))}`));
  lines.push('', `Next run: the deployment's schedules (hourly jobs at :${String(plan.get('hourly')!.minute).padStart(2, '0')}, daily ones at ${String(plan.get('daily')!.hour).padStart(2, '0')}:${String(plan.get('daily')!.minute).padStart(2, '0')} UTC); locally: tributary jobs run <job> --date D`);
  return lines.join('\n');
}

/** A job's definition, output columns and latest windows. */
export async function jobsShow(catalog: JobCatalog, name: string, deps: JobDeps): Promise<string> {
  const job = catalog.jobs.get(name);
  if (!job) {
    const own = catalog.problems.filter((p) => p.file.endsWith(`/${name}.sql`));
    throw new UsageError(own.length > 0 ? own.map(formatProblem).join('; ') : `unknown job ${JSON.stringify(name)} (known: ${[...catalog.jobs.keys()].join(', ') || 'none'})`);
  }
  const file = catalog.files.get(name);
  if (job.prepare) await job.prepare(deps);
  const lines = [
    `${job.name}${file ? ` (${file.file})` : ''}`,
    ...(file ? [`  description: ${file.description}`] : []),
    `  window: ${job.window}, lateness ${duration(job.latenessMs)}; final once a window ended and its lateness passed`,
    `  output: ${job.output.table} (lake/${job.output.table}/, catalog, ClickHouse ${deps.warehouse.database}.${job.output.table}), ordered by ${job.orderBy.join(', ')}`,
    `  reads: ${job.sources.join(', ') || '(nothing yet)'}`,
    ...(file ? [`  limits: max_rows ${file.maxRows.toLocaleString('en')} per window${file.maxBackfillDays ? `, max_backfill_days ${file.maxBackfillDays}` : ''}`] : []),
  ];
  const columns = await deps.warehouse.query<{ name: string; type: string }>(
    'SELECT name, type FROM system.columns WHERE database = {db:String} AND table = {t:String} ORDER BY position', { db: deps.warehouse.database, t: job.output.table });
  if (columns.length > 0) lines.push(`  columns: ${columns.map((c) => `${c.name} ${c.type}`).join(', ')}`);
  const last = await lastRun(job, deps);
  lines.push(`  last run: ${last ? `${last.window}, ${Number(last.windows)} window${Number(last.windows) === 1 ? '' : 's'} with rows` : 'never'}`);
  if (file) lines.push('', file.sql);
  return lines.join('\n');
}

/**
 * Every problem of the job files (or one job's), parse and engine alike; `ok` lines for the good ones.
 * Exit 2 when any problem is found.
 */
export async function jobsCheck(catalog: JobCatalog, deps: Pick<JobDeps, 'warehouse' | 'registry'>, only?: string): Promise<{ text: string; problems: number }> {
  const problems: JobProblem[] = catalog.problems.filter((p) => !only || p.file.endsWith(`/${only}.sql`) || (only === 'ab-daily' && p.file.endsWith('ab-daily.json')));
  const ok: string[] = [];
  if (only && !catalog.jobs.has(only) && problems.length === 0) throw new UsageError(`unknown job ${JSON.stringify(only)} (known: ${[...catalog.jobs.keys()].join(', ') || 'none'})`);
  for (const [name, file] of catalog.files) {
    if (only && name !== only) continue;
    const found = await checkSqlJob(file, deps);
    problems.push(...found);
    if (found.length === 0) ok.push(`ok ${name}: ${file.window}, lateness ${duration(file.latenessMs)}, output ${file.table}`);
  }
  if (catalog.jobs.has('ab-daily') && (!only || only === 'ab-daily')) ok.push('ok ab-daily: daily, configuration parsed');
  const text = [...ok, ...problems.map((p) => escapeValue(formatProblem(p)))].join('\n');
  return { text: problems.length > 0 ? `${text}\n${problems.length} problem(s)` : text, problems: problems.length };
}
