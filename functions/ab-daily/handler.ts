// Lambda entry point for the ab-daily job, on two EventBridge schedules: hourly for the current day's
// provisional results, and at 00:30 UTC for the previous day's final ones. Wiring only.
// An event may name the day: {"date": "YYYY-MM-DD"}.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { openAwsServices } from '../adapters/aws-services.js';
import { loadJob } from '../adapters/job-files.js';
import type { JobDefinition } from '../core/jobs/job.js';
import { runJobDay, type JobDeps } from '../core/jobs/run-job.js';
import { DAY_MS, dayWindow, windowStatus } from '../core/jobs/window.js';
import { readServicesEnvironment } from '../adapters/environment.js';
import { resolve } from 'node:path';

const logger = new Logger({ serviceName: 'tributary-ab-daily' });
const metrics = new Metrics({ namespace: 'Tributary', serviceName: 'tributary-ab-daily' });

let wiring: Promise<{ job: JobDefinition; deps: JobDeps }> | undefined;

async function build(): Promise<{ job: JobDefinition; deps: JobDeps }> {
  const aws = await openAwsServices(readServicesEnvironment(process.env));
  const jobsDir = resolve(process.env['LAMBDA_TASK_ROOT'] ?? '.', process.env['TRIBUTARY_JOBS_DIR'] ?? 'schemas/jobs');
  return { job: loadJob(jobsDir, 'ab-daily'), deps: { store: aws.store, catalog: aws.catalog, warehouse: aws.warehouse, registry: aws.registry(), clock: Date.now } };
}

/**
 * The days a run should compute: the one named in the event, or today (provisional) plus yesterday when its
 * window has closed and its lateness passed but it may still hold provisional rows.
 */
export function daysToRun(now: number, latenessMs: number, date?: string): string[] {
  if (date) return [dayWindow(date).date];
  const today = new Date(now).toISOString().slice(0, 10);
  const yesterday = new Date(now - DAY_MS).toISOString().slice(0, 10);
  // Final for yesterday once its lateness has passed (the 00:30 schedule), re-run hourly until then.
  return windowStatus(dayWindow(yesterday), now, latenessMs) === 'final' && now - dayWindow(today).start < 2 * 3_600_000
    ? [yesterday, today]
    : [today];
}

export const handler = async (event: { date?: string } | undefined): Promise<{ days: string[]; rows: number }> => {
  wiring ??= build().catch((err) => { wiring = undefined; throw err; });
  const { job, deps } = await wiring;
  try {
    const days = daysToRun(deps.clock(), job.latenessMs, event?.date);
    let rows = 0;
    for (const date of days) {
      for (const run of await runJobDay(job, date, deps)) {
        logger.info('window done', { ...run });
        metrics.addMetric(run.isFinal ? 'FinalWindows' : 'ProvisionalWindows', 'Count', 1);
        rows += run.rows;
      }
    }
    metrics.addMetric('ResultRows', 'Count', rows);
    return { days, rows };
  } catch (err) {
    logger.error('ab-daily failed; the next scheduled run retries the day', err as Error);
    metrics.addMetric('JobFailures', 'Count', 1);
    throw err;
  } finally {
    metrics.publishStoredMetrics();
  }
};
