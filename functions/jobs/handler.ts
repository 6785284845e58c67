// Lambda entry point for the SQL jobs of schemas/jobs/ (bundled with the function): one EventBridge schedule
// per cadence, each run computing every due window of that cadence's jobs (provisional while open or
// within lateness, once more when final). Wiring only. An event may name a job and a day instead:
// {"job": "daily-revenue", "date": "YYYY-MM-DD"}.
import { resolve } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { openAwsServices } from '../adapters/aws-services.js';
import { readServicesEnvironment } from '../adapters/environment.js';
import { loadJobs, type JobCatalog } from '../adapters/job-files.js';
import { runJobDay, type JobDeps } from '../core/jobs/run-job.js';
import { runDueWindows } from '../core/jobs/schedule.js';
import type { WindowKind } from '../core/jobs/window.js';

const logger = new Logger({ serviceName: 'tributary-jobs' });
const metrics = new Metrics({ namespace: 'Tributary', serviceName: 'tributary-jobs' });

let wiring: Promise<{ catalog: JobCatalog; deps: JobDeps }> | undefined;

async function build(): Promise<{ catalog: JobCatalog; deps: JobDeps }> {
  const aws = await openAwsServices(readServicesEnvironment(process.env));
  const catalog = loadJobs(resolve(process.env['LAMBDA_TASK_ROOT'] ?? '.', process.env['TRIBUTARY_JOBS_DIR'] ?? 'schemas/jobs'));
  // The stack refuses to deploy a broken job file; this catches a bundle that differs from what was synthesized.
  for (const p of catalog.problems) logger.error('job file problem', { ...p });
  return { catalog, deps: { store: aws.store, catalog: aws.catalog, warehouse: aws.warehouse, registry: aws.registry(), clock: Date.now } };
}

export const handler = async (event: { cadence?: WindowKind; job?: string; date?: string } | undefined): Promise<{ windows: number; failed: number }> => {
  wiring ??= build().catch((err) => { wiring = undefined; throw err; });
  const { catalog, deps } = await wiring;
  try {
    // ab-daily has its own function and schedules; this one runs the SQL jobs.
    const sqlJobs = [...catalog.files.keys()].map((name) => catalog.jobs.get(name)!);
    let runs;
    let failures: Array<{ job: string; window?: string; error: string }> = [];
    if (event?.job) {
      const job = sqlJobs.find((j) => j.name === event.job);
      if (!job) throw new Error(`no SQL job ${JSON.stringify(event.job)} in this deployment (${sqlJobs.map((j) => j.name).join(', ')})`);
      if (!event.date) throw new Error('an event naming a job needs its date: {"job": "…", "date": "YYYY-MM-DD"}');
      runs = await runJobDay(job, event.date, deps);
    } else {
      ({ runs, failures } = await runDueWindows(sqlJobs.filter((j) => j.window === (event?.cadence ?? 'hourly')), deps));
    }
    for (const run of runs) {
      logger.info('window done', { ...run });
      metrics.addMetric(run.isFinal ? 'FinalWindows' : 'ProvisionalWindows', MetricUnit.Count, 1);
    }
    for (const f of failures) logger.error('job failed; the next scheduled run retries its windows', { ...f });
    metrics.addMetric('JobFailures', MetricUnit.Count, failures.length);
    // A failed job fails the invocation: the function's Errors alarm pages, the other jobs' windows are done.
    if (failures.length > 0) throw new Error(`${failures.length} job(s) failed: ${failures.map((f) => `${f.job} ${f.window ?? ''}: ${f.error}`).join('; ')}`);
    return { windows: runs.length, failed: 0 };
  } finally {
    metrics.publishStoredMetrics();
  }
};
