// Lambda entry point for the MSK event source mapping: wiring only; the work is in core/ingest.ts.
import { dirname, join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { openIngestServices, secretValue } from '../adapters/aws-services.js';
import { SchemaFiles } from '../adapters/schema-files.js';
import { jobOutputTables } from '../adapters/job-files.js';
import { readIngestEnvironment } from '../adapters/environment.js';
import { ingestServiceName, publishIngestReport } from '../adapters/telemetry.js';
import { ingestBatch, type IngestDeps } from '../core/ingest.js';
import type { MskEvent } from '../core/decode/msk-event.js';

// Each path publishes under its own service (tributary-ingest, -lake, -fresh): split's two paths see the
// same records, and one service would count every table twice on the dashboard.
const service = ingestServiceName(process.env['TRIBUTARY_SINKS']);
const logger = new Logger({ serviceName: service });
const metrics = new Metrics({ namespace: 'Tributary', serviceName: service });

let deps: Promise<IngestDeps> | undefined;

/** Built once per container: clients keep their connections and the catalog its partition cache. */
function dependencies(): Promise<IngestDeps> {
  deps ??= build().catch((err) => {
    deps = undefined; // a failed cold start (a secret not readable yet) is retried by the next invocation
    throw err;
  });
  return deps;
}

async function build(): Promise<IngestDeps> {
  const env = readIngestEnvironment(process.env);
  const [aws, piiSalt] = await Promise.all([openIngestServices(env), secretValue(env.piiSalt)]);
  return {
    store: aws.store,
    catalog: aws.catalog,
    warehouse: aws.warehouse,
    // Declared files ship with the function; pushed schemas are read from the bucket after the TTL.
    registry: aws.registry({ ttlMs: env.registryTtlMs, declared: SchemaFiles.load(env.schemasDir) }),
    clock: Date.now,
    config: {
      piiSalt, maxNewColumnsPerHour: env.maxNewColumnsPerHour, maxColumnsPerTable: env.maxColumnsPerTable,
      maxNewTablesPerBatch: env.maxNewTablesPerBatch, maxFilesPerBatch: env.maxFilesPerBatch, sinks: env.sinks, lakeWrites: env.lakeWrites,
      // The job files ship beside the event schemas in every bundle (infra/functions.ts): their outputs are no event's.
      jobOutputs: jobOutputTables(join(dirname(env.schemasDir), 'jobs'), env.schemasDir),
    },
  };
}

/**
 * Returns normally only when every record is stored or quarantined. Any infrastructure error throws, so
 * the event source mapping retries the whole batch; deterministic keys and dedup tokens make that safe.
 */
export const handler = async (event: MskEvent): Promise<{ stored: number; quarantined: number }> => {
  try {
    const report = await ingestBatch(event, await dependencies());
    publishIngestReport(report, metrics, logger);
    for (const problem of report.schemaProblems) logger.warn('declared schema not applied', { problem });
    return { stored: report.stored, quarantined: report.quarantined };
  } catch (err) {
    logger.error('batch failed; the event source mapping will retry it', err as Error);
    metrics.addMetric('BatchFailures', 'Count', 1);
    throw err;
  } finally {
    metrics.publishStoredMetrics();
  }
};
