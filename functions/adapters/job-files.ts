// Job definitions from schemas/jobs/: configuration, not code. `<name>.sql` is a windowed job in SQL
// (functions/core/jobs/sql-job-file.ts); `ab-daily.json` configures the A/B job.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { abDailyJob } from '../core/ab/ab-daily-job.js';
import { AB_DAILY_TABLE } from '../core/ab/results.js';
import { ASSIGNMENTS_TABLE } from '../core/ab/assignments.js';
import { normaliseName, quoteIdentifier } from '../core/identifiers.js';
import { JobConfigError, parseAbConfig, type AbConfig } from '../core/ab/config.js';
import type { JobDefinition } from '../core/jobs/job.js';
import { formatProblem, parseSqlJobFile, type JobProblem, type SqlJobFile } from '../core/jobs/sql-job-file.js';
import { sqlJob } from '../core/jobs/sql-job.js';
import { cadenceSchedule, type CadenceSchedule } from '../core/jobs/schedule.js';

export const JOB_NAMES = ['ab-daily'] as const;
export type JobName = (typeof JOB_NAMES)[number];

/** The table each built-in job writes, by job name: what the stack grants each job's role. */
export const JOB_OUTPUT_TABLES: Readonly<Record<JobName, string>> = { 'ab-daily': AB_DAILY_TABLE.table };

export function loadAbConfig(dir: string): AbConfig {
  const file = join(dir, 'ab-daily.json');
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    // A file that is missing or unreadable is the outside world's failure (the CLI says which, exit 1); bad JSON is the config's.
    if (typeof (err as NodeJS.ErrnoException).code === 'string') throw err;
    throw new JobConfigError(`${file}: ${(err as Error).message}`);
  }
  return parseAbConfig(doc, file);
}

/** The SQL job files of a directory (none when it does not exist), sorted by name. */
export function sqlJobFiles(dir: string): string[] {
  try {
    return readdirSync(dir).filter((f) => f.endsWith('.sql')).sort().map((f) => join(dir, f));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** A SQL job file read and checked without an engine: the job, or its problems with their lines. */
export function readSqlJobFile(file: string): { job?: SqlJobFile; problems: JobProblem[] } {
  return parseSqlJobFile(file, basename(file, '.sql'), readFileSync(file, 'utf8'));
}

export interface JobCatalog {
  /** every job that parses, by name (ab-daily when its configuration is there) */
  readonly jobs: Map<string, JobDefinition>;
  /** the SQL job files that parse, by job name */
  readonly files: Map<string, SqlJobFile>;
  /** problems of files that do not parse (their jobs are absent from `jobs`) */
  readonly problems: JobProblem[];
}

/** Event tables declared beside the jobs (`schemas/events/<table>.json`), by table: their files. */
function declaredEventTables(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  try {
    for (const f of readdirSync(dir)) if (f.endsWith('.json')) out.set(normaliseName(basename(f, '.json')), join(dir, f));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return out;
}

/**
 * Every job of a directory. A broken file is reported, never silently skipped: callers decide to refuse.
 * A job whose output table is a declared event table (eventsDir, default the jobs dir's sibling `events/`)
 * or another job's is a problem; tables only the registry knows are checked against ClickHouse (sql-job.ts).
 */
export function loadJobs(dir: string, eventsDir = join(dirname(dir), 'events')): JobCatalog {
  const events = declaredEventTables(eventsDir);
  const jobs = new Map<string, JobDefinition>();
  const files = new Map<string, SqlJobFile>();
  const problems: JobProblem[] = [];
  try {
    jobs.set('ab-daily', abDailyJob(loadAbConfig(dir)));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      if (!(err instanceof JobConfigError)) throw err;
      problems.push({ file: join(dir, 'ab-daily.json'), line: 0, message: err.message.replace(/^.*?ab-daily\.json: /, '') });
    }
  }
  for (const file of sqlJobFiles(dir)) {
    const parsed = readSqlJobFile(file);
    problems.push(...parsed.problems);
    if (!parsed.job) continue;
    if (jobs.has(parsed.job.name)) { problems.push({ file, line: 0, message: `a job named ${parsed.job.name} already exists` }); continue; }
    const clash = [...files.values()].find((f) => f.table === parsed.job!.table) ?? (parsed.job.table === AB_DAILY_TABLE.table ? { file: 'ab-daily' } : undefined);
    if (clash) { problems.push({ file, line: 1, message: `its output table ${parsed.job.table} is also ${clash.file}'s: rename one of the files (a job's output is its name in snake_case)` }); continue; }
    const event = events.get(parsed.job.table);
    if (event) { problems.push({ file, line: 1, message: `its output table ${parsed.job.table} is the event table declared in ${event}: rename the job file (its name in snake_case is the output table)` }); continue; }
    files.set(parsed.job.name, parsed.job);
    jobs.set(parsed.job.name, sqlJob(parsed.job));
  }
  return { jobs, files, problems };
}

export function loadJob(dir: string, name: string, eventsDir?: string): JobDefinition {
  if (name === 'ab-daily') return abDailyJob(loadAbConfig(dir));
  const { jobs, problems } = eventsDir === undefined ? loadJobs(dir) : loadJobs(dir, eventsDir);
  const own = problems.filter((p) => basename(p.file, '.sql') === name);
  if (own.length > 0) throw new JobConfigError(`${own.map(formatProblem).join('; ')}`);
  const job = jobs.get(name);
  if (!job) throw new JobConfigError(`unknown job ${JSON.stringify(name)} (known: ${[...jobs.keys()].join(', ') || `none in ${dir}`})`);
  return job;
}

/** What the stack deploys for the SQL jobs of a directory: one schedule per cadence, and each job's output table. */
export interface JobDeployment {
  readonly schedules: ReadonlyArray<CadenceSchedule & { readonly jobs: readonly string[] }>;
  readonly outputTables: readonly string[];
}

/**
 * The SQL jobs' schedules as the CDK stack synthesizes them. A job file with a problem fails the synth
 * (naming file and line), so a broken job never deploys.
 */
export function jobDeployment(dir: string): JobDeployment {
  const { files, problems } = loadJobs(dir);
  if (problems.length > 0) throw new JobConfigError(`job files with problems (tributary jobs check):\n${problems.map(formatProblem).join('\n')}`);
  const jobs = [...files.values()];
  const schedules = (['hourly', 'daily'] as const).flatMap((cadence) => {
    const mine = jobs.filter((j) => j.window === cadence);
    return mine.length === 0 ? [] : [{ ...cadenceSchedule(cadence, mine.map((j) => j.latenessMs)), jobs: mine.map((j) => j.name) }];
  });
  return { schedules, outputTables: jobs.map((j) => j.table) };
}

/**
 * The jobs user's ClickHouse grants on the job output tables, generated from the job files: what grants.sql
 * no longer lists table by table, so a new job file needs no hand-written grant. A wildcard grant cannot
 * replace it: ClickHouse wildcards match a name prefix only and job outputs are named after their jobs, and
 * `tributary.*` would let the jobs user delete from event tables. Refuses (JobConfigError) job files with problems.
 */
export function jobGrants(dir: string, database = 'tributary', user = 'tributary_jobs'): string[] {
  const { jobs, files, problems } = loadJobs(dir);
  if (problems.length > 0) throw new JobConfigError(`job files with problems (tributary jobs check):\n${problems.map(formatProblem).join('\n')}`);
  const on = (table: string): string => `${quoteIdentifier(database)}.${quoteIdentifier(table)}`;
  const out: string[] = [];
  // ab-daily's tables keep their columns: no ALTER ADD COLUMN. Its assignments are its incremental state.
  if (jobs.has('ab-daily')) for (const t of [AB_DAILY_TABLE.table, ASSIGNMENTS_TABLE]) out.push(`GRANT CREATE TABLE, INSERT, ALTER DELETE ON ${on(t)} TO ${user}`);
  // SQL jobs' outputs also gain columns as their queries do.
  for (const f of files.values()) out.push(`GRANT CREATE TABLE, INSERT, ALTER DELETE, ALTER ADD COLUMN ON ${on(f.table)} TO ${user}`);
  return out;
}

/**
 * The tables jobs write, by table: the job. Ingest quarantines events of those names. Files with problems
 * are left out (the synth and `jobs check` refuse them); a missing directory has no jobs.
 */
export function jobOutputTables(dir: string, eventsDir?: string): Map<string, string> {
  const { jobs, files } = eventsDir === undefined ? loadJobs(dir) : loadJobs(dir, eventsDir);
  const out = new Map<string, string>();
  if (jobs.has('ab-daily')) for (const t of [AB_DAILY_TABLE.table, ASSIGNMENTS_TABLE]) out.set(t, 'ab-daily');
  for (const f of files.values()) out.set(f.table, f.name);
  return out;
}
