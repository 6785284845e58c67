// Lambda entry point for the spool's materializer (EventBridge, every few minutes, reserved concurrency 1):
// wiring only; the work is in core/lake/materialize.ts (docs/lake.md#spool-writes).
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { GlueClient } from '@aws-sdk/client-glue';
import { S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { GLUE_CLIENT_CONFIG, GlueCatalog } from '../adapters/catalog/glue.js';
import { S3_CLIENT_CONFIG, S3Store } from '../adapters/object-store/s3.js';
import { materializeSpool, type MaterializeDeps } from '../core/lake/materialize.js';
import { readMaterializeEnvironment } from './config.js';

export const MATERIALIZE_SERVICE = 'tributary-materialize';
const logger = new Logger({ serviceName: MATERIALIZE_SERVICE });
const metrics = new Metrics({ namespace: 'Tributary', serviceName: MATERIALIZE_SERVICE });

let deps: MaterializeDeps | undefined;

function dependencies(): MaterializeDeps {
  if (deps) return deps;
  const env = readMaterializeEnvironment(process.env);
  deps = {
    store: new S3Store(new S3Client(S3_CLIENT_CONFIG), { bucket: env.bucket, ...(env.kmsKeyId ? { kmsKeyId: env.kmsKeyId } : {}) }),
    catalog: new GlueCatalog(new GlueClient(GLUE_CLIENT_CONFIG), env.glueDatabase),
    clock: Date.now,
    options: { maxSpoolsPerManifest: env.maxSpoolsPerManifest, leaseMs: env.leaseMs, deferMs: env.deferMs, owner: `lambda:${process.env['AWS_LAMBDA_LOG_STREAM_NAME'] ?? process.pid}` },
  };
  return deps;
}

/** Stops taking manifests with this much time left, so a started one can finish. */
const SAFETY_MARGIN_MS = 60_000;

export const handler = async (_event: unknown, context: Context): Promise<{ manifests: number; pending: number; deferred: number }> => {
  const d = dependencies();
  try {
    const report = await materializeSpool(d, { stopWhen: () => context.getRemainingTimeInMillis() < SAFETY_MARGIN_MS });
    const now = d.clock();
    const oldest = Math.min(...report.manifests.map((m) => m.oldestSpool ?? now));
    // The spool backlog's age: how long the oldest spool this run took had waited (0 with nothing to do).
    // Missing datapoints mean the schedule stopped running: the alarm treats them as breaching.
    metrics.addMetric('SpoolBacklogAge', MetricUnit.Seconds, Number.isFinite(oldest) ? Math.max(0, (now - oldest) / 1000) : 0);
    metrics.addMetric('SpoolObjectsPending', MetricUnit.Count, report.pending);
    metrics.addMetric('SpoolObjectsMaterialized', MetricUnit.Count, report.manifests.reduce((n, m) => n + m.spools, 0));
    metrics.addMetric('TablesDeferred', MetricUnit.Count, report.deferred);
    metrics.addMetric('LakeFilesWritten', MetricUnit.Count, report.manifests.reduce((n, m) => n + m.files.length, 0));
    metrics.addMetric('RowsMaterialized', MetricUnit.Count, report.manifests.reduce((n, m) => n + m.rowsWritten, 0));
    metrics.addMetric('RedeliveredRowsDropped', MetricUnit.Count, report.manifests.reduce((n, m) => n + m.rowsIn - m.rowsWritten, 0));
    logger.info('spool materialized', { outcome: report.outcome, pending: report.pending, manifests: report.manifests.map((m) => ({ id: m.id, spools: m.spools, rows: m.rowsWritten, files: m.files.length, resumed: m.resumed })) });
    return { manifests: report.manifests.length, pending: report.pending, deferred: report.deferred };
  } catch (err) {
    logger.error('materializing failed; the next scheduled run finishes its manifest', err as Error);
    metrics.addMetric('MaterializeFailures', MetricUnit.Count, 1);
    throw err;
  } finally {
    metrics.publishStoredMetrics();
  }
};
