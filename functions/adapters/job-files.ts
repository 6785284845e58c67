// Job definitions from schemas/jobs/*.json: configuration, not code. Each file names a known job kind.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { abDailyJob } from '../core/ab/ab-daily-job.js';
import { AB_DAILY_TABLE } from '../core/ab/results.js';
import { JobConfigError, parseAbConfig, type AbConfig } from '../core/ab/config.js';
import type { JobDefinition } from '../core/jobs/job.js';

export const JOB_NAMES = ['ab-daily'] as const;
export type JobName = (typeof JOB_NAMES)[number];

/** The table each job writes, by job name: what the stack grants each job's role. */
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

export function loadJob(dir: string, name: string): JobDefinition {
  if (name !== 'ab-daily') throw new JobConfigError(`unknown job ${JSON.stringify(name)} (known: ${JOB_NAMES.join(', ')})`);
  return abDailyJob(loadAbConfig(dir));
}
